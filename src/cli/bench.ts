/**
 * `modc bench`: performance measurements (medians of repeated runs), printed side by side with the peers.
 * matmul: GFLOP/s of modc-wasm next to onnxruntime-web, jax-js and tfjs-wasm in this process.
 * prefill: p-MoD vs dense prefill of a LLaVA-like model on wasm. layer: one decoder layer vs onnxruntime-web.
 */
import { relaxedSimdAvailable } from '../backends/wasm/features.js';
import { WasmGemm } from '../backends/wasm/gemm.js';
import { choiceOpt, flag, intOpt, parse, strOpt, UsageError } from './args.js';
import { statusLine } from '../io/progress.js';
import type { CommandIO } from './main.js';
import { type Bounds, formatBounds, meanBounds, measureBounds, pct } from './bench-bounds.js';
import { prefillBench, PREFILL_HELP } from './bench-prefill.js';
import { layerBench, LAYER_HELP } from './bench-layer.js';
import { decodeBench, DECODE_HELP } from './bench-decode.js';
import { coldBench, COLD_HELP } from './bench-cold.js';
import { formatSpread, median, spread, timesMs } from './bench-util.js';
import { loadText } from './bench-load.js';

export const BENCH_HELP = `usage: modc bench <matmul|prefill|decode|layer|cold> [options]

  modc bench matmul --m M --k K --n N [--threads T] [--dtype f32|bf16] [--repeat R] [--engines modc-wasm,onnxruntime-web,...] [--skip-bounds] [--json]
      matmul C = A @ W^T: modc-wasm (the Target's GEMV builder for M <= 4, its matmul builder above) and the
      WebAssembly peers (onnxruntime-web, jax-js, tfjs-wasm; f32 weights) in the same process, median [range]
      of R runs, next to the machine's 128-bit FMA peak and read bandwidth measured in the same run (GFLOP/s
      as a fraction of the FMA peak, weight bytes per second as a fraction of the read bandwidth); a peer that
      cannot run here is listed as unavailable with the reason. --dtype bf16 stores modc's weight as bf16.
${PREFILL_HELP}
${DECODE_HELP}
${LAYER_HELP}
${COLD_HELP}`;

export interface MatmulResult {
  readonly engine: string;
  readonly threads: number;
  readonly m: number;
  readonly k: number;
  readonly n: number;
  /** The weight's storage dtype. */
  readonly dtype: 'f32' | 'bf16';
  /** modc's builder ('gemv' or 'matmul'). */
  readonly builder?: string;
  /** Median GFLOP/s and ms, the ms of every run, and weight bytes per second (GB/s) at the median. */
  readonly gflops?: number;
  readonly ms?: number;
  readonly msRuns?: readonly number[];
  readonly weightGBs?: number;
  readonly unavailable?: string;
}

function seeded(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

interface PeerModule {
  MATMUL_PEERS: readonly {
    engine: string;
    threads: (t: number) => string | undefined;
    prepare(m: number, k: number, n: number, t: number, a: Float32Array, b: Float32Array): Promise<{ run(): Promise<void>; dispose(): Promise<void> }>;
  }[];
}

/** The peers live in bench/ (devDependencies); without them each is reported unavailable. */
async function loadPeers(): Promise<PeerModule | string> {
  try {
    const url = new URL('../../bench/peers.js', import.meta.url);
    return (await import(url.href)) as PeerModule;
  } catch (e) {
    return `benchmark peers not installed (${(e as Error).message.split('\n')[0] ?? ''})`;
  }
}

export async function matmulBench(m: number, k: number, n: number, threads: number, repeat: number, log: (s: string) => void = () => undefined, dtype: 'f32' | 'bf16' = 'f32', only?: readonly string[]): Promise<MatmulResult[]> {
  const results: MatmulResult[] = [];
  const flops = 2 * m * k * n;
  const a = seeded(m * k, 1);
  const bKN = seeded(k * n, 2);
  const rate = (engine: string, dt: 'f32' | 'bf16', times: readonly number[], builder?: string): MatmulResult => {
    const ms = median(times);
    const r = { engine, threads, m, k, n, dtype: dt, ...(builder ? { builder } : {}), ms, msRuns: times, gflops: flops / ms / 1e6, weightGBs: (k * n * (dt === 'f32' ? 4 : 2)) / ms / 1e6 };
    log(`${engine} ${threads}T ${m}x${k}x${n} ${dt}: ${r.gflops.toFixed(1)} GFLOP/s, ${r.weightGBs.toFixed(1)} GB/s of weights`);
    return r;
  };
  // modc-wasm: weights in PyTorch Linear layout W [n, k] (W^T = B), packed once at prepare time.
  const w = new Float32Array(n * k);
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) w[j * k + p] = bKN[p * n + j] ?? 0;
  const gemm = new WasmGemm({ threads });
  try {
    const r = gemm.prepare(m, k, n, w, dtype);
    r.a.set(a);
    results.push(rate('modc-wasm', dtype, await timesMs(() => r.run(), repeat), r.builder));
    r.dispose();
  } finally {
    await gemm.dispose();
  }
  const peers = await loadPeers();
  const engines = (typeof peers === 'string' ? ['onnxruntime-web', 'jax-js', 'tfjs-wasm'] : peers.MATMUL_PEERS.map((p) => p.engine)).filter((e) => only === undefined || only.includes(e));
  for (const engine of engines) {
    const peer = typeof peers === 'string' ? undefined : peers.MATMUL_PEERS.find((p) => p.engine === engine);
    const why = typeof peers === 'string' ? peers : peer?.threads(threads);
    if (why !== undefined || peer === undefined) {
      results.push({ engine, threads, m, k, n, dtype: 'f32', unavailable: why ?? 'not found' });
      continue;
    }
    try {
      const r = await peer.prepare(m, k, n, threads, a, bKN);
      const times = await timesMs(() => r.run(), repeat);
      await r.dispose();
      results.push(rate(engine, 'f32', times));
    } catch (e) {
      results.push({ engine, threads, m, k, n, dtype: 'f32', unavailable: `failed: ${(e as Error).message.split('\n')[0] ?? ''}` });
    }
  }
  return results;
}

