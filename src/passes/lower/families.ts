/**
 * Kernel families by schedule: each function picks the builder the Target's schedule names (CPU cache blocks or
 * GPU thread grids) and dispatches it. Rules call these, never a builder directly, so a new schedule is one
 * case here. The GPU builders live in src/kernel/builders/gpu/.
 */
import type { Dim } from '../../ir/index.js';
import { attentionGrid, attentionKernel, type AttentionSpec } from '../../kernel/builders/attention.js';
import { blockedAttentionApplies, blockedAttentionGrid, blockedAttentionKernel, blockedAttentionParams } from '../../kernel/builders/attention-blocked.js';
import { headMajorGrid, headMajorKernel } from '../../kernel/builders/head-major.js';
import {
  decodeAttentionApplies, decodeAttentionCombineKernel, decodeAttentionPartialKernel, decodeCombineGrid, decodePartialElems, decodePartialGrid,
} from '../../kernel/builders/attention-decode.js';
import {
  copy2dGrid, copy2dKernel, elementwiseGrid, elementwiseKernel, type ElementwiseSpec, fillKernel, rowCopyGrid, rowCopyKernel, type RowCopySpec,
} from '../../kernel/builders/elementwise.js';
import {
  batchedMatmulKernel, invRmsKernel, layernormKernel, reduceKernel, type ReduceKind, rmsnormKernel, ropeKernel, rowGrid, softmaxKernel,
} from '../../kernel/builders/reduce.js';
import { flashAttentionGrid, flashAttentionKernel } from '../../kernel/builders/gpu/attention.js';
import {
  gpuBatchedMatmulGrid, gpuBatchedMatmulKernel, gpuCopy2dGrid, gpuCopy2dKernel, gpuElementwiseGrid, gpuElementwiseKernel, gpuFillGrid, gpuFillKernel, gpuRowCopyGrid,
  gpuRowCopyKernel,
} from '../../kernel/builders/gpu/elementwise.js';
import {
  gpuInvRmsKernel, gpuLayernormKernel, gpuReduceKernel, gpuRmsnormKernel, gpuRopeGrid, gpuRopeKernel, gpuRowGrid, gpuSoftmaxKernel, type WeightElem, type WorkgroupRowSchedule,
} from '../../kernel/builders/gpu/rows.js';
import type { ElemType, Kernel } from '../../kernel/ir.js';
import {
  attentionProbsKernel, attentionScoresKernel, attentionSizes, attentionStatsKernel, attentionValuesKernel,
} from '../../kernel/builders/gather/attention.js';
import { concatPartKernel, gatherFillKernel, gatherRowsKernel, rowIndexStatusKernel, scatterRowsKernel } from '../../kernel/builders/gather/copies.js';
import { gatherGrid } from '../../kernel/builders/gather/form.js';
import {
  gatherInvRmsKernel, gatherLayernormApplyKernel, gatherLayernormStatsKernel, gatherReduceKernel, gatherRmsApplyKernel, gatherRopeKernel, gatherSoftmaxApplyKernel,
  gatherSoftmaxStatsKernel,
} from '../../kernel/builders/gather/rows.js';
import type { RuleContext } from './rule-context.js';

const BUILT_LIMIT = 512;
const built = new Map<string, Kernel>();

/**
 * A kernel built once per builder spec: a program dispatches the same matmul or row kernel many times (once per
 * layer), and building a kernel and hashing it for the program's kernel table cost more than the rest of
 * lowering (measured on tiny-pmod's cold start). Builders are pure functions of their spec.
 */
export function memoKernel(key: string, build: () => Kernel): Kernel {
  let k = built.get(key);
  if (k === undefined) {
    k = build();
    if (built.size >= BUILT_LIMIT) built.clear();
    built.set(key, k);
  }
  return k;
}

/** One elementwise kernel over `spec.shape`. */
export function elementwiseOp(rc: RuleContext, spec: ElementwiseSpec, buffers: Readonly<Record<string, number>>, label: string): void {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  const s0 = rc.target.schedules.elementwise;
  // Gather form: the GPU builder with one thread per workgroup and no vectors is one output per invocation.
  // Elementwise specs carry body functions (not serialisable): built per dispatch.
  const s = s0.kind === 'gather' ? GATHER_THREAD : s0;
  const k = s.kind === 'cpu' ? elementwiseKernel({ ...spec, chunk: s.chunk }) : gpuElementwiseKernel(spec, s);
  const grid = s.kind === 'cpu' ? elementwiseGrid(n, s.chunk) : gpuElementwiseGrid(spec, n, s);
  rc.ctx.dispatch(k, buffers, k.params.length ? { n } : {}, grid, label);
}

