/**
 * Scalar meaning of the elementwise ops (shared by the interpreter and constant folding), in float64 (the reference rounds once, when it stores the result).
 * Exhaustive over each function enum, so a new unary or binary function fails `tsc` here first.
 */
import type { EwExpr } from './expr.js';
import type { BinaryFn, CompareFn, LogicalFn, UnaryFn } from './ops-fns.js';

const SQRT_PI = Math.sqrt(Math.PI);

/** erf to about 1e-13 absolute: Taylor series near 0, continued fraction for erfc in the tails. */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (Number.isNaN(x)) return Number.NaN;
  if (a < 3) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / SQRT_PI) * sum;
  }
  if (a > 6) return Math.sign(x);
  let t = a;
  for (let n = 60; n >= 1; n--) t = a + n / 2 / t;
  const erfc = Math.exp(-a * a) / (SQRT_PI * t);
  return Math.sign(x) * (1 - erfc);
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** float -> i32 / u32 per the numerics policy: truncate toward zero, saturate at the type's range, NaN gives 0. */
export function floatToInt(v: number, unsigned: boolean): number {
  if (Number.isNaN(v)) return 0;
  const [lo, hi] = unsigned ? [0, 4294967295] : [-2147483648, 2147483647];
  return Math.min(hi, Math.max(lo, Math.trunc(v)));
}

export const UNARY: { readonly [F in UnaryFn]: (x: number) => number } = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  recip: (x) => 1 / x,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : 0),
  silu: (x) => x / (1 + Math.exp(-x)),
  gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x))),
  gelu_erf: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
  sin: Math.sin,
  cos: Math.cos,
  square: (x) => x * x,
};

export const BINARY: { readonly [F in BinaryFn]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)),
  pow: (a, b) => a ** b,
};

/** Integer results of binary ops wrap like 32-bit machine arithmetic; division truncates toward zero. */
export const BINARY_INT: { readonly [F in BinaryFn]: (a: number, b: number) => number } = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => Math.imul(a, b),
  div: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
  max: Math.max,
  min: Math.min,
  pow: (a, b) => Math.trunc(a ** b),
};

export const COMPARE: { readonly [F in CompareFn]: (a: number, b: number) => boolean } = {
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
  gt: (a, b) => a > b,
  ge: (a, b) => a >= b,
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
};

export const LOGICAL: { readonly [F in LogicalFn]: (a: boolean, b: boolean) => boolean } = {
  and: (a, b) => a && b,
  or: (a, b) => a || b,
  xor: (a, b) => a !== b,
};

/** Evaluates an elementwise expression on scalar operands (float64). */
export function evalExpr(e: EwExpr, args: readonly number[]): number {
  switch (e.k) {
    case 'arg':
      return args[e.i] ?? Number.NaN;
    case 'const':
      return e.v;
    case 'un':
      return UNARY[e.fn](evalExpr(e.a, args));
    case 'bin':
      return BINARY[e.fn](evalExpr(e.a, args), evalExpr(e.b, args));
  }
}
