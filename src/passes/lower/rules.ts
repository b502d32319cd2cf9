/**
 * How each graph op lowers to kernels: one rule per op kind in an exhaustive mapped table (a new op fails tsc
 * here). Rules receive lowered operands (buffers with concrete shapes, gathered views, weights not yet given a
 * buffer) and return lowered results; kernels come from the Target's schedules through families.ts.
 */
import { type DType, isFloat, type OpAttrs, type OpKind } from '../../ir/index.js';
import { cacheWriteKernel, rowMajorStrides, broadcastStrides } from '../../kernel/builders/elementwise.js';
import { routeRankKernel, scatterByRankKernel, tokenGrid } from '../../kernel/builders/route.js';
import { routeSelectKernel } from '../../kernel/builders/route-select.js';
import { ropeInvFreq } from '../../kernel/builders/reduce.js';
import { cast, cmp, select } from '../../kernel/dsl.js';
import type { KNode } from '../../kernel/ir.js';
import { elemBytes } from '../../kernel/ir.js';
import { elemOf, LoweringError, type LValue, numel } from './context.js';
import { castBody, compareBody, floatBinary, intBinary, logicalBody, UNARY_F32, UNARY_F32X4, UNARY_F64, vectorBinary } from './elementwise.js';
import {
  attentionOp, copy2dOp, elementwiseOp, fillOp, layernormOp, reduceOp, rmsnormOp, ropeOp, rowCopyOp, softmaxOp, bmmOp,
} from './families.js';
import { lowerFusedElementwise, lowerStringCombine } from './fused.js';
import { linear, lowerFusedLinear } from './linear.js';
import { combine, gatherSelect, routeSelection, rowThreads } from './route.js';
import { cacheStatusKernel, cacheWriteGatherKernel } from '../../kernel/builders/gather/copies.js';
import { gatherGrid } from '../../kernel/builders/gather/form.js';
import { gatherByRankKernel, gatherRouteStatusKernel, gatherSearchKernel } from '../../kernel/builders/gather/route.js';
import { arg, elementwise, materialize, newValue, outShape, requireStatic, type Rule, type RuleContext, storageOf } from './rule-context.js';
export type { RuleContext } from './rule-context.js';

/** A strided copy of x into a new value of the output shape (transpose, slice). */
function stridedCopy(rc: RuleContext, x: LValue, strides: readonly number[], offset: number): LValue[] {
  const out = newValue(rc, x.dtype);
  const e = storageOf(rc, x);
  elementwiseOp(rc, { name: `copy_${rc.node.op}`, shape: out.shape, inputs: [{ buffer: 'in0', elem: e, strides, offset }], out: elemOf(x.dtype), body: (xs) => xs[0] as KNode }, { in0: rc.ctx.buf(x), out: rc.ctx.buf(out) }, rc.where);
  return [out];
}

function matmul(ins: readonly LValue[], a: OpAttrs['matmul'], rc: RuleContext): LValue[] {
  const [x, y] = [materialize(rc, arg(ins, 0, rc)), materialize(rc, arg(ins, 1, rc))];
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
  bmmOp(rc, m, k, n, a.transposeA ? [1, m] : [k, 1], a.transposeB ? [1, k] : [n, 1], { a: rc.ctx.buf(x), b: rc.ctx.buf(y), aBatch: aOff, bBatch: bOff, out: rc.ctx.buf(out) }, numel(batch));
  return [out];
}

