/**
 * The GPU matmul schedule ('gpu-tiled') in Kernel IR, for every GPU renderer (WGSL, PTX): C = epilogue(A @ W^T)
 * with W a PyTorch Linear weight [N, K] row-major in its checkpoint storage type (f32 / f16 / bf16) and A f32
 * [rows, K], the semantics of `matmulKernel` (builders/matmul.ts) without the packing: optional gather of A rows,
 * scatter of C rows, the output window ldc / cCol0 and the same epilogue chain. A workgroup computes a
 * tileM x tileN block of C; each thread a register tile of rm x rn outputs (rows tr + i*ty, columns tc + j*tx:
 * neighbouring threads take neighbouring columns). A and W are both K-contiguous, so the register path reads
 * 4 K values per vector load into scalar accumulators (f32x4 partial sums would need four times the registers:
 * slower on llvmpipe); `sharedTiles` stages tileK slices of A and W through workgroup memory instead.
 * Accumulation is f32, sequential over K.
 */
import {
  add, assign, barrier, binary, block, decl, div, f32, fma, gid, global, iff, lane, lid, load, lt, min, mul, param, range, rem, select, shared,
  store, sub, unary, v,
} from '../../dsl.js';
import type { ArrayDecl, BufferDecl, ElemType, Kernel, KNode } from '../../ir.js';
import type { MatmulSchedule } from '../../target.js';
import type { MatmulEpilogue } from '../matmul.js';

export type GpuTiledSchedule = Extract<MatmulSchedule, { kind: 'gpu-tiled' }>;

/** What GPU matmul and GEMV kernels share: the operation, independent of the schedule. */
export interface GpuLinearSpec {
  readonly name: string;
  readonly k: number;
  readonly n: number;
  /** Storage type of W [n, k] (the checkpoint's dtype). */
  readonly wElem: 'f32' | 'f16' | 'bf16';
  /** A rows come from a[aRows[r]]. */
  readonly gatherA?: boolean;
  /** C rows go to c[cRows[r]]. */
  readonly scatterC?: boolean;
  /** C and 'binary' epilogue operands are [rows, ldc], this matmul's columns from cCol0 (defaults n, 0). */
  readonly ldc?: number;
  readonly cCol0?: number;
  readonly epilogue: readonly MatmulEpilogue[];
}

export interface GpuMatmulSpec extends GpuLinearSpec {
  readonly schedule: GpuTiledSchedule;
}

/** Buffers a, w, c, aRows, cRows (when used) and the epilogue's operands, as matmulKernel declares them. */
export function linearBuffers(spec: GpuLinearSpec): BufferDecl[] {
  const buffers: BufferDecl[] = [
    { name: 'a', elem: 'f32', access: 'read' },
    { name: 'w', elem: spec.wElem, access: 'read' },
    { name: 'c', elem: 'f32', access: spec.epilogue.some((e) => e.kind === 'binary' && e.buffer === 'c') ? 'readwrite' : 'write' },
  ];
  if (spec.gatherA) buffers.push({ name: 'aRows', elem: 'i32', access: 'read' });
  if (spec.scatterC || spec.epilogue.some((e) => (e.kind === 'rowScale' || e.kind === 'binary') && e.mapped)) buffers.push({ name: 'cRows', elem: 'i32', access: 'read' });
  for (const e of spec.epilogue)
    if ((e.kind === 'bias' || e.kind === 'rowScale' || e.kind === 'binary') && !buffers.some((b) => b.name === e.buffer))
      buffers.push({ name: e.buffer, elem: e.kind === 'bias' ? ((e.elem ?? 'f32') as ElemType) : 'f32', access: 'read' });
  return buffers;
}

/** The row of A that computed row `r` reads. */
export const aRowOf = (spec: GpuLinearSpec, r: KNode): KNode => (spec.gatherA ? load(global('aRows'), r, 'i32') : r);

/**
 * Applies the epilogue to one output value and stores it: x at computed row `row` (< M) and column `col` (< n).
 * Statements, to be placed under the bounds check.
 */
