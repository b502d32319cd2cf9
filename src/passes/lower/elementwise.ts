/**
 * Scalar bodies of the elementwise graph ops as Kernel IR. Float functions beyond one add/sub/mul/div/max/min
 * are evaluated in float64 and rounded once, like the reference interpreter, so results match it bit for bit
 * except where the host's libm is involved identically anyway. Single basic float ops stay f32 (and vectorise):
 * rounding one exact operation to f32 gives the same value as the reference's f64-then-round.
 */
import type { BinaryFn, CompareFn, DType, LogicalFn, UnaryFn } from '../../ir/index.js';
import { add, binary, cast, cmp, div, mul, select, splat, unary } from '../../kernel/dsl.js';
import type { KBinaryFn, KNode } from '../../kernel/ir.js';

const f64 = (x: number): KNode => ({ op: 'const', type: 'f64', src: [], arg: x });
const f32c = (x: number): KNode => ({ op: 'const', type: 'f32', src: [], arg: x });
const one = (): KNode => f64(1);
const GELU_C = Math.sqrt(2 / Math.PI);

/** Each graph unary function in float64. */
export const UNARY_F64: { readonly [F in UnaryFn]: (x: KNode) => KNode } = {
  neg: (x) => unary('neg', x),
  abs: (x) => unary('abs', x),
  exp: (x) => unary('exp', x),
  log: (x) => unary('log', x),
  sqrt: (x) => unary('sqrt', x),
  rsqrt: (x) => div(one(), unary('sqrt', x)),
  recip: (x) => div(one(), x),
  tanh: (x) => unary('tanh', x),
  sigmoid: (x) => div(one(), add(one(), unary('exp', unary('neg', x)))),
  relu: (x) => select(cmp('gt', x, f64(0)), x, f64(0)),
  silu: (x) => div(x, add(one(), unary('exp', unary('neg', x)))),
  gelu_tanh: (x) => mul(mul(f64(0.5), x), add(one(), unary('tanh', mul(f64(GELU_C), add(x, mul(f64(0.044715), mul(x, mul(x, x)))))))),
  gelu_erf: (x) => mul(mul(f64(0.5), x), add(one(), unary('erf', div(x, f64(Math.SQRT2))))),
  quick_gelu: (x) => div(x, add(one(), unary('exp', mul(f64(-1.702), x)))),
  sin: (x) => unary('sin', x),
  cos: (x) => unary('cos', x),
  square: (x) => mul(x, x),
};

/** Each graph unary function in float32 (targets without f64: WGSL, and PTX by choice). */
export const UNARY_F32: { readonly [F in UnaryFn]: (x: KNode) => KNode } = {
  neg: (x) => unary('neg', x),
  abs: (x) => unary('abs', x),
  exp: (x) => unary('exp', x),
  log: (x) => unary('log', x),
  sqrt: (x) => unary('sqrt', x),
  rsqrt: (x) => div(f32c(1), unary('sqrt', x)),
  recip: (x) => div(f32c(1), x),
  tanh: (x) => unary('tanh', x),
  sigmoid: (x) => div(f32c(1), add(f32c(1), unary('exp', unary('neg', x)))),
  relu: (x) => select(cmp('gt', x, f32c(0)), x, f32c(0)),
  silu: (x) => div(x, add(f32c(1), unary('exp', unary('neg', x)))),
  gelu_tanh: (x) => mul(mul(f32c(0.5), x), add(f32c(1), unary('tanh', mul(f32c(GELU_C), add(x, mul(f32c(0.044715), mul(x, mul(x, x)))))))),
  gelu_erf: (x) => mul(mul(f32c(0.5), x), add(f32c(1), unary('erf', mul(x, f32c(Math.SQRT1_2))))),
  quick_gelu: (x) => div(x, add(f32c(1), unary('exp', mul(f32c(-1.702), x)))),
  sin: (x) => unary('sin', x),
  cos: (x) => unary('cos', x),
  square: (x) => mul(x, x),
};

