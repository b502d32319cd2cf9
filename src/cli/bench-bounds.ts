/**
 * The machine's own bounds, measured in the same run as a benchmark so that its figures read as fractions of
 * what this machine can do at this moment (other processes share the cores): a 128-bit FMA peak (the widest
 * vector Wasm SIMD has) and a read bandwidth of memory far larger than the last-level cache, both on the
 * benchmark's thread count. The probe is C compiled by the machine's gcc into a temporary directory at bench
 * time; without gcc, the same two loops run as Wasm kernels on the Wasm device.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { KernelRunner } from '../backends/wasm/kernel-runner.js';
import { add, assign, block, decl, f32, fma, gid, global, i32, load, mul, range, splat, store, v } from '../kernel/dsl.js';
import type { Kernel, KNode } from '../kernel/ir.js';
import { type Spread, spread } from './bench-util.js';

/**
 * Two probes in one program: `fma THREADS ITERS` runs 12 independent chains of 4-lane float FMAs per thread
 * (more than latency x ports of any current core); `read THREADS MB PASSES` sums a buffer of MB megabytes,
 * each thread its own contiguous part, 8 accumulators of 32-byte vectors. Each prints one time per pass.
 */
const PROBE_C = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef float v4 __attribute__((vector_size(16)));
typedef float v8 __attribute__((vector_size(32)));
static int threads; static long iters; static size_t elems; static v8 *buf; static pthread_barrier_t bar;
static volatile float sink;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static void *fma_thread(void *arg) {
  (void)arg;
  v4 m = {1.0000001f, 0.9999999f, 1.0000002f, 0.9999998f}, c = {1e-7f, 2e-7f, 3e-7f, 4e-7f};
  v4 a0 = {0, 1, 2, 3}, a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5;
  v4 a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11;
  pthread_barrier_wait(&bar);
  for (long it = 0; it < iters; it++) {
    a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c; a4 = a4 * m + c; a5 = a5 * m + c;
    a6 = a6 * m + c; a7 = a7 * m + c; a8 = a8 * m + c; a9 = a9 * m + c; a10 = a10 * m + c; a11 = a11 * m + c;
  }
  v4 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
  sink = s[0] + s[1] + s[2] + s[3];
  pthread_barrier_wait(&bar);
  return 0;
}
static void *read_thread(void *arg) {
  long t = (long)arg; size_t per = elems / threads; const v8 *p = buf + per * t;
  v8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
  pthread_barrier_wait(&bar);
  for (size_t i = 0; i + 8 <= per; i += 8) {
    s0 += p[i]; s1 += p[i + 1]; s2 += p[i + 2]; s3 += p[i + 3]; s4 += p[i + 4]; s5 += p[i + 5]; s6 += p[i + 6]; s7 += p[i + 7];
  }
  v8 r = s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
  sink = r[0] + r[7];
  pthread_barrier_wait(&bar);
  return 0;
}
static double run(void *(*f)(void *)) {
  pthread_t th[64]; pthread_barrier_init(&bar, 0, threads + 1);
  for (long t = 0; t < threads; t++) pthread_create(&th[t], 0, f, (void *)t);
  pthread_barrier_wait(&bar); double t0 = now(); pthread_barrier_wait(&bar); double t1 = now();
  for (int t = 0; t < threads; t++) pthread_join(th[t], 0);
  pthread_barrier_destroy(&bar);
  return t1 - t0;
}
int main(int argc, char **argv) {
  if (argc < 4) return 2;
  threads = atoi(argv[2]); if (threads < 1 || threads > 64) return 2;
  if (!strcmp(argv[1], "fma")) {
    iters = atol(argv[3]);
    for (int r = 0; r < 5; r++) printf("%.9f\n", run(fma_thread));
    return 0;
  }
  long mb = atol(argv[3]); int passes = argc > 4 ? atoi(argv[4]) : 5;
  elems = (size_t)mb * 1048576 / sizeof(v8);
  if (posix_memalign((void **)&buf, 64, elems * sizeof(v8))) return 3;
  for (size_t i = 0; i < elems; i++) buf[i] = (v8){1, 1, 1, 1, 1, 1, 1, 1};
  for (int r = 0; r < passes; r++) printf("%.9f\n", run(read_thread));
  return 0;
}
`;

export interface Bounds {
  /** Where the numbers come from ('gcc 12.2.0 -O2 -march=native' or 'wasm kernels (no gcc)'). */
  readonly source: string;
  readonly threads: number;
  /** 128-bit FMA peak, GFLOP/s over repeats. */
  readonly fmaGflops: Spread;
  /** Read bandwidth of a buffer of `readMiB` MiB, GB/s (1e9 bytes) over repeats. */
  readonly readGBs: Spread;
  readonly readMiB: number;
  /** The 1, 5 and 15 minute load averages when the probes ran. */
  readonly load: readonly number[];
}

const FMA_ITERS = 20_000_000;
const READ_MIB = 512;

function cProbe(threads: number): Bounds | string {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'modc-bounds-'));
    const src = join(dir, 'probe.c');
    const exe = join(dir, 'probe');
    writeFileSync(src, PROBE_C);
    const flags = ['-O2', '-march=native', '-ffp-contract=fast', '-pthread'];
    execFileSync('gcc', [...flags, '-o', exe, src], { stdio: ['ignore', 'ignore', 'pipe'] });
    const version = execFileSync('gcc', ['-dumpfullversion'], { encoding: 'utf8' }).trim();
    const times = (args: string[]): number[] => execFileSync(exe, args, { encoding: 'utf8' }).trim().split('\n').map(Number);
    const fmaFlops = threads * FMA_ITERS * 12 * 4 * 2;
    const fma = times(['fma', String(threads), String(FMA_ITERS)]).map((s) => fmaFlops / s / 1e9);
    const read = times(['read', String(threads), String(READ_MIB), '7']).map((s) => (READ_MIB * 2 ** 20) / s / 1e9);
    return { source: `gcc ${version} ${flags.join(' ')}`, threads, fmaGflops: spread(fma), readGBs: spread(read.slice(1)), readMiB: READ_MIB, load: loadavg() };
  } catch (e) {
    return `gcc probe failed: ${(e as Error).message.split('\n')[0] ?? ''}`;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** 12 chains of f32x4 FMAs per workgroup, `iters` steps; one workgroup per thread. */
function fmaKernel(iters: number): Kernel {
  const chains = Array.from({ length: 12 }, (_, i) => i);
  return {
    name: 'probe_fma',
    buffers: [{ name: 'out', elem: 'f32', access: 'write' }],
    params: [],
    shared: [],
    privates: [],
    threads: 1,
    body: block(
      ...chains.map((i) => decl(`a${i}`, splat(f32(i)))),
      decl('m', splat(f32(1.0000001))),
      decl('c', splat(f32(1e-7))),
      range('it', 0, iters, chains.map((i) => assign(`a${i}`, fma(v(`a${i}`, 'f32x4'), v('m', 'f32x4'), v('c', 'f32x4'))))),
      store(global('out'), mul(gid(0), 4), chains.slice(1).reduce<KNode>((s, i) => add(s, v(`a${i}`, 'f32x4')), v('a0', 'f32x4'))),
    ),
  };
}

/** Each workgroup sums its contiguous part of `x` with 8 f32x4 accumulators. */
function readKernel(elemsPerGroup: number): Kernel {
  const accs = Array.from({ length: 8 }, (_, i) => i);
  return {
    name: 'probe_read',
    buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }],
    params: [],
    shared: [],
    privates: [],
    threads: 1,
    body: block(
      ...accs.map((i) => decl(`s${i}`, splat(f32(0)))),
      decl('base', mul(gid(0), elemsPerGroup)),
      range('i', 0, elemsPerGroup, accs.map((j) => assign(`s${j}`, add(v(`s${j}`, 'f32x4'), load(global('x'), add(add(v('base'), v('i')), i32(4 * j)), 'f32x4')))), 32),
      store(global('out'), mul(gid(0), 4), accs.slice(1).reduce<KNode>((s, i) => add(s, v(`s${i}`, 'f32x4')), v('s0', 'f32x4'))),
    ),
  };
}

/** The Wasm form of the probes, when there is no C compiler: what Wasm SIMD reaches on this machine. */
async function wasmProbe(threads: number, why: string): Promise<Bounds> {
  const runner = new KernelRunner(threads);
  try {
    const iters = 5_000_000;
    const out = new Float32Array(4 * threads);
    const fma: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      runner.run(fmaKernel(iters), { out }, {}, [threads, 1, 1]);
      fma.push((threads * iters * 12 * 8) / (performance.now() - t0) / 1e6);
    }
    // KernelRunner copies buffers in and out: time a kernel that reads the buffer several times per copy.
    const mib = 256;
    const elems = (mib * 2 ** 20) / 4;
    const x = new Float32Array(elems).fill(1);
    const groups = threads * 8;
    const read: number[] = [];
    const k = readKernel(elems / groups);
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      runner.run(k, { x, out: new Float32Array(4 * groups) }, {}, [groups, 1, 1]);
      read.push((mib * 2 ** 20) / (performance.now() - t0) / 1e6);
    }
    return { source: `wasm kernels (${why}; read figures include the copies in and out, so they are low)`, threads, fmaGflops: spread(fma), readGBs: spread(read), readMiB: mib, load: loadavg() };
  } finally {
    await runner.dispose();
  }
}

/** Measures the bounds on `threads` threads (C when gcc works, else Wasm). */
export async function measureBounds(threads: number): Promise<Bounds> {
  const c = cProbe(threads);
  return typeof c === 'string' ? wasmProbe(threads, c) : c;
}

/** Bounds measured before and after a benchmark, as one: the mean of their medians (the load may change between). */
export function meanBounds(a: Bounds, b: Bounds): Bounds {
  const mid = (x: Spread, y: Spread): Spread => ({ n: x.n + y.n, median: (x.median + y.median) / 2, mean: (x.mean + y.mean) / 2, min: Math.min(x.min, y.min), max: Math.max(x.max, y.max) });
  return { ...a, fmaGflops: mid(a.fmaGflops, b.fmaGflops), readGBs: mid(a.readGBs, b.readGBs) };
}

export function formatBounds(b: Bounds): string {
  return (
    `bounds on ${b.threads} thread${b.threads === 1 ? '' : 's'} (${b.source}; load ${b.load.map((x) => x.toFixed(2)).join(' ')}): ` +
    `128-bit FMA ${b.fmaGflops.median.toFixed(1)} GFLOP/s [${b.fmaGflops.min.toFixed(1)}-${b.fmaGflops.max.toFixed(1)}], ` +
    `read ${b.readGBs.median.toFixed(1)} GB/s [${b.readGBs.min.toFixed(1)}-${b.readGBs.max.toFixed(1)}] of ${b.readMiB} MiB`
  );
}

/** `x` as a percentage of `of` ('63%'). */
export const pct = (x: number, of: number): string => `${((100 * x) / of).toFixed(0)}%`;