export function epilogueStore(spec: GpuLinearSpec, x: KNode, row: KNode, col: KNode, tag: string): KNode[] {
  const ldc = spec.ldc ?? spec.n;
  const cCol0 = spec.cCol0 ?? 0;
  const mapped = (): KNode => load(global('cRows'), row, 'i32');
  let y = x;
  for (const e of spec.epilogue) {
    switch (e.kind) {
      case 'bias':
        y = add(y, load(global(e.buffer), col));
        break;
      case 'rowScale':
        y = mul(y, load(global(e.buffer), e.mapped ? mapped() : row));
        break;
      case 'unary':
        y = unary(e.fn, y);
        break;
      case 'binary': {
        const other = load(global(e.buffer), add(add(mul(e.mapped ? mapped() : row, ldc), cCol0), col));
        y = e.operandFirst ? binary(e.fn, other, y) : binary(e.fn, y, other);
        break;
      }
    }
  }
  const outRow = spec.scatterC ? mapped() : row;
  return [decl(`y${tag}`, y), store(global('c'), add(add(mul(outRow, ldc), cCol0), col), v(`y${tag}`, 'f32'))];
}

/** The register tile rm x rn of a schedule: as square as possible, rm >= rn, rm | tileM, rn | tileN. */
export function registerTile(s: GpuTiledSchedule): { readonly rm: number; readonly rn: number; readonly ty: number; readonly tx: number } {
  const per = (s.tileM * s.tileN) / s.threads;
  let best: { rm: number; rn: number } | undefined;
  for (let rn = 1; rn <= per; rn++) {
    const rm = per / rn;
    if (!Number.isInteger(rm) || rm < rn || s.tileM % rm !== 0 || s.tileN % rn !== 0) continue;
    if (best === undefined || rm - rn < best.rm - best.rn) best = { rm, rn };
  }
  if (best === undefined) throw new Error(`gpu matmul schedule ${s.tileM}x${s.tileN} over ${s.threads} threads has no register tile`);
  return { ...best, ty: s.tileM / best.rm, tx: s.tileN / best.rn };
}

/** Grid for M rows: x over column tiles, y over row tiles. */
export function gpuMatmulGrid(spec: GpuMatmulSpec, m: number): [number, number, number] {
  return [Math.ceil(spec.n / spec.schedule.tileN), Math.max(1, Math.ceil(m / spec.schedule.tileM)), 1];
}

/** Sum of the lanes of an f32x4 in a fixed order: (l0 + l1) + (l2 + l3). */
export const laneSum = (x: KNode): KNode => add(add(lane(x, 0), lane(x, 1)), add(lane(x, 2), lane(x, 3)));