const c32 = (x: KNode, v: number): KNode => (x.type === 'f32x4' ? splat(f32c(v)) : f32c(v));

/**
 * Unary functions computed in f32 / f32x4: the exact single operations (same result as the reference), and the
 * activations on the hot path of every layer (exp, sigmoid, silu) with the backend's native float32 exp, within
 * a few ulp of the reference's float64 evaluation.
 */
export const UNARY_F32X4: Partial<{ readonly [F in UnaryFn]: (x: KNode) => KNode }> = {
  neg: (x) => unary('neg', x),
  abs: (x) => unary('abs', x),
  sqrt: (x) => unary('sqrt', x),
  square: (x) => binary('mul', x, x),
  relu: (x) => binary('max', x, c32(x, 0)),
  exp: (x) => unary('exp', x),
  sigmoid: (x) => binary('div', c32(x, 1), binary('add', c32(x, 1), unary('exp', unary('neg', x)))),
  silu: (x) => binary('div', x, binary('add', c32(x, 1), unary('exp', unary('neg', x)))),
};

/** The graph unary functions whose f32 evaluation can differ from the reference in the last bits. */
export const UNARY_APPROX: ReadonlySet<UnaryFn> = new Set<UnaryFn>(['exp', 'sigmoid', 'silu']);

const BASIC: Partial<Record<BinaryFn, KBinaryFn>> = { add: 'add', sub: 'sub', mul: 'mul', div: 'div', max: 'max', min: 'min' };

export function floatBinary(fn: BinaryFn, a: KNode, b: KNode, f64: boolean): KNode {
  const k = BASIC[fn];
  if (k !== undefined) return binary(k, a, b);
  return f64 ? cast(binary('pow', cast(a, 'f64'), cast(b, 'f64')), 'f32') : binary('pow', a, b);
}
export const vectorBinary = (fn: BinaryFn): ((a: KNode, b: KNode) => KNode) | undefined => {
  const k = BASIC[fn];
  return k === undefined ? undefined : (a, b) => binary(k, a, b);
};

export function intBinary(fn: BinaryFn, a: KNode, b: KNode, f64: boolean): KNode {
  const to = a.type === 'u32' ? 'u32' : 'i32';
  if (fn !== 'pow') return binary(fn, a, b);
  if (f64) return cast(binary('pow', cast(a, 'f64'), cast(b, 'f64')), to);
  // f32 pow is not exact (5^2 may be 24.999...): a non-negative exponent gives an integer, so round to it
  // (exact below 2^24); a negative one truncates like the reference (2^-1 -> 0).
  const p = binary('pow', cast(a, 'f32'), cast(b, 'f32'));
  const r = unary('floor', add(unary('abs', p), f32c(0.5)));
  const rounded = select(cmp('lt', p, f32c(0)), unary('neg', r), r);
  return cast(select(cmp('ge', b, 0), rounded, p), to);
}

export const compareBody = (fn: CompareFn, a: KNode, b: KNode): KNode => cast(cmp(fn, a, b), 'i32');

export function logicalBody(fn: LogicalFn, a: KNode, b: KNode): KNode {
  const [x, y] = [cmp('ne', a, 0), cmp('ne', b, 0)];
  return cast(binary(fn, x, y), 'i32');
}

/** Cast between dtypes held in 4-byte elements (bool as i32 0/1, f16/bf16 as f32 values). */
export function castBody(from: DType, to: DType, x: KNode): KNode {
  const isF = (d: DType): boolean => d === 'f32' || d === 'f16' || d === 'bf16';
  if (to === 'bool') return cast(cmp('ne', x, isF(from) ? f32c(0) : 0), 'i32');
  if (isF(to)) return isF(from) ? x : cast(x, 'f32');
  // to i32 / u32
  if (isF(from)) return cast(x, to === 'u32' ? 'u32' : 'i32');
  return x.type === (to === 'u32' ? 'u32' : 'i32') ? x : cast(x, to === 'u32' ? 'u32' : 'i32');
}

