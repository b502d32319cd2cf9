/**
 * How each graph op lowers to kernels: one rule per op kind in an exhaustive mapped table (a new op fails tsc
 * here). Rules receive lowered operands (buffers with concrete shapes) and return lowered results.
 */
import { type DType, type NodeOf, type OpAttrs, type OpKind, isFloat } from '../../ir/index.js';
import { attentionGrid, attentionKernel } from '../../kernel/builders/attention.js';
import {
  broadcastStrides, copy2dGrid, copy2dKernel, elementwiseGrid, elementwiseKernel, fillKernel, rowCopyGrid, rowCopyKernel, rowMajorStrides,
} from '../../kernel/builders/elementwise.js';
import { batchedMatmulKernel, layernormKernel, reduceKernel, rmsnormKernel, ropeInvFreq, ropeKernel, rowGrid, softmaxKernel } from '../../kernel/builders/reduce.js';
import { compactKernel, routeRankKernel, routeScoreKernel, scatterByRankKernel, stringCombineKernel, tokenGrid } from '../../kernel/builders/route.js';
import type { KNode } from '../../kernel/ir.js';
import { elemOf, LoweringError, type LValue, numel } from './context.js';
import { castBody, compareBody, floatBinary, intBinary, logicalBody, UNARY_F32X4, UNARY_F64, vectorBinary } from './elementwise.js';
import { cast, select, cmp } from '../../kernel/dsl.js';
import { arg, elementwise, newValue, outShape, type Rule, type RuleContext } from './rule-context.js';
export type { RuleContext } from './rule-context.js';
import { lowerFusedElementwise, lowerStringCombine } from './fused.js';
import { linear, lowerFusedLinear } from './linear.js';

/** A strided copy of x into a new value of the output shape (transpose, slice). */
function stridedCopy(rc: RuleContext, x: LValue, strides: readonly number[], offset: number): LValue[] {
  const out = newValue(rc, x.dtype);
  const n = numel(out.shape);
  const k = elementwiseKernel({ name: `copy_${rc.node.op}`, shape: out.shape, inputs: [{ buffer: 'in0', elem: elemOf(x.dtype), strides, offset }], out: elemOf(x.dtype), body: (xs) => xs[0] as KNode });
  if (n > 0) rc.ctx.dispatch(k, { in0: rc.ctx.buf(x), out: rc.ctx.buf(out) }, { n }, elementwiseGrid(n), rc.where);
  return [out];
}

const f32 = (x: number): KNode => ({ op: 'const', type: 'f32', src: [], arg: x });

function matmul(ins: readonly LValue[], a: OpAttrs['matmul'], rc: RuleContext): LValue[] {
  const [x, y] = [arg(ins, 0, rc), arg(ins, 1, rc)];
  const out = newValue(rc, x.dtype);
  const r = out.shape.length;
  const [m, n] = [out.shape[r - 2] ?? 1, out.shape[r - 1] ?? 1];
  const xr = x.shape.length;
  const k = a.transposeA ? (x.shape[xr - 2] ?? 1) : (x.shape[xr - 1] ?? 1);
  const batch = out.shape.slice(0, -2);
  const xb = broadcastStrides(x.shape.slice(0, -2), batch);
  const yb = broadcastStrides(y.shape.slice(0, -2), batch);
  const offsets = (strides: readonly number[], mat: number): number[] => {
    const res: number[] = [];
    const total = numel(batch);
    for (let i = 0; i < total; i++) {
      let rest = i;
      let off = 0;
      for (let d = batch.length - 1; d >= 0; d--) {
        off += (rest % (batch[d] ?? 1)) * (strides[d] ?? 0);
        rest = Math.floor(rest / (batch[d] ?? 1));
      }
      res.push(off * mat);
    }
    return res;
  };
  const aOff = rc.ctx.constant(offsets(xb, m * k), 'i32', `${rc.where} a batch offsets`);
  const bOff = rc.ctx.constant(offsets(yb, k * n), 'i32', `${rc.where} b batch offsets`);
  const kern = batchedMatmulKernel(m, k, n, a.transposeA ? [1, m] : [k, 1], a.transposeB ? [1, k] : [n, 1]);
  if (numel(out.shape) > 0) rc.ctx.dispatch(kern, { a: rc.ctx.buf(x), b: rc.ctx.buf(y), aBatch: aOff, bBatch: bOff, out: rc.ctx.buf(out) }, {}, [m, numel(batch), 1], rc.where);
  return [out];
}

