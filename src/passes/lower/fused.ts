/**
 * Lowering of the fused elementwise op and the standalone STRing combine. An elementwise expression becomes one
 * kernel whose scalar body evaluates it in float64 and rounds once (the reference's rule); when every function in
 * it has an f32x4 form, a vector body is added too.
 */
import { type EwExpr, type OpAttrs } from '../../ir/index.js';
import { fillKernel, elementwiseGrid } from '../../kernel/builders/elementwise.js';
import { scatterByRankKernel, stringCombineKernel, tokenGrid } from '../../kernel/builders/route.js';
import { binary, cast, splat } from '../../kernel/dsl.js';
import type { KNode } from '../../kernel/ir.js';
import { LoweringError, type LValue } from './context.js';
import { UNARY_F32X4, UNARY_F64, vectorBinary } from './elementwise.js';
import { arg, elementwise, newValue, type RuleContext } from './rule-context.js';

const f64c = (x: number): KNode => ({ op: 'const', type: 'f64', src: [], arg: x });
const f32c = (x: number): KNode => ({ op: 'const', type: 'f32', src: [], arg: x });

const F64_BINARY: Record<string, (a: KNode, b: KNode) => KNode> = {
  add: (a, b) => binary('add', a, b),
  sub: (a, b) => binary('sub', a, b),
  mul: (a, b) => binary('mul', a, b),
  div: (a, b) => binary('div', a, b),
  max: (a, b) => binary('max', a, b),
  min: (a, b) => binary('min', a, b),
  pow: (a, b) => binary('pow', a, b),
};

/** The expression over scalar f32 operands, computed in float64 and rounded to f32 once. */
export function exprScalarBody(e: EwExpr): (xs: readonly KNode[]) => KNode {
  const go = (x: EwExpr, xs: readonly KNode[]): KNode => {
    switch (x.k) {
      case 'arg': {
        const v = xs[x.i];
        if (v === undefined) throw new LoweringError(`expression operand $${x.i} is not bound`);
        return cast(v, 'f64');
      }
      case 'const':
        return f64c(x.v);
      case 'un':
        return UNARY_F64[x.fn](go(x.a, xs));
      case 'bin': {
        const f = F64_BINARY[x.fn];
        if (f === undefined) throw new LoweringError(`no float64 form of ${x.fn}`);
        return f(go(x.a, xs), go(x.b, xs));
      }
    }
  };
  return (xs) => cast(go(e, xs), 'f32');
}

/** The expression over f32x4 operands, when every function in it has a vector form. */
export function exprVectorBody(e: EwExpr): ((xs: readonly KNode[]) => KNode) | undefined {
  const ok = (x: EwExpr): boolean =>
    x.k === 'arg' || x.k === 'const' || (x.k === 'un' ? UNARY_F32X4[x.fn] !== undefined && ok(x.a) : vectorBinary(x.fn) !== undefined && ok(x.a) && ok(x.b));
  if (!ok(e)) return undefined;
  const go = (x: EwExpr, xs: readonly KNode[]): KNode => {
    switch (x.k) {
      case 'arg':
        return xs[x.i] as KNode;
      case 'const':
        return splat(f32c(x.v));
      case 'un':
        return (UNARY_F32X4[x.fn] as (v: KNode) => KNode)(go(x.a, xs));
      case 'bin':
        return (vectorBinary(x.fn) as (a: KNode, b: KNode) => KNode)(go(x.a, xs), go(x.b, xs));
    }
  };
  return (xs) => go(e, xs);
}

export function lowerFusedElementwise(ins: readonly LValue[], a: OpAttrs['fusedElementwise'], rc: RuleContext): LValue[] {
  const x = arg(ins, 0, rc);
  const vec = exprVectorBody(a.expr);
  return elementwise(rc, ins, x.dtype, exprScalarBody(a.expr), vec);
}

/** slot[t] = the kept row holding token t, or -1: the STRing combine's view of a row map. */
export function slotsOf(rc: RuleContext, rowMap: LValue, tokens: number): number {
  const c = rc.ctx;
  const slot = c.temp(Math.max(1, tokens), 'i32', `${rc.where} slot`);
  if (tokens > 0) c.dispatch(fillKernel('fill', 'i32', -1), { out: slot }, { n: tokens }, elementwiseGrid(tokens), `${rc.where} slot fill`);
  const kept = rowMap.shape[0] ?? 0;
  // scatterByRank writes out[rank[i]] = i: with rank = rowMap, slot[rowMap[r]] = r.
  if (kept > 0) c.dispatch(scatterByRankKernel(kept), { rank: c.buf(rowMap), out: slot }, { k: tokens }, [1, 1, 1], `${rc.where} slots`);
  return slot;
}

/** y = STRing combine of (x, h1, u) with the kept rows' map, the TanhNorm weights and the routable mask. */
export function combine(rc: RuleContext, x: LValue, h1: LValue, u: LValue, rowMap: LValue, gate: LValue, routable: LValue): LValue {
  const [s, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0];
  const slot = slotsOf(rc, rowMap, s);
  const y = newValue(rc, x.dtype);
  const c = rc.ctx;
  if (s > 0) c.dispatch(stringCombineKernel(d), { x: c.buf(x), h1: c.buf(h1), u: c.buf(u), weights: c.buf(gate), mask: c.buf(routable), slot, y: c.buf(y) }, { S: s }, tokenGrid(s), `${rc.where} STRing combine`);
  return y;
}

export function lowerStringCombine(ins: readonly LValue[], rc: RuleContext): LValue[] {
  const [x, h1, u, rowMap, gate, routable] = [0, 1, 2, 3, 4, 5].map((i) => arg(ins, i, rc)) as [LValue, LValue, LValue, LValue, LValue, LValue];
  return [combine(rc, x, h1, u, rowMap, gate, routable)];
}