export function formatMatmul(results: readonly MatmulResult[], bounds?: Bounds): string {
  const rows = results.map((r) => {
    const head = `${r.engine.padEnd(16)} ${String(r.threads).padStart(2)}T  ${`${r.m}x${r.k}x${r.n}`.padEnd(16)} ${r.dtype.padEnd(4)} `;
    if (r.gflops === undefined || r.ms === undefined) return `${head} unavailable: ${r.unavailable ?? ''}`;
    const s = spread(r.msRuns ?? [r.ms]);
    const of = bounds ? ` = ${pct(r.gflops, bounds.fmaGflops.median)} of FMA peak, ${pct(r.weightGBs ?? 0, bounds.readGBs.median)} of read bandwidth` : '';
    return `${head}${r.gflops.toFixed(1).padStart(7)} GFLOP/s ${(r.weightGBs ?? 0).toFixed(1).padStart(6)} GB/s  ${formatSpread(s, 2)} ms${r.builder ? ` (${r.builder})` : ''}${of}`;
  });
  return rows.join('\n');
}

export async function benchCommand(argv: readonly string[], out: (s: string) => void, io: Pick<CommandIO, 'progress'>): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    out(BENCH_HELP);
    return sub === undefined ? 2 : 0;
  }
  // Benchmarks take minutes: on a terminal a status line shows they are running (and the latest result).
  const help = rest.some((a) => a === '--help' || a === '-h');
  const status = statusLine(io.progress, `bench ${sub}`, !help && io.progress.isTTY === true);
  try {
    return await benchSubcommand(sub, rest, out, status.update);
  } finally {
    status.done();
  }
}

async function benchSubcommand(sub: string, rest: readonly string[], out: (s: string) => void, log: (s: string) => void): Promise<number> {
  if (sub === 'prefill') return prefillBench(rest, out);
  if (sub === 'layer') return layerBench(rest, out);
  if (sub === 'decode') return decodeBench(rest, out);
  if (sub === 'cold') return coldBench(rest, out);
  if (sub !== 'matmul') throw new UsageError(`unknown benchmark '${sub}' (matmul, prefill, decode, layer, cold)`);
  const p = parse(rest, {
    m: { type: 'string' }, k: { type: 'string' }, n: { type: 'string' }, threads: { type: 'string' }, repeat: { type: 'string' }, dtype: { type: 'string' }, engines: { type: 'string' },
    'skip-bounds': { type: 'boolean' }, json: { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    out(BENCH_HELP);
    return 0;
  }
  const [m, k, n] = [intOpt(p, 'm', 256, 1), intOpt(p, 'k', 256, 1), intOpt(p, 'n', 256, 1)];
  const threads = intOpt(p, 'threads', 1, 1);
  const dtype = choiceOpt(p, 'dtype', ['f32', 'bf16'] as const, 'f32');
  const repeat = intOpt(p, 'repeat', m * k * n > 1e9 ? 5 : 9, 1);
  const fma = relaxedSimdAvailable();
  const withBounds = !flag(p, 'skip-bounds');
  const before = withBounds ? await measureBounds(threads) : undefined;
  const engines = strOpt(p, 'engines')?.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  const results = await matmulBench(m, k, n, threads, repeat, log, dtype, engines);
  const after = withBounds ? await measureBounds(threads) : undefined;
  const bounds = before && after ? meanBounds(before, after) : undefined;
  if (flag(p, 'json')) out(JSON.stringify({ relaxedSimd: fma, repeat, results, ...(before && after ? { bounds: { before, after } } : {}) }, null, 2));
  else
    out(
      `matmul, median [range] of ${repeat} runs, relaxed-SIMD FMA ${fma ? 'on' : 'off'}, ${loadText()}\n` +
        (before && after ? `${formatBounds(before)}\n${formatBounds(after)}\n` : '') +
        formatMatmul(results, bounds),
    );
  return 0;
}