function topk(ins: readonly LValue[], a: OpAttrs['topk'], rc: RuleContext): LValue[] {
  const [scores, mask] = [arg(ins, 0, rc), ins[1]];
  const n = scores.shape[0] ?? 0;
  const k = outShape(rc)[0] ?? 0;
  const out = newValue(rc, 'i32');
  const keep = rc.ctx.temp(n, 'i32', `${rc.where} keep`);
  const rank = rc.ctx.temp(n, 'i32', `${rc.where} rank`);
  const bufs: Record<string, number> = { scores: rc.ctx.buf(scores), keep, rank };
  if (mask) bufs.mask = rc.ctx.buf(mask);
  const code = rc.ctx.statusCode(`${rc.where}: k = ${k} but fewer candidates are selectable`);
  rc.ctx.dispatch(routeRankKernel(n, mask !== undefined, false), bufs, { S: n, k }, tokenGrid(n), rc.where);
  if (a.order === 'score') {
    rc.ctx.dispatch(scatterByRankKernel(n), { rank, out: rc.ctx.buf(out) }, { k }, [1, 1, 1], rc.where);
    // Too few candidates leaves slots unwritten: the compaction's candidate count check reports it.
  }
  const pos = rc.ctx.constant(Array.from({ length: n }, (_, i) => i), 'i32', 'iota');
  const scratch = (label: string): number => rc.ctx.temp(Math.max(1, n), 'i32', `${rc.where} ${label}`);
  const cbufs: Record<string, number> = { keep, pos, kept: scratch('kept'), keptPos: scratch('keptPos'), keptCand: a.order === 'index' ? rc.ctx.buf(out) : scratch('keptCand'), slot: scratch('slot'), status: rc.ctx.status };
  // Only the count of kept entries is checked here: k kept iff at least k candidates.
  cbufs.mask = keep;
  rc.ctx.dispatch(compactKernel(n, true), cbufs, { expected: k, code }, [1, 1, 1], rc.where);
  return [out];
}

/** The values a route selection leaves: the gathered rows and positions, the row map, TanhNorm weights, slots. */
export interface RouteSelection {
  readonly xKept: LValue;
  readonly posKept: LValue;
  /** Sequence index of each kept row (ascending). */
  readonly rowMap: LValue;
  /** TanhNorm weights w_t of every token (f32 [S]). */
  readonly gate: LValue;
  /** Kept routable tokens (sequence indices, ascending). */
  readonly kept: LValue;
  /** Per token: its kept row, or -1 when skipped. */
  readonly slot: number;
}

interface RouteAttrs {
  readonly capacity: import('../../ir/index.js').Dim;
  readonly routableCount: import('../../ir/index.js').Dim;
  readonly alpha: number;
  readonly bias: number;
}