/** Graph-level top-k: the route's select kernel (index order), plus rank + scatter for score order. */
function topk(ins: readonly LValue[], a: OpAttrs['topk'], rc: RuleContext): LValue[] {
  const scores = materialize(rc, arg(ins, 0, rc));
  const n = scores.shape[0] ?? 0;
  const k = outShape(rc)[0] ?? 0;
  const out = newValue(rc, 'i32');
  const c = rc.ctx;
  const mask = ins[1] ? c.buf(materialize(rc, ins[1])) : c.constant(new Array<number>(Math.max(1, n)).fill(1), 'i32', 'all candidates');
  const code = c.statusCode(`${rc.where}: k = ${k} but fewer candidates are selectable`);
  const s32 = c.elem(c.buf(scores)) === 'f32' ? c.buf(scores) : undefined;
  if (s32 === undefined) throw new LoweringError(`${rc.where}: topk scores must be f32 storage`);
  if (n === 0) return [out];
  if (rc.target.schedules.route.kind === 'gather') {
    // Gather form: ranks by counting, then the k kept candidates in index order (a search over their counts)
    // or in score order (the candidate of each rank).
    c.dispatch(gatherRouteStatusKernel(n, code), { mask, status: c.status }, { k, expected: -1 }, gatherGrid(1), `${rc.where} candidate count check`);
    const { rank, counts } = gatherSelect(rc, n, s32, mask, k, rc.where);
    if (k > 0) {
      if (a.order === 'index') c.dispatch(gatherSearchKernel(n, n), { counts, out: c.buf(out) }, { count: k }, gatherGrid(k), rc.where);
      else c.dispatch(gatherByRankKernel(n), { rank, out: c.buf(out) }, { k }, gatherGrid(k), rc.where);
    }
    return [out];
  }
  const scratch = (label: string, elem: 'i32' | 'f32' = 'i32'): number => c.temp(Math.max(1, n), elem, `${rc.where} ${label}`);
  const ones = c.temp(Math.max(1, n), 'f32', `${rc.where} unit weights`);
  fillOp(rc, ones, n, 1, rc.where);
  const kept = a.order === 'index' ? c.buf(out) : scratch('kept candidates');
  const threads = rc.target.schedules.route.kind === 'cpu' ? 1 : Math.min(256, rc.target.limits.maxThreadsPerWorkgroup);
  // Every non-candidate is "kept" too by the select kernel: rowMap gets n - candidates + k rows at most n.
  c.dispatch(routeSelectKernel({ s: n, kept: n, threads }), {
    scores: s32, mask, pos: c.constant(Array.from({ length: n }, (_, i) => i), 'i32', 'iota'), weights: ones,
    rowMap: scratch('rows'), keptPos: scratch('positions'), keptGate: scratch('gates', 'f32'), keptCand: kept, status: c.status,
  }, { k, expected: -1, code }, [1, 1, 1], rc.where);
  if (a.order === 'score') {
    const keep = scratch('keep');
    const rank = scratch('rank');
    c.dispatch(routeRankKernel(n, true, false), { scores: s32, mask, keep, rank }, { S: n, k }, tokenGrid(n), rc.where);
    c.dispatch(scatterByRankKernel(n), { rank, out: c.buf(out) }, { k }, [1, 1, 1], rc.where);
  }
  return [out];
}

function modRoute(ins: readonly LValue[], a: OpAttrs['modRoute'], rc: RuleContext): LValue[] {
  const [x, , mask] = [arg(ins, 0, rc), arg(ins, 1, rc), arg(ins, 2, rc)];
  const sel = routeSelection(ins, a, rc, 1);
  const [h1, u, ...extras] = rc.lowerRegion(a.body, [sel.xKept, sel.posKept]);
  if (h1 === undefined || u === undefined) throw new LoweringError(`${rc.where}: body returned fewer than 2 values`);
  return [combine(rc, x, h1, u, sel.rowMap, sel.gate, mask), sel.kept, ...extras];
}

const passThrough = (x: LValue, shape: readonly number[]): LValue => ({ ...x, shape });

/** Copies (embedding, gathers) of a table of `rows` rows in windows that each fit one binding. */
function tableWindows(rc: RuleContext, rows: number, rowBytes: number): { start: number; count: number }[] {
  const per = Math.max(1, Math.floor(rc.target.limits.maxBindingBytes / Math.max(1, rowBytes)));
  const out: { start: number; count: number }[] = [];
  for (let s = 0; s < rows; s += per) out.push({ start: s, count: Math.min(per, rows - s) });
  return out;
}

