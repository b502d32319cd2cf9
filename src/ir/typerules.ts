/**
 * Shape and dtype inference: one rule per op, in an exhaustive mapped table. A rule takes the input types and
 * the attributes and returns the output types, or throws TypeRuleError with a message naming the operands.
 */
import { isFloat, type DType } from './dtype.js';
import { exprArity, exprText } from './expr.js';
import type { Graph } from './graph.js';
import type { OpAttrs, OpKind } from './ops.js';
import { add, type Dim, dimEq, dimText, isConst, mul, shapeEq, shapeText, sub } from './sym.js';
import { type TensorType, TypeRuleError, typeText } from './types.js';

export interface TypeRule<K extends OpKind> {
  /** Inclusive bounds on the number of inputs. */
  readonly arity: readonly [number, number];
  readonly infer: (ins: readonly TensorType[], attrs: OpAttrs[K]) => TensorType[];
}

function fail(msg: string): never {
  throw new TypeRuleError(msg);
}

function at<T>(xs: readonly T[], i: number): T {
  const v = xs[i];
  if (v === undefined) return fail(`missing operand ${i}`);
  return v;
}

function lastDim(t: TensorType, what: string): Dim {
  if (t.shape.length === 0) return fail(`${what} must have rank >= 1, got ${typeText(t)}`);
  return at(t.shape, t.shape.length - 1);
}

function requireRank(t: TensorType, rank: number, what: string): void {
  if (t.shape.length !== rank) fail(`${what} must have rank ${rank}, got ${typeText(t)}`);
}

function requireDType(t: TensorType, ok: (d: DType) => boolean, want: string, what: string): void {
  if (!ok(t.dtype)) fail(`${what} must be ${want}, got ${typeText(t)}`);
}

function requireSameDType(a: TensorType, b: TensorType, op: string): void {
  if (a.dtype !== b.dtype) fail(`${op}: dtype mismatch ${typeText(a)} vs ${typeText(b)}`);
}

/** `msg` may be a function: messages that print whole types are built only when the check fails. */
function requireDimEq(a: Dim, b: Dim, msg: string | (() => string)): void {
  if (!dimEq(a, b)) fail(`${typeof msg === 'string' ? msg : msg()}: ${dimText(a)} vs ${dimText(b)}`);
}

