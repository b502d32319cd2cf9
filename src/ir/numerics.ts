/**
 * The arithmetic every backend must reproduce bit for bit: the p-MoD router score. Routing decisions compare
 * scores, so a score that rounds differently on two backends can flip which token is kept. The score is
 * therefore defined as one fixed sequence of float32 operations that no compiler may legally change:
 *  - each product x_i * w_i is computed exactly as a sum of four partial products of 12-bit halves (the halves
 *    come from masking bits, not from arithmetic, and every partial product is exact in float32, so fusing a
 *    multiply into an add (FMA contraction) cannot change any result);
 *  - the products are accumulated in ROUTER_LANES interleaved lanes (lane j takes i = j, j + 32, ...), each an
 *    error-free TwoSum of the leading part plus a running correction, then the lanes meet in a fixed pairwise tree
 *    and the bias is added the same way.
 * Only float32 add / sub / mul with round-to-nearest-even are used, so Wasm, WGSL, PTX and this function agree
 * exactly whenever no intermediate is subnormal (GPUs may flush subnormals to zero). The result is within a few
 * units of the last place of float32 of the exact dot product, and usually the correctly rounded value.
 */

export const ROUTER_LANES = 32;
/** Keeps the sign, the exponent and the top 11 explicit mantissa bits: a 12-bit significand. */
export const SPLIT_MASK = 0xfffff000;

const f = Math.fround;
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x with the low 12 mantissa bits cleared (bit masking: exact, no rounding). */
export function splitHigh(x: number): number {
  f32[0] = x;
  u32[0] = (u32[0] ?? 0) & SPLIT_MASK;
  return f32[0] ?? 0;
}

/** One lane's state: leading sum and correction. */
interface Lane {
  s: number;
  c: number;
}

/** Adds the exact product a*b (float32 inputs) to a lane. */
function addProduct(l: Lane, a: number, b: number): void {
  const ah = splitHigh(a);
  const al = f(a - ah);
  const bh = splitHigh(b);
  const bl = f(b - bh);
  const p = f(ah * bh);
  const e = f(f(f(ah * bl) + f(al * bh)) + f(al * bl));
  const t = f(l.s + p);
  const z = f(t - l.s);
  const err = f(f(l.s - f(t - z)) + f(p - z));
  l.s = t;
  l.c = f(l.c + f(err + e));
}

/** Merges lane `b` into lane `a` (TwoSum of the leading sums, corrections added). */
function mergeLanes(a: Lane, b: Lane): void {
  const t = f(a.s + b.s);
  const z = f(t - a.s);
  const err = f(f(a.s - f(t - z)) + f(b.s - z));
  a.s = t;
  a.c = f(f(a.c + b.c) + err);
}

/**
 * The router score z = w . x + bias of one token: `x` holds the token's d values from `offset`, `w` the router
 * weight [d]. Every value is taken as float32.
 */
export function routerScore(x: ArrayLike<number>, offset: number, w: ArrayLike<number>, d: number, bias: number): number {
  const lanes: Lane[] = Array.from({ length: ROUTER_LANES }, () => ({ s: 0, c: 0 }));
  for (let i = 0; i < d; i++) addProduct(lanes[i % ROUTER_LANES] as Lane, f(x[offset + i] ?? 0), f(w[i] ?? 0));
  for (let width = ROUTER_LANES / 2; width >= 1; width /= 2) for (let j = 0; j < width; j++) mergeLanes(lanes[j] as Lane, lanes[j + width] as Lane);
  const total = lanes[0] as Lane;
  const b = f(bias);
  const t = f(total.s + b);
  const z = f(t - total.s);
  const err = f(f(total.s - f(t - z)) + f(b - z));
  return f(t + f(total.c + err));
}