/** Router scores + TanhNorm, top-k, order-preserving compaction and the gather of kept rows (4 kernels + gather). */
export function routeSelection(ins: readonly LValue[], a: RouteAttrs, rc: RuleContext, keptOutput: number): RouteSelection {
  const [x, pos, mask, rw, rb] = [0, 1, 2, 3, 4].map((i) => arg(ins, i, rc)) as [LValue, LValue, LValue, LValue, LValue];
  const [s, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0];
  const capacity = rc.dim(a.capacity);
  const routable = rc.dim(a.routableCount);
  if (capacity < 0 || capacity > routable) throw new LoweringError(`${rc.where}: capacity ${capacity} is outside [0, ${routable}] (routable tokens)`);
  const kept = s - routable + capacity;
  const c = rc.ctx;
  const scores = c.temp(s, 'f32', `${rc.where} router scores`);
  const gate: LValue = { shape: [s], dtype: 'f32', ref: c.temp(s, 'f32', `${rc.where} TanhNorm weights`) };
  c.dispatch(routeScoreKernel(d, a.alpha, a.bias), { x: c.buf(x), rw: c.buf(rw), rb: c.buf(rb), scores, weights: c.buf(gate) }, { S: s }, tokenGrid(s), `${rc.where} router`);
  const keep = c.temp(s, 'i32', `${rc.where} keep`);
  const rank = c.temp(s, 'i32', `${rc.where} rank`);
  c.dispatch(routeRankKernel(s, true, true), { scores, mask: c.buf(mask), keep, rank }, { S: s, k: capacity }, tokenGrid(s), `${rc.where} top-k`);
  const rowMap: LValue = { shape: [kept], dtype: 'i32', ref: c.temp(kept, 'i32', `${rc.where} kept tokens`) };
  const posKept: LValue = { shape: [kept], dtype: 'i32', ref: c.temp(kept, 'i32', `${rc.where} kept positions`) };
  const keptCand = newValue(rc, 'i32', keptOutput, ' kept vision tokens');
  const slot = c.temp(s, 'i32', `${rc.where} slot`);
  const code = c.statusCode(`${rc.where}: routable mask does not hold routableCount = ${routable} tokens`);
  c.dispatch(compactKernel(s, true), { keep, mask: c.buf(mask), pos: c.buf(pos), kept: c.buf(rowMap), keptPos: c.buf(posKept), keptCand: c.buf(keptCand), slot, status: c.status }, { expected: routable, code }, [1, 1, 1], `${rc.where} compaction`);
  const xKept: LValue = { shape: [kept, d], dtype: x.dtype, ref: c.temp(kept * d, 'f32', `${rc.where} x_kept`) };
  if (kept > 0) c.dispatch(rowCopyKernel('gather_rows', d, 'gather', s, 0), { src: c.buf(x), index: c.buf(rowMap), out: c.buf(xKept), status: c.status }, { rows: kept }, rowCopyGrid(kept, d), `${rc.where} gather`);
  return { xKept, posKept, rowMap, gate, kept: keptCand, slot };
}

function modRoute(ins: readonly LValue[], a: OpAttrs['modRoute'], rc: RuleContext): LValue[] {
  const [x, , mask] = [arg(ins, 0, rc), arg(ins, 1, rc), arg(ins, 2, rc)];
  const sel = routeSelection(ins, a, rc, 1);
  const [h1, u, ...extras] = rc.lowerRegion(a.body, [sel.xKept, sel.posKept]);
  if (h1 === undefined || u === undefined) throw new LoweringError(`${rc.where}: body returned fewer than 2 values`);
  const y = newValue(rc, x.dtype, 0);
  const c = rc.ctx;
  c.dispatch(stringCombineKernel(x.shape[1] ?? 0), { x: c.buf(x), h1: c.buf(h1), u: c.buf(u), weights: c.buf(sel.gate), mask: c.buf(mask), slot: sel.slot, y: c.buf(y) }, { S: x.shape[0] ?? 0 }, tokenGrid(x.shape[0] ?? 0), `${rc.where} STRing combine`);
  return [y, sel.kept, ...extras];
}

const passThrough = (x: LValue, shape: readonly number[]): LValue => ({ shape, dtype: x.dtype, ref: x.ref });