export function normAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(`${op}: axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** Numpy broadcasting of symbolic shapes: dims must be equal or the constant 1. */
export function broadcastShapes(a: readonly Dim[], b: readonly Dim[], op: string): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (dimEq(da, db) || db === 1) out.push(da);
    else if (da === 1) out.push(db);
    else fail(`${op}: shapes ${shapeText(a)} and ${shapeText(b)} do not broadcast (${dimText(da)} vs ${dimText(db)})`);
  }
  return out;
}

export function numElements(shape: readonly Dim[]): Dim {
  return shape.reduce<Dim>((acc, d) => mul(acc, d), 1);
}

const elementwiseFloat = (ins: readonly TensorType[], op: string): TensorType[] => {
  const x = at(ins, 0);
  requireDType(x, isFloat, 'a float type', `${op} operand`);
  return [x];
};

function checkRegionSignature(body: Graph, x: TensorType, kept: Dim): TensorType[] {
  const byId = new Map(body.nodes.map((n) => [n.id, n]));
  const params = body.nodes.filter((n) => n.op === 'input');
  if (params.length !== 2) fail(`modRoute body must have exactly 2 inputs (x_kept, positions_kept), has ${params.length}`);
  const [px, pp] = params.map((p) => at(p.outputs, 0));
  const d = at(x.shape, 1);
  const wantX: TensorType = { dtype: x.dtype, shape: [kept, d] };
  const wantP: TensorType = { dtype: 'i32', shape: [kept] };
  if (px === undefined || px.dtype !== wantX.dtype || !shapeEq(px.shape, wantX.shape))
    fail(`modRoute body input 0 must be ${typeText(wantX)}, got ${px ? typeText(px) : 'nothing'}`);
  if (pp === undefined || pp.dtype !== 'i32' || !shapeEq(pp.shape, wantP.shape))
    fail(`modRoute body input 1 must be ${typeText(wantP)}, got ${pp ? typeText(pp) : 'nothing'}`);
  const outs = body.outputs.map((o) => {
    const t = byId.get(o.value.node)?.outputs[o.value.output];
    return t ?? fail(`modRoute body output '${o.name}' refers to a missing value`);
  });
  if (outs.length < 2) fail(`modRoute body must yield at least (h1, u), yields ${outs.length}`);
  outs.slice(0, 2).forEach((t, i) => {
    if (t.dtype !== x.dtype || !shapeEq(t.shape, wantX.shape))
      fail(`modRoute body output ${i} (${i === 0 ? 'h1' : 'u'}) must be ${typeText(wantX)}, got ${typeText(t)}`);
  });
  const extras = outs.slice(2);
  extras.forEach((t, i) => {
    if (t.shape.length === 0 || !dimEq(at(t.shape, 0), kept))
      fail(`modRoute body extra output ${i + 2} must have leading dim ${dimText(kept)}, got ${typeText(t)}`);
  });
  return extras;
}

export const TYPE_RULES: { readonly [K in OpKind]: TypeRule<K> } = {
  input: { arity: [0, 0], infer: (_ins, a) => [{ dtype: a.dtype, shape: a.shape }] },
  weight: { arity: [0, 0], infer: (_ins, a) => [{ dtype: a.dtype, shape: a.shape }] },
  full: { arity: [0, 0], infer: (_ins, a) => [{ dtype: a.dtype, shape: a.shape }] },
  iota: { arity: [0, 0], infer: (_ins, a) => [{ dtype: 'i32', shape: [a.length] }] },
  embedding: {
    arity: [2, 2],
    infer: (ins) => {
      const [table, ids] = [at(ins, 0), at(ins, 1)];
      requireRank(table, 2, 'embedding table');
      requireDType(ids, (d) => d === 'i32', 'i32', 'embedding ids');
      return [{ dtype: table.dtype, shape: [...ids.shape, at(table.shape, 1)] }];
    },
  },
  linear: {
    arity: [2, 3],
    infer: (ins) => {
      const [x, w] = [at(ins, 0), at(ins, 1)];
      requireDType(x, isFloat, 'a float type', 'linear input');
      requireDType(w, isFloat, 'a float type', 'linear weight');
      requireRank(w, 2, 'linear weight [out, in]');
      const [out, inDim] = [at(w.shape, 0), at(w.shape, 1)];
      requireDimEq(lastDim(x, 'linear input'), inDim, () => `linear(${typeText(x)}, ${typeText(w)}): inner dims`);
      const bias = ins[2];
      if (bias !== undefined) {
        requireRank(bias, 1, 'linear bias');
        requireDimEq(at(bias.shape, 0), out, 'linear bias length vs out features');
      }
      return [{ dtype: x.dtype, shape: [...x.shape.slice(0, -1), out] }];
    },
  },
  matmul: {
    arity: [2, 2],
    infer: (ins, a) => {
      const [x, y] = [at(ins, 0), at(ins, 1)];
      requireSameDType(x, y, 'matmul');
      if (x.shape.length < 2 || y.shape.length < 2) fail(`matmul operands must have rank >= 2: ${typeText(x)}, ${typeText(y)}`);
      const r = x.shape.length;
      const s = y.shape.length;
      const [m, k1] = a.transposeA ? [at(x.shape, r - 1), at(x.shape, r - 2)] : [at(x.shape, r - 2), at(x.shape, r - 1)];
      const [k2, n] = a.transposeB ? [at(y.shape, s - 1), at(y.shape, s - 2)] : [at(y.shape, s - 2), at(y.shape, s - 1)];
      requireDimEq(k1, k2, () => `matmul(${typeText(x)}, ${typeText(y)}): inner dims`);
      const batch = broadcastShapes(x.shape.slice(0, -2), y.shape.slice(0, -2), 'matmul batch');
      return [{ dtype: x.dtype, shape: [...batch, m, n] }];
    },
  },
  unary: { arity: [1, 1], infer: (ins, a) => elementwiseFloat(ins, a.fn) },
  binary: {
    arity: [2, 2],
    infer: (ins, a) => {
      const [x, y] = [at(ins, 0), at(ins, 1)];
      requireSameDType(x, y, a.fn);
      if (x.dtype === 'bool') fail(`${a.fn} is not defined on bool`);
      return [{ dtype: x.dtype, shape: broadcastShapes(x.shape, y.shape, a.fn) }];
    },
  },
  compare: {
    arity: [2, 2],
    infer: (ins, a) => {
      const [x, y] = [at(ins, 0), at(ins, 1)];
      requireSameDType(x, y, a.fn);
      return [{ dtype: 'bool', shape: broadcastShapes(x.shape, y.shape, a.fn) }];
    },
  },
  logical: {
    arity: [2, 2],
    infer: (ins, a) => {
      const [x, y] = [at(ins, 0), at(ins, 1)];
      requireDType(x, (d) => d === 'bool', 'bool', `${a.fn} operand`);
      requireDType(y, (d) => d === 'bool', 'bool', `${a.fn} operand`);
      return [{ dtype: 'bool', shape: broadcastShapes(x.shape, y.shape, a.fn) }];
    },
  },
  where: {
    arity: [3, 3],
    infer: (ins) => {
      const [c, x, y] = [at(ins, 0), at(ins, 1), at(ins, 2)];
      requireDType(c, (d) => d === 'bool', 'bool', 'where condition');
      requireSameDType(x, y, 'where');
      return [{ dtype: x.dtype, shape: broadcastShapes(c.shape, broadcastShapes(x.shape, y.shape, 'where'), 'where') }];
    },
  },
  cast: { arity: [1, 1], infer: (ins, a) => [{ dtype: a.to, shape: at(ins, 0).shape }] },
  reduce: {
    arity: [1, 1],
    infer: (ins, a) => {
      const x = at(ins, 0);
      if (x.dtype === 'bool') fail(`reduce ${a.fn} is not defined on bool`);
      const axes = new Set(a.axes.map((ax) => normAxis(ax, x.shape.length, `reduce ${a.fn}`)));
      if (axes.size !== a.axes.length) fail(`reduce ${a.fn}: repeated axis in [${a.axes.join(', ')}]`);
      const shape = x.shape.flatMap((d, i) => (axes.has(i) ? (a.keepDims ? [1] : []) : [d]));
      return [{ dtype: x.dtype, shape }];
    },
  },
  rmsnorm: {
    arity: [2, 2],
    infer: (ins) => {
      const [x, w] = [at(ins, 0), at(ins, 1)];
      requireDType(x, isFloat, 'a float type', 'rmsnorm input');
      requireRank(w, 1, 'rmsnorm weight');
      requireDimEq(lastDim(x, 'rmsnorm input'), at(w.shape, 0), 'rmsnorm weight length vs hidden size');
      return [x];
    },
  },
  layernorm: {
    arity: [3, 3],
    infer: (ins) => {
      const [x, w, b] = [at(ins, 0), at(ins, 1), at(ins, 2)];
      requireDType(x, isFloat, 'a float type', 'layernorm input');
      const d = lastDim(x, 'layernorm input');
      requireRank(w, 1, 'layernorm weight');
      requireRank(b, 1, 'layernorm bias');
      requireDimEq(d, at(w.shape, 0), 'layernorm weight length vs hidden size');
      requireDimEq(d, at(b.shape, 0), 'layernorm bias length vs hidden size');
      return [x];
    },
  },
  softmax: {
    arity: [1, 1],
    infer: (ins, a) => {
      const x = at(ins, 0);
      requireDType(x, isFloat, 'a float type', 'softmax input');
      normAxis(a.axis, x.shape.length, 'softmax');
      return [x];
    },
  },
  rope: {
    arity: [2, 2],
    infer: (ins, a) => {
      const [x, pos] = [at(ins, 0), at(ins, 1)];
      requireDType(x, isFloat, 'a float type', 'rope input');
      requireRank(x, 3, 'rope input [S, H, D]');
      requireDType(pos, (d) => d === 'i32', 'i32', 'rope positions');
      requireRank(pos, 1, 'rope positions');
      requireDimEq(at(x.shape, 0), at(pos.shape, 0), 'rope sequence length vs positions');
      const hd = at(x.shape, 2);
      if (!isConst(hd)) fail('rope head dim must be a constant');
      if (a.rotaryDim <= 0 || a.rotaryDim % 2 !== 0 || a.rotaryDim > hd)
        fail(`rope rotaryDim ${a.rotaryDim} must be even and in (0, ${hd}]`);
      return [x];
    },
  },
  reshape: {
    arity: [1, 1],
    infer: (ins, a) => {
      const x = at(ins, 0);
      requireDimEq(numElements(x.shape), numElements(a.shape), () => `reshape ${shapeText(x.shape)} -> ${shapeText(a.shape)}: element count`);
      return [{ dtype: x.dtype, shape: a.shape }];
    },
  },
  transpose: {
    arity: [1, 1],
    infer: (ins, a) => {
      const x = at(ins, 0);
      const r = x.shape.length;
      const sorted = [...a.perm].sort((p, q) => p - q);
      if (a.perm.length !== r || sorted.some((p, i) => p !== i))
        fail(`transpose: [${a.perm.join(', ')}] is not a permutation of rank ${r}`);
      return [{ dtype: x.dtype, shape: a.perm.map((p) => at(x.shape, p)) }];
    },
  },
  concat: {
    arity: [1, Number.POSITIVE_INFINITY],
    infer: (ins, a) => {
      const first = at(ins, 0);
      const axis = normAxis(a.axis, first.shape.length, 'concat');
      let total: Dim = 0;
      for (const t of ins) {
        requireSameDType(first, t, 'concat');
        if (t.shape.length !== first.shape.length) fail(`concat: rank mismatch ${typeText(first)} vs ${typeText(t)}`);
        t.shape.forEach((d, i) => {
          if (i !== axis) requireDimEq(at(first.shape, i), d, `concat: dim ${i} mismatch`);
        });
        total = add(total, at(t.shape, axis));
      }
      return [{ dtype: first.dtype, shape: first.shape.map((d, i) => (i === axis ? total : d)) }];
    },
  },
  slice: {
    arity: [1, 1],
    infer: (ins, a) => {
      const x = at(ins, 0);
      const axis = normAxis(a.axis, x.shape.length, 'slice');
      const len = sub(a.end, a.start);
      if (isConst(len) && len < 0) fail(`slice: end ${dimText(a.end)} before start ${dimText(a.start)}`);
      const d = at(x.shape, axis);
      if (isConst(d) && isConst(a.end) && a.end > d) fail(`slice: end ${a.end} beyond dim ${d}`);
      return [{ dtype: x.dtype, shape: x.shape.map((dd, i) => (i === axis ? len : dd)) }];
    },
  },
  attention: {
    arity: [5, 5],
    infer: (ins) => {
      const [q, k, v, qp, kp] = [at(ins, 0), at(ins, 1), at(ins, 2), at(ins, 3), at(ins, 4)];
      for (const [t, n] of [[q, 'q'], [k, 'k'], [v, 'v']] as const) {
        requireRank(t, 3, `attention ${n} [S, H, D]`);
        requireDType(t, isFloat, 'a float type', `attention ${n}`);
      }
      requireSameDType(q, k, 'attention q/k');
      requireSameDType(q, v, 'attention q/v');
      requireDimEq(at(q.shape, 2), at(k.shape, 2), 'attention q/k head dim');
      requireDimEq(at(k.shape, 0), at(v.shape, 0), 'attention k/v length');
      requireDimEq(at(k.shape, 1), at(v.shape, 1), 'attention k/v heads');
      const [h, hkv] = [at(q.shape, 1), at(k.shape, 1)];
      if (isConst(h) && isConst(hkv) && (hkv === 0 || h % hkv !== 0)) fail(`attention: ${h} query heads not a multiple of ${hkv} kv heads`);
      for (const [t, n, len] of [[qp, 'qPos', at(q.shape, 0)], [kp, 'kPos', at(k.shape, 0)]] as const) {
        requireDType(t, (d) => d === 'i32', 'i32', `attention ${n}`);
        requireRank(t, 1, `attention ${n}`);
        requireDimEq(at(t.shape, 0), len, `attention ${n} length`);
      }
      return [{ dtype: q.dtype, shape: [at(q.shape, 0), h, at(v.shape, 2)] }];
    },
  },
  topk: {
    arity: [1, 2],
    infer: (ins, a) => {
      const s = at(ins, 0);
      requireRank(s, 1, 'topk scores');
      requireDType(s, isFloat, 'a float type', 'topk scores');
      const m = ins[1];
      if (m !== undefined) {
        requireDType(m, (d) => d === 'bool', 'bool', 'topk mask');
        requireRank(m, 1, 'topk mask');
        requireDimEq(at(s.shape, 0), at(m.shape, 0), 'topk mask length');
      }
      const [k, n] = [a.k, at(s.shape, 0)];
      if (isConst(k) && isConst(n) && k > n) fail(`topk: k = ${k} exceeds ${n} candidates`);
      return [{ dtype: 'i32', shape: [a.k] }];
    },
  },
  gatherRows: {
    arity: [2, 2],
    infer: (ins) => {
      const [x, idx] = [at(ins, 0), at(ins, 1)];
      if (x.shape.length < 1) fail(`gatherRows source must have rank >= 1, got ${typeText(x)}`);
      requireDType(idx, (d) => d === 'i32', 'i32', 'gatherRows indices');
      requireRank(idx, 1, 'gatherRows indices');
      return [{ dtype: x.dtype, shape: [at(idx.shape, 0), ...x.shape.slice(1)] }];
    },
  },
  cacheWrite: {
    arity: [2, 2],
    infer: (ins, a) => {
      const [cache, rows] = [at(ins, 0), at(ins, 1)];
      requireSameDType(cache, rows, 'cacheWrite');
      if (cache.shape.length < 1 || cache.shape.length !== rows.shape.length) fail(`cacheWrite: rank mismatch ${typeText(cache)} vs ${typeText(rows)}`);
      cache.shape.slice(1).forEach((d, i) => requireDimEq(d, at(rows.shape, i + 1), `cacheWrite row shape dim ${i + 1}`));
      const [c, n] = [at(cache.shape, 0), at(rows.shape, 0)];
      if (isConst(c) && isConst(n) && isConst(a.offset) && a.offset + n > c) fail(`cacheWrite: rows [${a.offset}, ${a.offset + n}) beyond the cache's ${c} rows`);
      return [cache];
    },
  },
  scatterRows: {
    arity: [3, 3],
    infer: (ins) => {
      const [base, idx, src] = [at(ins, 0), at(ins, 1), at(ins, 2)];
      requireSameDType(base, src, 'scatterRows');
      requireDType(idx, (d) => d === 'i32', 'i32', 'scatterRows indices');
      requireRank(idx, 1, 'scatterRows indices');
      if (base.shape.length < 1 || base.shape.length !== src.shape.length) fail(`scatterRows: rank mismatch ${typeText(base)} vs ${typeText(src)}`);
      requireDimEq(at(src.shape, 0), at(idx.shape, 0), 'scatterRows rows vs indices');
      base.shape.slice(1).forEach((d, i) => requireDimEq(d, at(src.shape, i + 1), `scatterRows row shape dim ${i + 1}`));
      return [base];
    },
  },
  modRoute: {
    arity: [5, 5],
    infer: (ins, a) => {
      const { x, kept } = routeInputs(ins, a);
      const extras = checkRegionSignature(a.body, x, kept);
      return [x, { dtype: 'i32', shape: [a.capacity] }, ...extras];
    },
  },
  fusedRoute: {
    arity: [5, 5],
    infer: (ins, a) => {
      const { x, s, d, kept } = routeInputs(ins, a);
      return [
        { dtype: x.dtype, shape: [kept, d] },
        { dtype: 'i32', shape: [kept] },
        { dtype: 'i32', shape: [kept] },
        { dtype: 'f32', shape: [s] },
        { dtype: 'i32', shape: [a.capacity] },
      ];
    },
  },
  stringCombine: {
    arity: [6, 6],
    infer: (ins) => {
      const x = at(ins, 0);
      requireRank(x, 2, 'stringCombine x [S, d]');
      checkCombineOperands(x, ins.slice(1), 'stringCombine');
      return [x];
    },
  },
  fusedElementwise: {
    arity: [1, Number.POSITIVE_INFINITY],
    infer: (ins, a) => {
      const first = at(ins, 0);
      if (exprArity(a.expr) > ins.length) fail(`expression ${exprText(a.expr)} uses $${exprArity(a.expr) - 1} but has ${ins.length} inputs`);
      let shape: readonly Dim[] = first.shape;
      for (const t of ins) {
        requireSameDType(first, t, 'fusedElementwise');
        shape = broadcastShapes(shape, t.shape, 'fusedElementwise');
      }
      requireDType(first, isFloat, 'a float type', 'fusedElementwise operand');
      return [{ dtype: first.dtype, shape }];
    },
  },
  fusedLinear: {
    arity: [2, Number.POSITIVE_INFINITY],
    infer: (ins, a) => {
      const [x, w] = [at(ins, 0), at(ins, 1)];
      const layout = fusedLinearLayout(a);
      if (ins.length !== layout.total) fail(`fusedLinear with norm=${a.norm}, ${a.epilogueArgs} epilogue operands, combine=${a.combine} takes ${layout.total} inputs, got ${ins.length}`);
      const [acc] = TYPE_RULES.linear.infer([x, w], {});
      if (acc === undefined) return fail('linear rule gave no type');
      if (layout.norm >= 0) {
        const nw = at(ins, layout.norm);
        requireRank(nw, 1, 'fusedLinear norm weight');
        requireDimEq(at(nw.shape, 0), lastDim(x, 'fusedLinear input'), 'fusedLinear norm weight length vs input features');
      }
      if (exprArity(a.epilogue) > 1 + a.epilogueArgs) fail(`epilogue ${exprText(a.epilogue)} uses more than ${a.epilogueArgs} operands`);
      for (let i = 0; i < a.epilogueArgs; i++) {
        const t = at(ins, layout.epilogue + i);
        // Like linear's bias, an epilogue operand may be stored in another float type (an f16 bias, say).
        requireDType(t, isFloat, 'a float type', 'fusedLinear epilogue operand');
        const b = broadcastShapes(acc.shape, t.shape, 'fusedLinear epilogue');
        if (!shapeEq(b, acc.shape)) fail(`epilogue operand ${typeText(t)} would broadcast the output ${typeText(acc)} to ${shapeText(b)}`);
      }
      if (a.combine === 'none') return [acc];
      const xFull = at(ins, layout.combine);
      requireRank(xFull, 2, 'fusedLinear STRing x [S, d]');
      requireRank(acc, 2, 'fusedLinear STRing u [K, d]');
      checkCombineOperands(xFull, [at(ins, layout.combine + 1), acc, ...ins.slice(layout.combine + 2)], 'fusedLinear STRing');
      return [xFull];
    },
  },
};