/** The thread schedule whose GPU elementwise kernels are already in gather form. */
const GATHER_THREAD = { kind: 'thread', threads: 1, vector: false } as const;

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
  const s = rc.target.schedules.elementwise;
  const bufs = { src: c.src, index: c.index, out: c.out, status: rc.ctx.status };
  if (s.kind === 'gather') {
    rowCopyGather(rc, c, params);
    return;
  }
  if (s.kind === 'cpu') rc.ctx.dispatch(memoKernel(`rowcopy|${JSON.stringify(spec)}`, () => rowCopyKernel(spec)), bufs, params, rowCopyGrid(c.rows, c.width), c.label);
  else rc.ctx.dispatch(gpuRowCopyKernel(spec, s), bufs, params, gpuRowCopyGrid(c.rows, c.width, s, spec), c.label);
}

/** A row copy in gather form: the status check (a bad index, a duplicate scatter target), then the copy. */
function rowCopyGather(rc: RuleContext, c: RowCopyCall, params: Readonly<Record<string, Dim>>): void {
  const ctx = rc.ctx;
  const limit = c.srcRows;
  // A scatter's duplicate targets are reported too (the gather form finds them; parallel scatters cannot).
  const dup = c.mode === 'scatter' ? ctx.statusCode(`${c.label}: scatterRows writes a row twice`) : undefined;
  if (c.statusCode !== 0) ctx.dispatch(rowIndexStatusKernel(limit, c.statusCode, dup), { index: c.index, status: ctx.status }, { rows: c.rows }, gatherGrid(1), `${c.label} (index check)`);
  const width = c.width;
  if (c.mode === 'scatter') {
    ctx.dispatch(scatterRowsKernel('scatter_rows', width, limit, ctx.elem(c.out)), { src: c.src, index: c.index, out: c.out }, { rows: c.rows }, gatherGrid(limit * width), c.label);
    return;
  }
  const k = gatherRowsKernel({ name: 'gather_rows', width, srcElem: ctx.elem(c.src), outElem: ctx.elem(c.out), srcRows: limit, ...(c.window ? { window: true } : {}) });
  ctx.dispatch(k, { src: c.src, index: c.index, out: c.out }, params, gatherGrid(c.rows * width), c.label);
}

export function fillOp(rc: RuleContext, out: number, n: number, value: number | 'iota', label: string): void {
  if (n === 0) return;
  const s = rc.target.schedules.elementwise;
  const name = value === 'iota' ? 'iota' : 'fill';
  const elem = rc.ctx.elem(out);
  if (s.kind === 'cpu') rc.ctx.dispatch(fillKernel(name, elem, value), { out }, { n }, elementwiseGrid(n), label);
  else if (s.kind === 'gather') rc.ctx.dispatch(gatherFillKernel(name, elem, value), { out }, { n }, gatherGrid(n), label);
  else rc.ctx.dispatch(gpuFillKernel(name, elem, value, s), { out }, { n }, gpuFillGrid(n, elem, value, s), label);
}

/** out[r * outRow + offset + c] = x[r * inRow + c]: one part of a concat. */
export function copy2dOp(rc: RuleContext, x: number, out: number, rows: number, inRow: number, outRow: number, offset: number, label: string): void {
  if (rows === 0 || inRow === 0) return;
  const s = rc.target.schedules.elementwise;
  const elem = rc.ctx.elem(x);
  if (s.kind === 'cpu') rc.ctx.dispatch(copy2dKernel('concat_part', rows, inRow, outRow, offset, elem), { x, out }, {}, copy2dGrid(rows, inRow), label);
  else if (s.kind === 'gather') rc.ctx.dispatch(concatPartKernel(rows, inRow, outRow, offset, elem), { x, out }, {}, gatherGrid(rows * outRow), label);
  else rc.ctx.dispatch(gpuCopy2dKernel('concat_part', rows, inRow, outRow, offset, elem, s), { x, out }, {}, gpuCopy2dGrid(rows, inRow, outRow, offset, elem, s), label);
}