function embedding(ins: readonly LValue[], rc: RuleContext): LValue[] {
  const [table, ids] = [arg(ins, 0, rc), materialize(rc, arg(ins, 1, rc))];
  const [v, d] = [table.shape[0] ?? 0, table.shape[1] ?? 0];
  const out = newValue(rc, table.dtype);
  const rows = numel(ids.shape);
  const code = rc.ctx.statusCode(`${rc.where}: a token id is outside [0, ${v})`);
  const c = rc.ctx;
  if (typeof table.ref !== 'number' && table.gather === undefined) {
    const weight = table.ref.weight;
    const windows = tableWindows(rc, v, d * elemBytes(c.weightElem(table.dtype)));
    for (const w of windows) {
      const src = windows.length === 1 ? c.weight(weight, { kind: 'plain' }) : c.weight(weight, { kind: 'plain', rows: w });
      rowCopyOp(rc, { mode: 'gather', width: d, srcRows: v, src, index: c.buf(ids), out: c.buf(out), rows, statusCode: code, label: rc.where, ...(windows.length > 1 ? { window: { base: w.start, count: w.count } } : {}) });
    }
    return [out];
  }
  rowCopyOp(rc, { mode: 'gather', width: d, srcRows: v, src: c.buf(materialize(rc, table)), index: c.buf(ids), out: c.buf(out), rows, statusCode: code, label: rc.where });
  return [out];
}

function cacheWrite(ins: readonly LValue[], a: OpAttrs['cacheWrite'], rc: RuleContext): LValue[] {
  const [cache0, rowsV] = [arg(ins, 0, rc), materialize(rc, arg(ins, 1, rc))];
  requireStatic(rc, cache0);
  const c = rc.ctx;
  // In place when nothing else reads the old cache (a state buffer bound per run); else on a copy.
  const cache = rc.otherUses(0) === 0 && typeof cache0.ref === 'number' && cache0.gather === undefined ? cache0 : stridedCopy(rc, materialize(rc, cache0), rowMajorStrides(cache0.shape), 0)[0] ?? cache0;
  const capacity = cache.shape[0] ?? 0;
  const n = rowsV.shape[0] ?? 0;
  const width = numel(cache.shape.slice(1));
  const offset = rc.dynDim(a.offset);
  const code = c.statusCode(`${rc.where}: the rows written exceed the cache's ${capacity} rows`);
  const elem = c.elem(c.buf(cache));
  if (c.elem(c.buf(rowsV)) !== elem) throw new LoweringError(`${rc.where}: cache is ${elem}, rows are ${c.elem(c.buf(rowsV))}`);
  if (n > 0 && width > 0 && rc.target.schedules.elementwise.kind === 'gather') {
    // Gather form: the status check, then a gather over the whole cache that copies the old rows and takes the
    // new ones (the cache is read only at the element written: the same in place and on a new texture).
    c.dispatch(cacheStatusKernel(code), { status: c.status }, { offset, n, capacity }, gatherGrid(1), `${rc.where} capacity check`);
    c.dispatch(cacheWriteGatherKernel(width, elem), { rows: c.buf(rowsV), cache: c.buf(cache) }, { offset, n, capacity }, gatherGrid(capacity * width), rc.where);
  } else if (n > 0 && width > 0)
    c.dispatch(cacheWriteKernel(width, elem, rowThreads(rc, width), code), { rows: c.buf(rowsV), cache: c.buf(cache), status: c.status }, { offset, capacity }, [n, 1, 1], rc.where);
  return [{ shape: cache.shape, dtype: cache.dtype, ref: c.buf(cache) }];
}

/** f16 / bf16 results of compute ops are rounded to their precision; data movement keeps values as they are. */
export const ROUNDED_OPS: ReadonlySet<OpKind> = new Set<OpKind>([
  'full', 'linear', 'matmul', 'unary', 'binary', 'where', 'cast', 'reduce', 'rmsnorm', 'layernorm', 'softmax', 'rope', 'attention',
  'modRoute', 'fusedRoute', 'stringCombine', 'fusedElementwise', 'fusedLinear',
]);