/** Operand positions of a fusedLinear's optional groups (-1 when absent) and the total count. */
export function fusedLinearLayout(a: OpAttrs['fusedLinear']): { norm: number; epilogue: number; combine: number; total: number } {
  const norm = a.norm === 'rmsnorm' ? 2 : -1;
  const epilogue = 2 + (norm >= 0 ? 1 : 0);
  const combine = a.combine === 'string' ? epilogue + a.epilogueArgs : -1;
  return { norm, epilogue, combine, total: epilogue + a.epilogueArgs + (combine >= 0 ? 5 : 0) };
}

function routeInputs(ins: readonly TensorType[], a: { capacity: Dim; routableCount: Dim; alpha: number; bias: number }): { x: TensorType; s: Dim; d: Dim; kept: Dim } {
  const [x, pos, mask, rw, rb] = [at(ins, 0), at(ins, 1), at(ins, 2), at(ins, 3), at(ins, 4)];
  requireRank(x, 2, 'hidden states [S, d]');
  requireDType(x, isFloat, 'a float type', 'hidden states');
  const [s, d] = [at(x.shape, 0), at(x.shape, 1)];
  requireDType(pos, (t) => t === 'i32', 'i32', 'positions');
  requireRank(pos, 1, 'positions');
  requireDimEq(at(pos.shape, 0), s, 'positions length');
  requireDType(mask, (t) => t === 'bool', 'bool', 'routable mask');
  requireRank(mask, 1, 'routable mask');
  requireDimEq(at(mask.shape, 0), s, 'routable mask length');
  requireRank(rw, 2, 'router weight [1, d]');
  requireDimEq(at(rw.shape, 0), 1, 'router weight rows');
  requireDimEq(at(rw.shape, 1), d, 'router weight vs hidden size');
  requireRank(rb, 1, 'router bias [1]');
  requireDimEq(at(rb.shape, 0), 1, 'router bias length');
  if (!(a.alpha >= 0) || !Number.isFinite(a.bias)) fail(`TanhNorm needs alpha >= 0 and a finite bias, got alpha=${a.alpha} bias=${a.bias}`);
  if (isConst(a.capacity) && a.capacity < 0) fail(`capacity ${a.capacity} is negative`);
  // K = S - N_v + k: every non-routable token plus the kept routable ones.
  return { x, s, d, kept: add(sub(s, a.routableCount), a.capacity) };
}