/** Batched matmul of computed operands (dot products; a and b with element strides). */
export function bmmOp(rc: RuleContext, m: number, k: number, n: number, aStrides: readonly [number, number], bStrides: readonly [number, number], bufs: { a: number; b: number; aBatch: number; bBatch: number; out: number }, batches: number): void {
  if (m * n * batches === 0) return;
  const s = rc.target.schedules.elementwise;
  // The CPU form accumulates in f64 (the reference's sums); f64-less targets use the compensated f32 form.
  if (s.kind === 'cpu' && rc.target.caps.f64Math) rc.ctx.dispatch(batchedMatmulKernel(m, k, n, aStrides, bStrides), bufs, {}, [m, batches, 1], rc.where);
  else {
    // Gather form: one invocation per output with one thread per workgroup.
    const t = s.kind === 'thread' ? s : s.kind === 'gather' ? GATHER_THREAD : { kind: 'thread' as const, threads: Math.min(64, rc.target.limits.maxThreadsPerWorkgroup), vector: false };
    rc.ctx.dispatch(gpuBatchedMatmulKernel(m, k, n, aStrides, bStrides, batches, t), bufs, {}, gpuBatchedMatmulGrid(m, n, batches, t), rc.where);
  }
}

// ---- row kernels ----

/** The row schedule: CPU row blocks, or one workgroup per row (narrowed to the row length). */
function rowSchedule(rc: RuleContext, width: number): { cpu: number } | { gpu: WorkgroupRowSchedule } | { gather: true } {
  const s = rc.target.schedules.rows;
  if (s.kind === 'cpu') return { cpu: s.rowsPerGroup };
  if (s.kind === 'gather') return { gather: true };
  // A workgroup wider than the row leaves threads idle: the smallest power of two covering it (at least 32).
  const threads = Math.min(s.threads, Math.max(32, 1 << Math.ceil(Math.log2(Math.max(1, width)))));
  return { gpu: { kind: 'workgroup', threads } };
}

/** RMSNorm of `rows` rows of x (rows gathered through xRows when given) into out. */
export function rmsnormOp(rc: RuleContext, d: number, eps: number, bufs: { x: number; w: number; out: number; xRows?: number }, rows: number, label: string): void {
  if (rows === 0) return;
  const s = rowSchedule(rc, d);
  const o = { wElem: rc.ctx.elem(bufs.w) as WeightElem, gather: bufs.xRows !== undefined };
  if ('gather' in s) {
    // Two kernels: the row scales, then the normalised elements.
    const inv = rc.ctx.temp(Math.max(1, rows), 'f32', `${label} inverse rms`);
    const xs = { x: bufs.x, ...(bufs.xRows !== undefined ? { xRows: bufs.xRows } : {}) };
    rc.ctx.dispatch(gatherInvRmsKernel(d, eps, o.gather), { ...xs, out: inv }, { rows }, gatherGrid(rows), label);
    rc.ctx.dispatch(gatherRmsApplyKernel(d, o.wElem, o.gather), { ...xs, inv, w: bufs.w, out: bufs.out }, { rows }, gatherGrid(rows * d), label);
    return;
  }
  if ('cpu' in s) rc.ctx.dispatch(memoKernel(`rmsnorm|${d}|${eps}|${s.cpu}|${JSON.stringify(o)}`, () => rmsnormKernel(d, eps, { ...o, rowsPerGroup: s.cpu })), { ...bufs }, { rows }, rowGrid(rows, s.cpu), label);
  else rc.ctx.dispatch(gpuRmsnormKernel(d, eps, s.gpu, o), { ...bufs }, { rows }, gpuRowGrid(rows), label);
}

export function invRmsOp(rc: RuleContext, d: number, eps: number, bufs: { x: number; out: number }, rows: number, label: string): void {
  if (rows === 0) return;
  const s = rowSchedule(rc, d);
  if ('gather' in s) rc.ctx.dispatch(gatherInvRmsKernel(d, eps, false), bufs, { rows }, gatherGrid(rows), label);
  else if ('cpu' in s) rc.ctx.dispatch(memoKernel(`invrms|${d}|${eps}`, () => invRmsKernel(d, eps)), bufs, { rows }, rowGrid(rows), label);
  else rc.ctx.dispatch(gpuInvRmsKernel(d, eps, s.gpu), bufs, { rows }, gpuRowGrid(rows), label);
}