export const LOWER: { readonly [K in OpKind]: Rule<K> } = {
  input: () => {
    throw new LoweringError('inputs are bound by the driver');
  },
  weight: (_ins, a, rc) => [{ shape: outShape(rc), dtype: a.dtype, ref: { weight: a.name } }],
  full: (_ins, a, rc) => {
    const out = newValue(rc, a.dtype);
    fillOp(rc, rc.ctx.buf(out), numel(out.shape), a.dtype === 'bool' ? (a.value ? 1 : 0) : a.value, rc.where);
    return [out];
  },
  iota: (_ins, _a, rc) => {
    const out = newValue(rc, 'i32');
    fillOp(rc, rc.ctx.buf(out), numel(out.shape), 'iota', rc.where);
    return [out];
  },
  embedding: (ins, _a, rc) => embedding(ins, rc),
  linear: (ins, _a, rc) => linear(ins, rc),
  matmul: (ins, a, rc) => matmul(ins, a, rc),
  unary: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    const v = UNARY_F32X4[a.fn];
    const scalar = rc.target.caps.f64Math ? (p: KNode): KNode => (v ? v(p) : cast(UNARY_F64[a.fn](cast(p, 'f64')), 'f32')) : (p: KNode): KNode => UNARY_F32[a.fn](p);
    return elementwise(rc, ins, x.dtype, ([p]) => scalar(p as KNode), v ? ([p]) => v(p as KNode) : undefined);
  },
  binary: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    const f64 = rc.target.caps.f64Math;
    if (isFloat(x.dtype)) {
      const vb = vectorBinary(a.fn);
      return elementwise(rc, ins, x.dtype, ([p, q]) => floatBinary(a.fn, p as KNode, q as KNode, f64), vb ? ([p, q]) => vb(p as KNode, q as KNode) : undefined);
    }
    return elementwise(rc, ins, x.dtype, ([p, q]) => intBinary(a.fn, p as KNode, q as KNode, f64));
  },
  compare: (ins, a, rc) => elementwise(rc, ins, 'bool', ([p, q]) => compareBody(a.fn, p as KNode, q as KNode)),
  logical: (ins, a, rc) => elementwise(rc, ins, 'bool', ([p, q]) => logicalBody(a.fn, p as KNode, q as KNode)),
  where: (ins, _a, rc) => elementwise(rc, ins, arg(ins, 1, rc).dtype, ([c, p, q]) => select(cmp('ne', c as KNode, 0), p as KNode, q as KNode)),
  cast: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    // A float value held as f32 is already exact in f32: a cast to f32 is a view, no kernel.
    if (isFloat(x.dtype) && a.to === 'f32' && typeof x.ref === 'number' && rc.ctx.elem(x.ref) === 'f32') return [{ ...x, shape: outShape(rc), dtype: 'f32' }];
    return elementwise(rc, ins, a.to, ([p]) => castBody(x.dtype, a.to, p as KNode));
  },
  reduce: (ins, a, rc) => {
    const x = materialize(rc, arg(ins, 0, rc));
    const rank = x.shape.length;
    const axes = new Set(a.axes.map((ax) => (ax < 0 ? ax + rank : ax)));
    const out = newValue(rc, x.dtype);
    const rows = numel(out.shape);
    reduceOp(rc, x.shape, x.shape.map((_, i) => axes.has(i)), a.fn, elemOf(x.dtype) === 'f32' ? 'f32' : 'i32', { x: rc.ctx.buf(x), out: rc.ctx.buf(out) }, rows);
    return [out];
  },
  rmsnorm: (ins, a, rc) => {
    const [x, w] = [arg(ins, 0, rc), materialize(rc, arg(ins, 1, rc))];
    requireStatic(rc, x);
    const d = x.shape[x.shape.length - 1] ?? 1;
    const out = newValue(rc, x.dtype);
    const rows = numel(x.shape) / Math.max(1, d);
    const base = typeof x.ref === 'number' ? x.ref : rc.ctx.buf(x);
    rmsnormOp(rc, d, a.eps, { x: base, w: rc.ctx.buf(w), out: rc.ctx.buf(out), ...(x.gather !== undefined ? { xRows: x.gather } : {}) }, rows, rc.where);
    return [out];
  },
  layernorm: (ins, a, rc) => {
    const [x, w, b] = [0, 1, 2].map((i) => materialize(rc, arg(ins, i, rc))) as [LValue, LValue, LValue];
    const d = x.shape[x.shape.length - 1] ?? 1;
    const out = newValue(rc, x.dtype);
    layernormOp(rc, d, a.eps, { x: rc.ctx.buf(x), w: rc.ctx.buf(w), b: rc.ctx.buf(b), out: rc.ctx.buf(out) }, numel(x.shape) / Math.max(1, d));
    return [out];
  },
  softmax: (ins, a, rc) => {
    const x = materialize(rc, arg(ins, 0, rc));
    const axis = a.axis < 0 ? a.axis + x.shape.length : a.axis;
    const len = x.shape[axis] ?? 1;
    const stride = numel(x.shape.slice(axis + 1));
    const out = newValue(rc, x.dtype);
    softmaxOp(rc, len, stride, { x: rc.ctx.buf(x), out: rc.ctx.buf(out) }, numel(x.shape) / Math.max(1, len));
    return [out];
  },
  rope: (ins, a, rc) => {
    const [x, pos] = [materialize(rc, arg(ins, 0, rc)), materialize(rc, arg(ins, 1, rc))];
    const [s, h, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0, x.shape[2] ?? 0];
    const out = newValue(rc, x.dtype);
    const inv = rc.ctx.constant(Array.from(ropeInvFreq(a.theta, a.rotaryDim)), 'f32', `rope inverse frequencies theta=${a.theta}`);
    ropeOp(rc, h, d, a.rotaryDim, { x: rc.ctx.buf(x), pos: rc.ctx.buf(pos), invFreq: inv, out: rc.ctx.buf(out) }, s);
    return [out];
  },
  reshape: (ins, _a, rc) => {
    const x = arg(ins, 0, rc);
    requireStatic(rc, x);
    // A gathered view reshapes only when rows stay rows (the trailing dims regroup within a row).
    if (x.gather !== undefined) {
      const shape = outShape(rc);
      if ((shape[0] ?? -1) !== (x.shape[0] ?? -2)) return [passThrough(materialize(rc, x), shape)];
      return [passThrough(x, shape)];
    }
    return [passThrough(x, outShape(rc))];
  },
  transpose: (ins, a, rc) => {
    const x = materialize(rc, arg(ins, 0, rc));
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
    for (const t0 of ins) {
      requireStatic(rc, t0);
      const t = materialize(rc, t0);
      const inRow = (t.shape[axis] ?? 0) * inner;
      copy2dOp(rc, rc.ctx.buf(t), rc.ctx.buf(out), outer, inRow, outRow, off, rc.where);
      off += inRow;
    }
    return [out];
  },
  slice: (ins, a, rc) => {
    const x = arg(ins, 0, rc);
    const axis = a.axis < 0 ? a.axis + x.shape.length : a.axis;
    const end = rc.dynDim(a.end);
    // A prefix along axis 0 is a view; with a dynamic end it is the valid rows of a cache (attention keys).
    if (axis === 0 && rc.dynDim(a.start) === 0 && x.gather === undefined && x.rows === undefined) {
      if (typeof end === 'number' && end === (x.shape[0] ?? 0)) return [x];
      if (typeof end !== 'number') return [{ ...x, rows: end }];
    }
    requireStatic(rc, x);
    const start = rc.dim(a.start);
    const len = outShape(rc)[axis] ?? 0;
    if (start + len > (x.shape[axis] ?? 0)) throw new LoweringError(`${rc.where}: slice [${start}, ${start + len}) exceeds dim ${x.shape[axis] ?? 0}`);
    const xv = materialize(rc, x);
    const st = rowMajorStrides(xv.shape);
    return stridedCopy(rc, xv, st, start * (st[axis] ?? 0));
  },
  attention: (ins, a, rc) => {
    const [q, k, v, qp, kp] = [0, 1, 2, 3, 4].map((i) => arg(ins, i, rc)) as [LValue, LValue, LValue, LValue, LValue];
    for (const t of [q, qp]) requireStatic(rc, t);
    const kvLen = k.rows ?? v.rows ?? kp.rows ?? (k.shape[0] ?? 0);
    const spec = {
      sq: q.shape[0] ?? 0, sk: k.shape[0] ?? 0, heads: q.shape[1] ?? 0, kvHeads: k.shape[1] ?? 1, headDim: q.shape[2] ?? 0, valueDim: v.shape[2] ?? 0,
      scale: a.scale, causal: a.causal,
    };
    const out = newValue(rc, q.dtype);
    const b = (x: LValue): number => rc.ctx.buf(materialize(rc, { ...x, rows: undefined }));
    attentionOp(rc, spec, { q: b(q), k: b(k), v: b(v), qPos: b(qp), kPos: b(kp), out: rc.ctx.buf(out) }, kvLen);
    return [out];
  },
  topk: (ins, a, rc) => topk(ins, a, rc),
  gatherRows: (ins, _a, rc) => {
    const [x, idx] = [materialize(rc, arg(ins, 0, rc)), materialize(rc, arg(ins, 1, rc))];
    const out = newValue(rc, x.dtype);
    const width = numel(x.shape.slice(1));
    const code = rc.ctx.statusCode(`${rc.where}: a row index is outside [0, ${x.shape[0] ?? 0})`);
    rowCopyOp(rc, { mode: 'gather', width, srcRows: x.shape[0] ?? 0, src: rc.ctx.buf(x), index: rc.ctx.buf(idx), out: rc.ctx.buf(out), rows: idx.shape[0] ?? 0, statusCode: code, label: rc.where });
    return [out];
  },
  scatterRows: (ins, _a, rc) => {
    const [base, idx, src] = [0, 1, 2].map((i) => materialize(rc, arg(ins, i, rc))) as [LValue, LValue, LValue];
    const [out] = stridedCopy(rc, base, rowMajorStrides(base.shape), 0) as [LValue];
    const width = numel(base.shape.slice(1));
    const code = rc.ctx.statusCode(`${rc.where}: a row index is outside [0, ${base.shape[0] ?? 0})`);
    rowCopyOp(rc, { mode: 'scatter', width, srcRows: base.shape[0] ?? 0, src: rc.ctx.buf(src), index: rc.ctx.buf(idx), out: rc.ctx.buf(out), rows: idx.shape[0] ?? 0, statusCode: code, label: rc.where });
    return [out];
  },
  cacheWrite: (ins, a, rc) => cacheWrite(ins, a, rc),
  modRoute: (ins, a, rc) => modRoute(ins, a, rc),
  fusedRoute: (ins, a, rc) => {
    const sel = routeSelection(ins, a, rc, 4);
    return [sel.xKept, sel.posKept, sel.rowMap, sel.gate, sel.kept];
  },
  stringCombine: (ins, _a, rc) => lowerStringCombine(ins, rc),
  fusedElementwise: (ins, a, rc) => lowerFusedElementwise(ins, a, rc),
  fusedLinear: (ins, a, rc) => lowerFusedLinear(ins, a, rc),
};

export const roundingNeeded = (d: DType): 'round_f16' | 'round_bf16' | undefined => (d === 'f16' ? 'round_f16' : d === 'bf16' ? 'round_bf16' : undefined);