export const LOWER: { readonly [K in OpKind]: Rule<K> } = {
  input: () => {
    throw new LoweringError('inputs are bound by the driver');
  },
  weight: (_ins, a, rc) => [{ shape: outShape(rc), dtype: a.dtype, ref: { weight: a.name } }],
  full: (_ins, a, rc) => {
    const out = newValue(rc, a.dtype);
    const n = numel(out.shape);
    if (n > 0) rc.ctx.dispatch(fillKernel('fill', elemOf(a.dtype), a.dtype === 'bool' ? (a.value ? 1 : 0) : a.value), { out: rc.ctx.buf(out) }, { n }, elementwiseGrid(n), rc.where);
    return [out];
  },
  iota: (_ins, _a, rc) => {
    const out = newValue(rc, 'i32');
    const n = numel(out.shape);
    if (n > 0) rc.ctx.dispatch(fillKernel('iota', 'i32', 'iota'), { out: rc.ctx.buf(out) }, { n }, elementwiseGrid(n), rc.where);
    return [out];
  },
  embedding: (ins, _a, rc) => {
    const [table, ids] = [arg(ins, 0, rc), arg(ins, 1, rc)];
    const [v, d] = [table.shape[0] ?? 0, table.shape[1] ?? 0];
    const out = newValue(rc, table.dtype);
    const rows = numel(ids.shape);
    const code = rc.ctx.statusCode(`${rc.where}: a token id is outside [0, ${v})`);
    if (rows > 0) rc.ctx.dispatch(rowCopyKernel('gather_rows', d, 'gather', v, code), { src: rc.ctx.buf(table), index: rc.ctx.buf(ids), out: rc.ctx.buf(out), status: rc.ctx.status }, { rows }, rowCopyGrid(rows, d), rc.where);
    return [out];
  },
  linear: (ins, _a, rc) => linear(ins, rc),
  matmul: (ins, a, rc) => matmul(ins, a, rc),
  unary: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    const v = UNARY_F32X4[a.fn];
    return elementwise(rc, ins, x.dtype, ([p]) => (v ? v(p as KNode) : cast(UNARY_F64[a.fn](cast(p as KNode, 'f64')), 'f32')), v ? ([p]) => v(p as KNode) : undefined);
  },
  binary: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    if (isFloat(x.dtype)) return elementwise(rc, ins, x.dtype, ([p, q]) => floatBinary(a.fn, p as KNode, q as KNode), vectorBinary(a.fn) ? ([p, q]) => (vectorBinary(a.fn) as (p: KNode, q: KNode) => KNode)(p as KNode, q as KNode) : undefined);
    return elementwise(rc, ins, x.dtype, ([p, q]) => intBinary(a.fn, p as KNode, q as KNode));
  },
  compare: (ins, a, rc) => elementwise(rc, ins, 'bool', ([p, q]) => compareBody(a.fn, p as KNode, q as KNode)),
  logical: (ins, a, rc) => elementwise(rc, ins, 'bool', ([p, q]) => logicalBody(a.fn, p as KNode, q as KNode)),
  where: (ins, _a, rc) => elementwise(rc, ins, arg(ins, 1, rc).dtype, ([c, p, q]) => select(cmp('ne', c as KNode, 0), p as KNode, q as KNode)),
  cast: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    return elementwise(rc, ins, a.to, ([p]) => castBody(x.dtype, a.to, p as KNode));
  },
  reduce: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    const rank = x.shape.length;
    const axes = new Set(a.axes.map((ax) => (ax < 0 ? ax + rank : ax)));
    const out = newValue(rc, x.dtype);
    const rows = numel(out.shape);
    const kern = reduceKernel(x.shape, x.shape.map((_, i) => axes.has(i)), a.fn, elemOf(x.dtype) === 'f32' ? 'f32' : 'i32');
    if (rows > 0) rc.ctx.dispatch(kern, { x: rc.ctx.buf(x), out: rc.ctx.buf(out) }, { rows }, rowGrid(rows), rc.where);
    return [out];
  },
  rmsnorm: (ins, a, rc) => {
    const [x, w] = [arg(ins, 0, rc), arg(ins, 1, rc)];
    const d = x.shape[x.shape.length - 1] ?? 1;
    const out = newValue(rc, x.dtype);
    const rows = numel(x.shape) / Math.max(1, d);
    if (rows > 0) rc.ctx.dispatch(rmsnormKernel(d, a.eps), { x: rc.ctx.buf(x), w: rc.ctx.buf(w), out: rc.ctx.buf(out) }, { rows }, rowGrid(rows), rc.where);
    return [out];
  },
  layernorm: (ins, a, rc) => {
    const [x, w, b] = [arg(ins, 0, rc), arg(ins, 1, rc), arg(ins, 2, rc)];
    const d = x.shape[x.shape.length - 1] ?? 1;
    const out = newValue(rc, x.dtype);
    const rows = numel(x.shape) / Math.max(1, d);
    if (rows > 0) rc.ctx.dispatch(layernormKernel(d, a.eps), { x: rc.ctx.buf(x), w: rc.ctx.buf(w), b: rc.ctx.buf(b), out: rc.ctx.buf(out) }, { rows }, rowGrid(rows), rc.where);
    return [out];
  },
  softmax: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    const axis = a.axis < 0 ? a.axis + x.shape.length : a.axis;
    const len = x.shape[axis] ?? 1;
    const stride = numel(x.shape.slice(axis + 1));
    const out = newValue(rc, x.dtype);
    const rows = numel(x.shape) / Math.max(1, len);
    if (rows > 0 && len > 0) rc.ctx.dispatch(softmaxKernel(len, stride), { x: rc.ctx.buf(x), out: rc.ctx.buf(out) }, { rows }, rowGrid(rows), rc.where);
    return [out];
  },
  rope: (ins, a, rc) => {
    const [x, pos] = [arg(ins, 0, rc), arg(ins, 1, rc)];
    const [s, h, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0, x.shape[2] ?? 0];
    const out = newValue(rc, x.dtype);
    const inv = rc.ctx.constant(Array.from(ropeInvFreq(a.theta, a.rotaryDim)), 'f32', `rope inverse frequencies theta=${a.theta}`);
    if (s > 0) rc.ctx.dispatch(ropeKernel(h, d, a.rotaryDim), { x: rc.ctx.buf(x), pos: rc.ctx.buf(pos), invFreq: inv, out: rc.ctx.buf(out) }, { rows: s }, rowGrid(s), rc.where);
    return [out];
  },
  reshape: (ins, _a, rc) => [passThrough(arg(ins, 0, rc), outShape(rc))],
  transpose: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    const st = rowMajorStrides(x.shape);
    return stridedCopy(rc, x, a.perm.map((p) => st[p] ?? 0), 0);
  },
  concat: (ins, a, rc) => {
    const out = newValue(rc, arg(ins, 0, rc).dtype);
    const axis = a.axis < 0 ? a.axis + out.shape.length : a.axis;
    const outer = numel(out.shape.slice(0, axis));
    const inner = numel(out.shape.slice(axis + 1));
    const outRow = (out.shape[axis] ?? 0) * inner;
    let off = 0;
    for (const t of ins) {
      const inRow = (t.shape[axis] ?? 0) * inner;
      if (inRow > 0 && outer > 0) rc.ctx.dispatch(copy2dKernel('concat_part', outer, inRow, outRow, off, elemOf(t.dtype)), { x: rc.ctx.buf(t), out: rc.ctx.buf(out) }, {}, copy2dGrid(outer, inRow), rc.where);
      off += inRow;
    }
    return [out];
  },
  slice: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    const axis = a.axis < 0 ? a.axis + x.shape.length : a.axis;
    const start = rc.dim(a.start);
    const len = outShape(rc)[axis] ?? 0;
    if (start + len > (x.shape[axis] ?? 0)) throw new LoweringError(`${rc.where}: slice [${start}, ${start + len}) exceeds dim ${x.shape[axis] ?? 0}`);
    const st = rowMajorStrides(x.shape);
    return stridedCopy(rc, x, st, start * (st[axis] ?? 0));
  },
  attention: (ins, a, rc) => {
    const [q, k, v, qp, kp] = [0, 1, 2, 3, 4].map((i) => arg(ins, i, rc)) as [LValue, LValue, LValue, LValue, LValue];
    const spec = {
      sq: q.shape[0] ?? 0, sk: k.shape[0] ?? 0, heads: q.shape[1] ?? 0, kvHeads: k.shape[1] ?? 1, headDim: q.shape[2] ?? 0, valueDim: v.shape[2] ?? 0,
      scale: a.scale, causal: a.causal, queryBlock: 8,
    };
    const out = newValue(rc, q.dtype);
    if (spec.sq > 0 && spec.heads > 0)
      rc.ctx.dispatch(attentionKernel(spec), { q: rc.ctx.buf(q), k: rc.ctx.buf(k), v: rc.ctx.buf(v), qPos: rc.ctx.buf(qp), kPos: rc.ctx.buf(kp), out: rc.ctx.buf(out) }, {}, attentionGrid(spec), rc.where);
    return [out];
  },
  topk: (ins, a, rc) => topk(ins, a, rc),
  gatherRows: (ins, _a, rc) => {
    const [x, idx] = [arg(ins, 0, rc), arg(ins, 1, rc)];
    const out = newValue(rc, x.dtype);
    const width = numel(x.shape.slice(1));
    const rows = idx.shape[0] ?? 0;
    const code = rc.ctx.statusCode(`${rc.where}: a row index is outside [0, ${x.shape[0] ?? 0})`);
    if (rows > 0 && width > 0) rc.ctx.dispatch(rowCopyKernel('gather_rows', width, 'gather', x.shape[0] ?? 0, code), { src: rc.ctx.buf(x), index: rc.ctx.buf(idx), out: rc.ctx.buf(out), status: rc.ctx.status }, { rows }, rowCopyGrid(rows, width), rc.where);
    return [out];
  },
  scatterRows: (ins, _a, rc) => {
    const [base, idx, src] = [arg(ins, 0, rc), arg(ins, 1, rc), arg(ins, 2, rc)];
    const [out] = stridedCopy(rc, base, rowMajorStrides(base.shape), 0) as [LValue];
    const width = numel(base.shape.slice(1));
    const rows = idx.shape[0] ?? 0;
    const code = rc.ctx.statusCode(`${rc.where}: a row index is outside [0, ${base.shape[0] ?? 0})`);
    if (rows > 0 && width > 0) rc.ctx.dispatch(rowCopyKernel('scatter_rows', width, 'scatter', base.shape[0] ?? 0, code), { src: rc.ctx.buf(src), index: rc.ctx.buf(idx), out: rc.ctx.buf(out), status: rc.ctx.status }, { rows }, rowCopyGrid(rows, width), rc.where);
    return [out];
  },
  modRoute: (ins, a, rc) => modRoute(ins, a, rc),
  fusedRoute: (ins, a, rc) => {
    const sel = routeSelection(ins, a, rc, 4);
    return [sel.xKept, sel.posKept, sel.rowMap, sel.gate, sel.kept];
  },
  stringCombine: (ins, _a, rc) => lowerStringCombine(ins, rc),
  fusedElementwise: (ins, a, rc) => lowerFusedElementwise(ins, a, rc),
  fusedLinear: (ins, a, rc) => lowerFusedLinear(ins, a, rc),
};

export type { NodeOf };
export const roundingNeeded = (d: DType): 'round_f16' | 'round_bf16' | undefined => (d === 'f16' ? 'round_f16' : d === 'bf16' ? 'round_bf16' : undefined);
export { f32 };