export function layernormOp(rc: RuleContext, d: number, eps: number, bufs: { x: number; w: number; b: number; out: number }, rows: number): void {
  if (rows === 0) return;
  const s = rowSchedule(rc, d);
  const [we, be] = [rc.ctx.elem(bufs.w), rc.ctx.elem(bufs.b)];
  if ('gather' in s) {
    const stats = rc.ctx.temp(3 * rows, 'f32', `${rc.where} layernorm statistics`);
    rc.ctx.dispatch(gatherLayernormStatsKernel(d, eps), { x: bufs.x, out: stats }, { rows }, gatherGrid(3 * rows), rc.where);
    rc.ctx.dispatch(gatherLayernormApplyKernel(d, we, be), { x: bufs.x, stats, w: bufs.w, b: bufs.b, out: bufs.out }, { rows }, gatherGrid(rows * d), rc.where);
  } else if ('cpu' in s) rc.ctx.dispatch(layernormKernel(d, eps, we, be), bufs, { rows }, rowGrid(rows), rc.where);
  else rc.ctx.dispatch(gpuLayernormKernel(d, eps, s.gpu, { wElem: we as WeightElem, bElem: be as WeightElem }), bufs, { rows }, gpuRowGrid(rows), rc.where);
}

export function softmaxOp(rc: RuleContext, len: number, stride: number, bufs: { x: number; out: number }, rows: number): void {
  if (rows === 0 || len === 0) return;
  const s = rowSchedule(rc, len);
  if ('gather' in s) {
    const stats = rc.ctx.temp(2 * rows, 'f32', `${rc.where} softmax statistics`);
    rc.ctx.dispatch(gatherSoftmaxStatsKernel(len, stride), { x: bufs.x, out: stats }, { rows }, gatherGrid(2 * rows), rc.where);
    rc.ctx.dispatch(gatherSoftmaxApplyKernel(len, stride), { x: bufs.x, stats, out: bufs.out }, { n: rows * len }, gatherGrid(rows * len), rc.where);
  } else if ('cpu' in s) rc.ctx.dispatch(softmaxKernel(len, stride), bufs, { rows }, rowGrid(rows), rc.where);
  else rc.ctx.dispatch(gpuSoftmaxKernel(len, stride, s.gpu), bufs, { rows }, gpuRowGrid(rows), rc.where);
}

export function reduceOp(rc: RuleContext, shape: readonly number[], reduced: readonly boolean[], fn: ReduceKind, elem: 'f32' | 'i32', bufs: { x: number; out: number }, rows: number): void {
  if (rows === 0) return;
  const count = shape.reduce((a, d, i) => (reduced[i] ? a * d : a), 1);
  const s = rowSchedule(rc, count);
  if ('gather' in s) rc.ctx.dispatch(gatherReduceKernel(shape, reduced, fn, elem), bufs, { rows }, gatherGrid(rows), rc.where);
  else if ('cpu' in s) rc.ctx.dispatch(reduceKernel(shape, reduced, fn, elem), bufs, { rows }, rowGrid(rows), rc.where);
  else rc.ctx.dispatch(gpuReduceKernel(shape, reduced, fn, elem, s.gpu), bufs, { rows }, gpuRowGrid(rows), rc.where);
}

export function ropeOp(rc: RuleContext, h: number, d: number, rotaryDim: number, bufs: { x: number; pos: number; invFreq: number; out: number }, rows: number): void {
  if (rows === 0) return;
  const s = rowSchedule(rc, h * d);
  if ('gather' in s) rc.ctx.dispatch(gatherRopeKernel(h, d, rotaryDim), bufs, { rows }, gatherGrid(rows * h * d), rc.where);
  else if ('cpu' in s) rc.ctx.dispatch(ropeKernel(h, d, rotaryDim), bufs, { rows }, rowGrid(rows), rc.where);
  else rc.ctx.dispatch(gpuRopeKernel(h, d, rotaryDim, s.gpu), bufs, { rows }, gpuRopeGrid(rows, h, d, rotaryDim, s.gpu), rc.where);
}

// ---- attention ----