export function gpuMatmulKernel(spec: GpuMatmulSpec): Kernel {
  const s = spec.schedule;
  const { k: K, n: N } = spec;
  if (s.kind !== 'gpu-tiled') throw new Error(`gpu matmul '${spec.name}': schedule ${String(s.kind)} is not gpu-tiled`);
  const { rm, rn, ty, tx } = registerTile(s);
  const M = param('M');
  const t = lid(0);
  const row0 = mul(gid(1), s.tileM);
  const col0 = mul(gid(0), s.tileN);
  const rows = Array.from({ length: rm }, (_, i) => i);
  const cols = Array.from({ length: rn }, (_, j) => j);
  const pre: KNode[] = [decl('tr', div(t, tx)), decl('tc', rem(t, tx))];
  const rowOf = (i: number): KNode => add(add(row0, v('tr')), i * ty);
  const colOf = (j: number): KNode => add(add(col0, v('tc')), j * tx);
  const body: KNode[] = [];
  const shared_: ArrayDecl[] = [];

  if (!s.sharedTiles) {
    // Rows and columns clamped into range so edge tiles read valid memory; their results are not stored.
    for (const i of rows) pre.push(decl(`pa${i}`, mul(aRowOf(spec, min(rowOf(i), sub(M, 1))), K)));
    for (const j of cols) pre.push(decl(`pw${j}`, mul(min(colOf(j), N - 1), K)));
    const k4 = K - (K % 4);
    for (const i of rows) for (const j of cols) pre.push(decl(`s${i}_${j}`, f32(0)));
    const unroll = s.tileK % 4 === 0 && s.tileK > 0 && k4 % s.tileK === 0 ? s.tileK / 4 : 1;
    const step = (u: number): KNode[] => [
      ...rows.map((i) => decl(`av${i}_${u}`, load(global('a'), add(v(`pa${i}`), add(v('kk'), 4 * u)), 'f32x4'))),
      ...cols.map((j) => decl(`wv${j}_${u}`, load(global('w'), add(v(`pw${j}`), add(v('kk'), 4 * u)), 'f32x4'))),
      ...[0, 1, 2, 3].flatMap((l) => rows.flatMap((i) => cols.map((j) => assign(`s${i}_${j}`, fma(lane(v(`av${i}_${u}`, 'f32x4'), l), lane(v(`wv${j}_${u}`, 'f32x4'), l), v(`s${i}_${j}`, 'f32')))))),
    ];
    if (k4 > 0) body.push(range('kk', 0, k4, Array.from({ length: unroll }, (_, u) => step(u)).flat(), 4 * unroll));
    if (K % 4 !== 0)
      body.push(
        range('kt', k4, K, [
          ...rows.map((i) => decl(`at${i}`, load(global('a'), add(v(`pa${i}`), v('kt'))))),
          ...cols.map((j) => decl(`wt${j}`, load(global('w'), add(v(`pw${j}`), v('kt'))))),
          ...rows.flatMap((i) => cols.map((j) => assign(`s${i}_${j}`, fma(v(`at${i}`, 'f32'), v(`wt${j}`, 'f32'), v(`s${i}_${j}`, 'f32'))))),
        ]),
      );
  } else {
    // Shared tiles: each K step the workgroup stages A[tileM x tileK] and W[tileN x tileK] (zero past K).
    const tk = s.tileK;
    shared_.push({ name: 'aTile', elem: 'f32', length: s.tileM * tk }, { name: 'wTile', elem: 'f32', length: s.tileN * tk });
    for (const i of rows) for (const j of cols) pre.push(decl(`s${i}_${j}`, f32(0)));
    const stage = (tile: string, count: number, src: string, rowIndex: (r: KNode) => KNode): KNode =>
      range('e', t, count * tk, [
        decl('er', div(v('e'), tk)),
        decl('ek', add(v('k0'), rem(v('e'), tk))),
        decl('ev', load(global(src), add(mul(rowIndex(v('er')), K), min(v('ek'), K - 1)))),
        store(shared(tile), v('e'), select(lt(v('ek'), K), v('ev', 'f32'), f32(0))),
      ], s.threads);
    body.push(
      range('k0', 0, K, [
        stage('aTile', s.tileM, 'a', (r) => aRowOf(spec, min(add(row0, r), sub(M, 1)))),
        stage('wTile', s.tileN, 'w', (r) => min(add(col0, r), N - 1)),
        barrier(),
        range('kk', 0, tk, [
          ...rows.map((i) => decl(`at${i}`, load(shared('aTile'), add(mul(add(v('tr'), i * ty), tk), v('kk'))))),
          ...cols.map((j) => decl(`wt${j}`, load(shared('wTile'), add(mul(add(v('tc'), j * tx), tk), v('kk'))))),
          ...rows.flatMap((i) => cols.map((j) => assign(`s${i}_${j}`, fma(v(`at${i}`, 'f32'), v(`wt${j}`, 'f32'), v(`s${i}_${j}`, 'f32'))))),
        ]),
        barrier(),
      ], tk),
    );
  }
  for (const i of rows)
    for (const j of cols) {
      const inRange = binary('and', lt(rowOf(i), M), lt(colOf(j), N));
      body.push(iff(inRange, epilogueStore(spec, v(`s${i}_${j}`, 'f32'), rowOf(i), colOf(j), `${i}_${j}`)));
    }
  return { name: spec.name, buffers: linearBuffers(spec), params: [{ name: 'M', type: 'i32' }], shared: shared_, privates: [], threads: s.threads, body: block(...pre, ...body) };
}
