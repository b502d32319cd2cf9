/**
 * The GPU GEMV schedule ('gpu') in Kernel IR, for decode (M <= maxRows rows): the semantics of gpuMatmulKernel
 * (C = epilogue(A @ W^T), W [N, K] in its storage type). A workgroup of `threads` owns `colsPerGroup` output
 * columns for up to maxRows rows, so W's rows are read once for all those rows. With more threads than columns,
 * threads / colsPerGroup consecutive threads split the K range of one column (thread s of the group takes K
 * positions 4s, 4s + 4S, ... as f32x4: consecutive threads read consecutive memory) and their partial sums meet
 * in a fixed binary tree in workgroup memory, so the result does not depend on timing. With at least as many
 * columns as threads, each thread owns whole columns and no barrier is needed (what CPU-emulated GPUs want:
 * a barrier there switches every SIMD batch of the workgroup).
 */
import { add, assign, barrier, binary, block, decl, div, f32, fma, gid, global, iff, lid, load, lt, min, mul, param, range, rem, shared, splat, store, sub, v } from '../../dsl.js';
import type { Kernel, KNode } from '../../ir.js';
import type { GemvSchedule } from '../../target.js';
import { aRowOf, epilogueStore, type GpuLinearSpec, laneSum, linearBuffers } from './matmul.js';

export type GpuGemvSchedule = Extract<GemvSchedule, { kind: 'gpu' }>;

export interface GpuGemvSpec extends GpuLinearSpec {
  readonly schedule: GpuGemvSchedule;
  /** Rows per workgroup (default schedule.maxRows): 1 for single-token decode, where more rows only repeat row 0. */
  readonly rows?: number;
}

/** Grid for M rows: x over column groups, y over blocks of rows. */
export function gpuGemvGrid(spec: GpuGemvSpec, m: number): [number, number, number] {
  return [Math.ceil(spec.n / spec.schedule.colsPerGroup), Math.max(1, Math.ceil(m / (spec.rows ?? spec.schedule.maxRows))), 1];
}

export function gpuGemvKernel(spec: GpuGemvSpec): Kernel {
  const s = spec.schedule;
  const { k: K, n: N } = spec;
  const T = s.threads;
  const C = s.colsPerGroup;
  const R = spec.rows ?? s.maxRows;
  if (s.kind !== 'gpu') throw new Error(`gpu gemv '${spec.name}': schedule ${String(s.kind)} is not 'gpu'`);
  if (!Number.isInteger(R) || R < 1) throw new Error(`gpu gemv '${spec.name}': ${R} rows per workgroup`);
  // S threads per column (a power of two: the reduction tree), each owning `per` columns.
  const S = T > C ? T / C : 1;
  const per = T > C ? 1 : C / T;
  if (!Number.isInteger(S) || !Number.isInteger(per) || !Number.isInteger(Math.log2(S)))
    throw new Error(`gpu gemv '${spec.name}': ${T} threads and ${C} columns per group: one must divide the other, with a power-of-two quotient of threads per column`);
  const M = param('M');
  const t = lid(0);
  const row0 = mul(gid(1), R);
  const rows = Array.from({ length: R }, (_, r) => r);
  const cols = Array.from({ length: per }, (_, j) => j);
  const k4 = K - (K % 4);
  const stmts: KNode[] = [decl('ks', rem(t, S)), decl('col0', add(mul(gid(0), C), mul(div(t, S), per)))];
  const colOf = (j: number): KNode => add(v('col0'), j);
  for (const r of rows) stmts.push(decl(`pa${r}`, mul(aRowOf(spec, min(add(row0, r), sub(M, 1))), K)));
  for (const j of cols) stmts.push(decl(`pw${j}`, mul(min(colOf(j), N - 1), K)));
  for (const r of rows) for (const j of cols) stmts.push(decl(`acc${r}_${j}`, splat(f32(0))));
  if (k4 > 0)
    stmts.push(
      range('kk', mul(v('ks'), 4), k4, [
        ...rows.map((r) => decl(`av${r}`, load(global('a'), add(v(`pa${r}`), v('kk')), 'f32x4'))),
        ...cols.map((j) => decl(`wv${j}`, load(global('w'), add(v(`pw${j}`), v('kk')), 'f32x4'))),
        ...rows.flatMap((r) => cols.map((j) => assign(`acc${r}_${j}`, fma(v(`av${r}`, 'f32x4'), v(`wv${j}`, 'f32x4'), v(`acc${r}_${j}`, 'f32x4'))))),
      ], 4 * S),
    );
  for (const r of rows) for (const j of cols) stmts.push(decl(`p${r}_${j}`, laneSum(v(`acc${r}_${j}`, 'f32x4'))));
  if (K % 4 !== 0)
    stmts.push(
      range('kt', add(v('ks'), k4), K, rows.flatMap((r) => cols.map((j) =>
        assign(`p${r}_${j}`, fma(load(global('a'), add(v(`pa${r}`), v('kt'))), load(global('w'), add(v(`pw${j}`), v('kt'))), v(`p${r}_${j}`, 'f32'))))), S),
    );
  const shared_: Kernel['shared'] = S > 1 ? [{ name: 'partial', elem: 'f32', length: R * T }] : [];
  if (S > 1) {
    // partial[r * T + t]: thread t's sum for row r; the S threads of a column are consecutive.
    for (const r of rows) stmts.push(store(shared('partial'), add(r * T, t), v(`p${r}_0`, 'f32')));
    stmts.push(barrier());
    for (let half = S / 2; half >= 1; half /= 2)
      stmts.push(
        iff(lt(v('ks'), half), rows.map((r) => {
          const at = add(r * T, t);
          return store(shared('partial'), at, add(load(shared('partial'), at), load(shared('partial'), add(at, half))));
        })),
        barrier(),
      );
    // The first thread of each column takes the column's total.
    for (const r of rows) stmts.push(assign(`p${r}_0`, load(shared('partial'), add(r * T, t))));
  }
  for (const r of rows)
    for (const j of cols) {
      const row = add(row0, r);
      const owner = S > 1 ? binary('and', lt(v('ks'), 1), lt(row, M)) : lt(row, M);
      stmts.push(iff(binary('and', owner, lt(colOf(j), N)), epilogueStore(spec, v(`p${r}_${j}`, 'f32'), row, colOf(j), `${r}_${j}`)));
    }
  return { name: spec.name, buffers: linearBuffers(spec), params: [{ name: 'M', type: 'i32' }], shared: shared_, privates: [], threads: T, body: block(...stmts) };
}