/** Attention of sq queries over the first kvLen (<= spec.sk) keys. */
export function attentionOp(rc: RuleContext, spec: Omit<AttentionSpec, 'queryBlock'>, bufs: { q: number; k: number; v: number; qPos: number; kPos: number; out: number }, kvLen: Dim): void {
  if (spec.sq === 0 || spec.heads === 0) return;
  const s = rc.target.schedules.attention;
  if (s.kind === 'cpu') {
    const full: AttentionSpec = { ...spec, queryBlock: s.queryBlock };
    const key = JSON.stringify(full);
    if (spec.sq <= (s.decodeRows ?? 0) && decodeAttentionApplies(full)) {
      // Split over the cache rows: partial results per chunk of rows, then one merge per (query, head).
      const part = rc.ctx.temp(decodePartialElems(full), 'f32', `${rc.where} attention partials`);
      rc.ctx.dispatch(memoKernel(`attention-decode|${key}`, () => decodeAttentionPartialKernel(full)), { q: bufs.q, k: bufs.k, v: bufs.v, qPos: bufs.qPos, kPos: bufs.kPos, part }, { kvLen }, decodePartialGrid(full), rc.where);
      rc.ctx.dispatch(memoKernel(`attention-merge|${key}`, () => decodeAttentionCombineKernel(full)), { part, out: bufs.out }, {}, decodeCombineGrid(full), rc.where);
    } else if (s.blocked !== undefined && blockedAttentionApplies(full, s.blocked)) {
      const t = s.blocked;
      // K and V head-major first (the blocked kernel's layout): two copies of the kvLen rows in use, a small
      // fraction of the attention that reads every row once per query block.
      const headMajor = (x: number, dim: number, what: string): number => {
        const out = rc.ctx.temp(full.sk * full.kvHeads * dim, 'f32', `${rc.where} ${what} head-major`);
        rc.ctx.dispatch(memoKernel(`head-major|${full.kvHeads}|${dim}`, () => headMajorKernel(full.kvHeads, dim)), { x, out }, { rows: full.sk, kvLen }, headMajorGrid(full.sk, full.kvHeads, dim), rc.where);
        return out;
      };
      const hm = { ...bufs, k: headMajor(bufs.k, full.headDim, 'keys'), v: headMajor(bufs.v, full.valueDim, 'values') };
      // One kernel for every query and key count (params): the layers of a p-MoD model keep different counts.
      const { sq: _sq, sk: _sk, ...shape } = full;
      rc.ctx.dispatch(memoKernel(`attention-blocked|${JSON.stringify(shape)}|${JSON.stringify(t)}`, () => blockedAttentionKernel(shape, t)), hm, { kvLen, ...blockedAttentionParams(full) }, blockedAttentionGrid(full, t), rc.where);
    } else rc.ctx.dispatch(memoKernel(`attention|${key}`, () => attentionKernel(full)), bufs, { kvLen }, attentionGrid(full), rc.where);
    return;
  }
  if (s.kind === 'gather') {
    // Four gather kernels: scores, row statistics, probabilities, weighted values.
    const n = attentionSizes(spec);
    const c = rc.ctx;
    const scores = c.temp(Math.max(1, n.scores), 'f32', `${rc.where} attention scores`);
    const stats = c.temp(Math.max(1, n.stats), 'f32', `${rc.where} attention row statistics`);
    const probs = c.temp(Math.max(1, n.scores), 'f32', `${rc.where} attention probabilities`);
    c.dispatch(attentionScoresKernel(spec), { q: bufs.q, k: bufs.k, qPos: bufs.qPos, kPos: bufs.kPos, out: scores }, { kvLen }, gatherGrid(n.scores), rc.where);
    c.dispatch(attentionStatsKernel(spec), { scores, out: stats }, { kvLen }, gatherGrid(n.stats), rc.where);
    c.dispatch(attentionProbsKernel(spec), { scores, stats, out: probs }, { kvLen }, gatherGrid(n.scores), rc.where);
    c.dispatch(attentionValuesKernel(spec), { probs, v: bufs.v, out: bufs.out }, { kvLen }, gatherGrid(n.out), rc.where);
    return;
  }
  rc.ctx.dispatch(flashAttentionKernel(spec, s), bufs, { kvLen }, flashAttentionGrid(spec, s), rc.where);
}

/** The storage type a value buffer has (re-exported for rules that declare kernel buffers). */
export const elemOfBuffer = (rc: RuleContext, id: number): ElemType => rc.ctx.elem(id);
