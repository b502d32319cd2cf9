/**
 * The GPU GEMV schedule ('gpu') in Kernel IR, for decode (M <= maxRows rows): the semantics of gpuMatmulKernel
 * (C = epilogue(A @ W^T), W [N, K] in its storage type). A workgroup of `threads` owns `colsPerGroup` output
 * columns for up to maxRows rows: W's rows are read once for all those rows, K is split over the threads
 * (thread t takes K positions 4t, 4t + 4*threads, ... as f32x4), and the partial sums meet in a fixed tree in
 * workgroup memory, so the result does not depend on timing. Consecutive threads read consecutive K positions.
 */
import { add, assign, barrier, binary, block, decl, div, f32, fma, gid, global, iff, lid, load, lt, min, mul, param, range, rem, shared, splat, store, sub, v } from '../../dsl.js';
import type { Kernel, KNode } from '../../ir.js';
import type { GemvSchedule } from '../../target.js';
import { aRowOf, epilogueStore, type GpuLinearSpec, laneSum, linearBuffers } from './matmul.js';

export type GpuGemvSchedule = Extract<GemvSchedule, { kind: 'gpu' }>;

export interface GpuGemvSpec extends GpuLinearSpec {
  readonly schedule: GpuGemvSchedule;
}

/** Grid for M rows: x over column groups, y over blocks of maxRows rows. */
export function gpuGemvGrid(spec: GpuGemvSpec, m: number): [number, number, number] {
  return [Math.ceil(spec.n / spec.schedule.colsPerGroup), Math.max(1, Math.ceil(m / spec.schedule.maxRows)), 1];
}

export function gpuGemvKernel(spec: GpuGemvSpec): Kernel {
  const s = spec.schedule;
  const { k: K, n: N } = spec;
  const T = s.threads;
  if (s.kind !== 'gpu') throw new Error(`gpu gemv '${spec.name}': schedule ${String(s.kind)} is not 'gpu'`);
  if (!Number.isInteger(Math.log2(T))) throw new Error(`gpu gemv '${spec.name}': ${T} threads is not a power of two (the reduction is a binary tree)`);
  const R = s.maxRows;
  const C = s.colsPerGroup;
  const M = param('M');
  const t = lid(0);
  const row0 = mul(gid(1), R);
  const col0 = mul(gid(0), C);
  const rows = Array.from({ length: R }, (_, r) => r);
  const cols = Array.from({ length: C }, (_, c) => c);
  const slot = (r: number, c: number): number => r * C + c;
  const k4 = K - (K % 4);
  const stmts: KNode[] = [];
  for (const r of rows) stmts.push(decl(`pa${r}`, mul(aRowOf(spec, min(add(row0, r), sub(M, 1))), K)));
  for (const c of cols) stmts.push(decl(`pw${c}`, mul(min(add(col0, c), N - 1), K)));
  for (const r of rows) for (const c of cols) stmts.push(decl(`acc${r}_${c}`, splat(f32(0))));
  if (k4 > 0)
    stmts.push(
      range('kk', mul(t, 4), k4, [
        ...rows.map((r) => decl(`av${r}`, load(global('a'), add(v(`pa${r}`), v('kk')), 'f32x4'))),
        ...cols.map((c) => decl(`wv${c}`, load(global('w'), add(v(`pw${c}`), v('kk')), 'f32x4'))),
        ...rows.flatMap((r) => cols.map((c) => assign(`acc${r}_${c}`, fma(v(`av${r}`, 'f32x4'), v(`wv${c}`, 'f32x4'), v(`acc${r}_${c}`, 'f32x4'))))),
      ], 4 * T),
    );
  for (const r of rows) for (const c of cols) stmts.push(decl(`p${r}_${c}`, laneSum(v(`acc${r}_${c}`, 'f32x4'))));
  if (K % 4 !== 0)
    stmts.push(
      range('kt', add(t, k4), K, rows.flatMap((r) => cols.map((c) =>
        assign(`p${r}_${c}`, fma(load(global('a'), add(v(`pa${r}`), v('kt'))), load(global('w'), add(v(`pw${c}`), v('kt'))), v(`p${r}_${c}`, 'f32'))))), T),
    );
  for (const r of rows) for (const c of cols) stmts.push(store(shared('partial'), add(slot(r, c) * T, t), v(`p${r}_${c}`, 'f32')));
  stmts.push(barrier());
  for (let half = T / 2; half >= 1; half /= 2) {
    stmts.push(
      iff(lt(t, half), rows.flatMap((r) => cols.map((c) => {
        const at = add(slot(r, c) * T, t);
        return store(shared('partial'), at, add(load(shared('partial'), at), load(shared('partial'), add(at, half))));
      }))),
      barrier(),
    );
  }
  // Thread q finishes output (row q / C, column q % C) of the group.
  stmts.push(
    range('q', t, R * C, [
      decl('row', add(row0, div(v('q'), C))),
      decl('col', add(col0, rem(v('q'), C))),
      iff(binary('and', lt(v('row'), M), lt(v('col'), N)), epilogueStore(spec, load(shared('partial'), mul(v('q'), T)), v('row'), v('col'), '')),
    ], T),
  );
  return {
    name: spec.name,
    buffers: linearBuffers(spec),
    params: [{ name: 'M', type: 'i32' }],
    shared: [{ name: 'partial', elem: 'f32', length: R * C * T }],
    privates: [],
    threads: T,
    body: block(...stmts),
  };
}
