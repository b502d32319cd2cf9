/**
 * Lowering of the fused elementwise op and the standalone STRing combine. An elementwise expression becomes one
 * kernel whose scalar body evaluates it in float64 and rounds once (the reference's rule) on targets with f64,
 * in float32 elsewhere; when every function in it has an f32x4 form, a vector body is added too.
 */
import { type EwExpr, type OpAttrs } from '../../ir/index.js';
import { binary, cast, splat } from '../../kernel/dsl.js';
import type { KNode } from '../../kernel/ir.js';
import { LoweringError, type LValue } from './context.js';
import { UNARY_F32, UNARY_F32X4, UNARY_F64, vectorBinary } from './elementwise.js';
import { combine } from './route.js';
import { arg, elementwise, type RuleContext } from './rule-context.js';

const f64c = (x: number): KNode => ({ op: 'const', type: 'f64', src: [], arg: x });
const f32c = (x: number): KNode => ({ op: 'const', type: 'f32', src: [], arg: x });

const BINARY_FNS: Record<string, (a: KNode, b: KNode) => KNode> = {
  add: (a, b) => binary('add', a, b),
  sub: (a, b) => binary('sub', a, b),
  mul: (a, b) => binary('mul', a, b),
  div: (a, b) => binary('div', a, b),
  max: (a, b) => binary('max', a, b),
  min: (a, b) => binary('min', a, b),
  pow: (a, b) => binary('pow', a, b),
};

/** The expression over scalar f32 operands: in float64 rounded to f32 once (f64 targets), else in float32. */
export function exprScalarBody(e: EwExpr, f64: boolean): (xs: readonly KNode[]) => KNode {
  const unary = f64 ? UNARY_F64 : UNARY_F32;
  const go = (x: EwExpr, xs: readonly KNode[]): KNode => {
    switch (x.k) {
      case 'arg': {
        const v = xs[x.i];
        if (v === undefined) throw new LoweringError(`expression operand $${x.i} is not bound`);
        return f64 ? cast(v, 'f64') : v;
      }
      case 'const':
        return f64 ? f64c(x.v) : f32c(x.v);
      case 'un':
        return unary[x.fn](go(x.a, xs));
      case 'bin': {
        const f = BINARY_FNS[x.fn];
        if (f === undefined) throw new LoweringError(`no scalar form of ${x.fn}`);
        return f(go(x.a, xs), go(x.b, xs));
      }
    }
  };
  return (xs) => (f64 ? cast(go(e, xs), 'f32') : go(e, xs));
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
  return elementwise(rc, ins, x.dtype, exprScalarBody(a.expr, rc.target.caps.f64Math), vec);
}

export function lowerStringCombine(ins: readonly LValue[], rc: RuleContext): LValue[] {
  const [x, h1, u, rowMap, gate, routable] = [0, 1, 2, 3, 4, 5].map((i) => arg(ins, i, rc)) as [LValue, LValue, LValue, LValue, LValue, LValue];
  return [combine(rc, x, h1, u, rowMap, gate, routable)];
}
