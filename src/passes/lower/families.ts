/**
 * Kernel families by schedule: each function picks the builder the Target's schedule names (CPU cache blocks or
 * GPU thread grids) and dispatches it. Rules call these, never a builder directly, so a new schedule is one
 * case here. The GPU builders live in src/kernel/builders/gpu/.
 */
import type { Dim } from '../../ir/index.js';
import { attentionGrid, attentionKernel, type AttentionSpec } from '../../kernel/builders/attention.js';
import {
  copy2dGrid, copy2dKernel, elementwiseGrid, elementwiseKernel, type ElementwiseSpec, fillKernel, rowCopyGrid, rowCopyKernel, type RowCopySpec,
} from '../../kernel/builders/elementwise.js';
import {
  batchedMatmulKernel, invRmsKernel, layernormKernel, reduceKernel, type ReduceKind, rmsnormKernel, ropeKernel, rowGrid, softmaxKernel,
} from '../../kernel/builders/reduce.js';
import type { ElemType } from '../../kernel/ir.js';
import type { Schedules } from '../../kernel/target.js';
import { LoweringError } from './context.js';
import type { RuleContext } from './rule-context.js';

function unsupported(rc: RuleContext, family: keyof Schedules): never {
  throw new LoweringError(`${rc.where}: the ${rc.target.name} target's ${family} schedule '${rc.target.schedules[family].kind}' has no builder for this op in this build`);
}

/** One elementwise kernel over `spec.shape`. */
export function elementwiseOp(rc: RuleContext, spec: ElementwiseSpec, buffers: Readonly<Record<string, number>>, label: string): void {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  const s = rc.target.schedules.elementwise;
  if (s.kind !== 'cpu') unsupported(rc, 'elementwise');
  const k = elementwiseKernel({ ...spec, chunk: s.chunk });
  rc.ctx.dispatch(k, buffers, k.params.length ? { n } : {}, elementwiseGrid(n, s.chunk), label);
}

export interface RowCopyCall {
  readonly mode: 'gather' | 'scatter';
  readonly width: number;
  readonly srcRows: number;
  readonly src: number;
  readonly index: number;
  readonly out: number;
  readonly rows: number;
  readonly statusCode: number;
  readonly label: string;
  /** A window [base, base + count) of the indexed rows held by `src` (a split table). */
  readonly window?: { readonly base: number; readonly count: number };
}

export function rowCopyOp(rc: RuleContext, c: RowCopyCall): void {
  if (c.rows === 0 || c.width === 0) return;
  const spec: RowCopySpec = {
    name: c.mode === 'gather' ? 'gather_rows' : 'scatter_rows',
    width: c.width,
    mode: c.mode,
    srcRows: c.srcRows,
    statusCode: c.statusCode,
    srcElem: rc.ctx.elem(c.src),
    outElem: rc.ctx.elem(c.out),
    ...(c.window ? { window: true } : {}),
  };
  const params: Record<string, Dim> = { rows: c.rows, ...(c.window ? { base: c.window.base, count: c.window.count } : {}) };
  rc.ctx.dispatch(rowCopyKernel(spec), { src: c.src, index: c.index, out: c.out, status: rc.ctx.status }, params, rowCopyGrid(c.rows, c.width), c.label);
}

export function fillOp(rc: RuleContext, out: number, n: number, value: number | 'iota', label: string): void {
  if (n === 0) return;
  const s = rc.target.schedules.elementwise;
  if (s.kind !== 'cpu') unsupported(rc, 'elementwise');
  rc.ctx.dispatch(fillKernel(value === 'iota' ? 'iota' : 'fill', rc.ctx.elem(out), value), { out }, { n }, elementwiseGrid(n), label);
}

/** out[r * outRow + offset + c] = x[r * inRow + c]: one part of a concat. */
export function copy2dOp(rc: RuleContext, x: number, out: number, rows: number, inRow: number, outRow: number, offset: number, label: string): void {
  if (rows === 0 || inRow === 0) return;
  rc.ctx.dispatch(copy2dKernel('concat_part', rows, inRow, outRow, offset, rc.ctx.elem(x)), { x, out }, {}, copy2dGrid(rows, inRow), label);
}

