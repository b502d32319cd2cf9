/**
 * The CPU matrix-vector builder for decode (a few rows of A against a weight): the same buffers, packed panels,
 * params and epilogue chain as the matmul builder (matmul.ts), so lowering can pick either for a weight that both
 * prefill and decode read, and the weight is packed once. A matmul register block of 6 rows reads each B vector
 * into 6 FMAs; with one row it degenerates into one dependent FMA chain per column vector, latency-bound at
 * about a third of the memory bandwidth. Here every row streams each panel once from start to end (one
 * sequential read per thread, what hardware prefetchers follow best) into `sets` independent accumulator sets
 * over consecutive K values, so enough FMAs are in flight to keep up with memory; the sets meet once per panel.
 */
import { add, assign, cmp, decl, f32, fma, gid, global, i32, iff, lane, load, lt, min, mul, range, splat, store, sub, v } from '../dsl.js';
import type { Kernel, KNode } from '../ir.js';
import { applyEpilogue, bRowElems, bVectorLoads, matmulBuffers, type MatmulSpec } from './matmul.js';

/** A GEMV of `rows` rows (the M of every dispatch of this kernel). */
export interface GemvSpec extends MatmulSpec {
  readonly rows: number;
}

/**
 * Accumulator sets per row: at most 8 accumulator vectors in all and at most 2 sets, a divisor of the unroll.
 * Measured at 1x4096x4096 (K unrolled by 4, 2 threads, all variants resident, runs alternating): 2 sets of 2
 * vectors streamed bf16 weights at 41.4 GB/s against 37.4 with 4 sets unrolled by 8 (f32 43.6-43.9 both), and 4
 * sets unrolled by 4 were slower again; with 2 rows, 2 sets (8 vectors) beat 1 set (22.3 vs 17.8 GB/s bf16).
 */
export function gemvSets(rows: number, nrVec: number, unroll: number): number {
  let sets = Math.min(2, Math.max(1, Math.floor(8 / Math.max(1, rows * nrVec))));
  while (sets > 1 && unroll % sets !== 0) sets--;
  return sets;
}

/** One workgroup per `tiling.panels` panels; all rows in every workgroup. */
export function gemvGrid(spec: GemvSpec): [number, number, number] {
  const nr = 4 * spec.tiling.nrVec;
  return [Math.ceil(Math.ceil(spec.n / nr) / spec.tiling.panels), 1, 1];
}

/**
 * Buffers and params as matmulKernel (param M is the row count, equal to `rows`). The tiling's nrVec must be the
 * matmul's (the panel layout); `panels` panels per workgroup, K unrolled by `unroll`, A read four K values per
 * vector load when `aVector`; mr, mc and kc do not apply (no register block over rows, no K blocking).
 */
export function gemvKernel(spec: GemvSpec): Kernel {
  const { k: K, n: N, tiling: t, rows } = spec;
  if (spec.rmsnormEps !== undefined) throw new Error(`gemv '${spec.name}': no RMSNorm prologue (lowering normalises the rows first)`);
  if (rows < 1) throw new Error(`gemv '${spec.name}': needs at least one row`);
  const { nrVec, panels, unroll } = t;
  const nr = 4 * nrVec;
  const nPanels = Math.ceil(N / nr);
  const sets = gemvSets(rows, nrVec, unroll);
  const bRow = bRowElems(spec);
  const vectorA = t.aVector === true && unroll % 4 === 0;
  const ldc = spec.ldc ?? N;
  const cCol0 = spec.cCol0 ?? 0;
  const R = Array.from({ length: rows }, (_, r) => r);
  const C = Array.from({ length: nrVec }, (_, c) => c);
  const S = Array.from({ length: sets }, (_, s) => s);
  const acc = (r: number, c: number, s: number): string => `acc${r}_${c}_${s}`;
  const f4 = (name: string): KNode => v(name, 'f32x4');

  const step = (u: number, into: number, useVectorA: boolean): KNode[] => {
    const out: KNode[] = [];
    if (useVectorA && u % 4 === 0) for (const r of R) out.push(decl(`av${r}_${u}`, load(global('a'), add(v(`pa${r}`), u), 'f32x4')));
    out.push(...bVectorLoads(spec, u));
    for (const r of R) {
      out.push(decl(`a${r}_${u}`, useVectorA ? splat(lane(f4(`av${r}_${u - (u % 4)}`), u % 4)) : splat(load(global('a'), add(v(`pa${r}`), u)))));
      for (const c of C) out.push(assign(acc(r, c, into), fma(f4(`a${r}_${u}`), f4(`b${c}_${u}`), f4(acc(r, c, into)))));
    }
    return out;
  };
  const advance = (by: number): KNode[] => [...R.map((r) => assign(`pa${r}`, add(v(`pa${r}`), by))), assign('pb', add(v('pb'), by * bRow))];
  const kMain = K - (K % unroll);

  const aRowBase = (r: number): KNode => mul(spec.gatherA ? load(global('aRows'), i32(r), 'i32') : i32(r), K);
  const panel = v('p');
  const body: KNode[] = [
    decl('p', add(mul(gid(0), panels), v('pi'))),
    ...R.flatMap((r) => C.flatMap((c) => S.map((s) => decl(acc(r, c, s), splat(f32(0)))))),
    ...R.map((r) => decl(`pa${r}`, aRowBase(r))),
    decl('pb', mul(panel, K * bRow)),
    range('kk', 0, kMain, [...Array.from({ length: unroll }, (_, u) => step(u, u % sets, vectorA)).flat(), ...advance(unroll)], unroll),
    ...(kMain < K ? [range('kr', kMain, K, [...step(0, 0, false), ...advance(1)])] : []),
  ];
  // The sets meet in a fixed order, then the epilogue of each row and column vector.
  for (const r of R) {
    const orow = spec.scatterC ? load(global('cRows'), i32(r), 'i32') : i32(r);
    body.push(decl(`orow${r}`, add(mul(orow, ldc), cCol0)));
    for (const c of C) {
      let x: KNode = f4(acc(r, c, 0));
      for (const s of S.slice(1)) x = add(x, f4(acc(r, c, s)));
      const col = add(mul(panel, nr), c * 4);
      for (const e of spec.epilogue) x = applyEpilogue(e, x, i32(r), col, ldc, cCol0);
      const idx = add(v(`orow${r}`), col);
      const name = `o${r}_${c}`;
      body.push(decl(name, x));
      const full = store(global('c'), idx, f4(name));
      if (N % nr === 0) body.push(full);
      else
        body.push(iff(cmp('le', add(col, 4), N), full, [0, 1, 2, 3].map((l) => iff(lt(add(col, l), N), store(global('c'), add(idx, l), lane(f4(name), l))))));
    }
  }
  const panelCount = min(panels, sub(nPanels, mul(gid(0), panels)));
  return {
    name: spec.name,
    buffers: matmulBuffers(spec),
    params: [{ name: 'M', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: range('pi', 0, panelCount, body),
  };
}