/** (h1 [K, d], u [K, d], rowMap [K], gate [S], routable [S]) against x [S, d]. */
function checkCombineOperands(x: TensorType, rest: readonly TensorType[], op: string): void {
  const [h1, u, rowMap, gate, routable] = [at(rest, 0), at(rest, 1), at(rest, 2), at(rest, 3), at(rest, 4)];
  const [s, d] = [at(x.shape, 0), at(x.shape, 1)];
  requireRank(h1, 2, `${op} h1 [K, d]`);
  const k = at(h1.shape, 0);
  for (const [t, n] of [[h1, 'h1'], [u, 'u']] as const) {
    requireSameDType(x, t, `${op} ${n}`);
    requireRank(t, 2, `${op} ${n} [K, d]`);
    requireDimEq(at(t.shape, 0), k, `${op} ${n} rows`);
    requireDimEq(at(t.shape, 1), d, `${op} ${n} width`);
  }
  requireDType(rowMap, (t) => t === 'i32', 'i32', `${op} rowMap`);
  requireRank(rowMap, 1, `${op} rowMap`);
  requireDimEq(at(rowMap.shape, 0), k, `${op} rowMap length`);
  requireDType(gate, (t) => t === 'f32', 'f32', `${op} gate`);
  requireRank(gate, 1, `${op} gate`);
  requireDimEq(at(gate.shape, 0), s, `${op} gate length`);
  requireDType(routable, (t) => t === 'bool', 'bool', `${op} routable`);
  requireRank(routable, 1, `${op} routable`);
  requireDimEq(at(routable.shape, 0), s, `${op} routable length`);
}

/** Runs the type rule of `op` with arity checking. */
export function inferTypes<K extends OpKind>(op: K, ins: readonly TensorType[], attrs: OpAttrs[K]): TensorType[] {
  const rule = TYPE_RULES[op] as TypeRule<K>;
  const [lo, hi] = rule.arity;
  if (ins.length < lo || ins.length > hi)
    fail(`${op} takes ${lo === hi ? lo : `${lo}..${hi === Number.POSITIVE_INFINITY ? 'n' : hi}`} inputs, got ${ins.length}`);
  return rule.infer(ins, attrs);
}