/** Batched matmul of computed operands (dot products; a and b with element strides). */
export function bmmOp(rc: RuleContext, m: number, k: number, n: number, aStrides: readonly [number, number], bStrides: readonly [number, number], bufs: { a: number; b: number; aBatch: number; bBatch: number; out: number }, batches: number): void {
  if (m * n * batches === 0) return;
  if (!rc.target.caps.f64) unsupported(rc, 'matmul');
  rc.ctx.dispatch(batchedMatmulKernel(m, k, n, aStrides, bStrides), bufs, {}, [m, batches, 1], rc.where);
}

// ---- row kernels ----

function rowsPerGroup(rc: RuleContext): number {
  const s = rc.target.schedules.rows;
  if (s.kind !== 'cpu') unsupported(rc, 'rows');
  return s.rowsPerGroup;
}

/** RMSNorm of `rows` rows of x (rows gathered through xRows when given) into out. */
export function rmsnormOp(rc: RuleContext, d: number, eps: number, bufs: { x: number; w: number; out: number; xRows?: number }, rows: number, label: string): void {
  if (rows === 0) return;
  const per = rowsPerGroup(rc);
  const k = rmsnormKernel(d, eps, { wElem: rc.ctx.elem(bufs.w), gather: bufs.xRows !== undefined, rowsPerGroup: per });
  rc.ctx.dispatch(k, { ...bufs }, { rows }, rowGrid(rows, per), label);
}

export function invRmsOp(rc: RuleContext, d: number, eps: number, bufs: { x: number; out: number }, rows: number, label: string): void {
  if (rows === 0) return;
  rowsPerGroup(rc);
  rc.ctx.dispatch(invRmsKernel(d, eps), bufs, { rows }, rowGrid(rows), label);
}

export function layernormOp(rc: RuleContext, d: number, eps: number, bufs: { x: number; w: number; b: number; out: number }, rows: number): void {
  if (rows === 0) return;
  rowsPerGroup(rc);
  rc.ctx.dispatch(layernormKernel(d, eps, rc.ctx.elem(bufs.w), rc.ctx.elem(bufs.b)), bufs, { rows }, rowGrid(rows), rc.where);
}

export function softmaxOp(rc: RuleContext, len: number, stride: number, bufs: { x: number; out: number }, rows: number): void {
  if (rows === 0 || len === 0) return;
  rowsPerGroup(rc);
  rc.ctx.dispatch(softmaxKernel(len, stride), bufs, { rows }, rowGrid(rows), rc.where);
}

export function reduceOp(rc: RuleContext, shape: readonly number[], reduced: readonly boolean[], fn: ReduceKind, elem: 'f32' | 'i32', bufs: { x: number; out: number }, rows: number): void {
  if (rows === 0) return;
  rowsPerGroup(rc);
  rc.ctx.dispatch(reduceKernel(shape, reduced, fn, elem), bufs, { rows }, rowGrid(rows), rc.where);
}

export function ropeOp(rc: RuleContext, h: number, d: number, rotaryDim: number, bufs: { x: number; pos: number; invFreq: number; out: number }, rows: number): void {
  if (rows === 0) return;
  rowsPerGroup(rc);
  rc.ctx.dispatch(ropeKernel(h, d, rotaryDim), bufs, { rows }, rowGrid(rows), rc.where);
}

// ---- attention ----

/** Attention of sq queries over the first kvLen (<= spec.sk) keys. */
export function attentionOp(rc: RuleContext, spec: Omit<AttentionSpec, 'queryBlock'>, bufs: { q: number; k: number; v: number; qPos: number; kPos: number; out: number }, kvLen: Dim): void {
  if (spec.sq === 0 || spec.heads === 0) return;
  const s = rc.target.schedules.attention;
  if (s.kind !== 'cpu') unsupported(rc, 'attention');
  const full: AttentionSpec = { ...spec, queryBlock: s.queryBlock };
  rc.ctx.dispatch(attentionKernel(full), bufs, { kvLen }, attentionGrid(full), rc.where);
}

/** The storage type a value buffer has (re-exported for rules that declare kernel buffers). */
export const elemOfBuffer = (rc: RuleContext, id: number): ElemType => rc.ctx.elem(id);
