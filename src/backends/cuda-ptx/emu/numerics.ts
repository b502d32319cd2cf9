/**
 * Arithmetic of the PTX interpreter that JavaScript lacks: single-rounding fma in f32 and f64, round-half-even,
 * the saturating float -> integer conversions of cvt (with the ISA's NaN results), exact 32 x 32 -> 64 high
 * products, and 64-bit bit operations on the interpreter's exact-double 64-bit integers.
 */

// Globals captured once: in a vm context (jest) every global lookup goes through the context's interceptor.
const M = Math;
const N = Number;

/**
 * fma.rn.f32: a*b is exact in f64 and the sum rounds once to f64, so rounding that to f32 is wrong only when it
 * lands exactly halfway between two floats; then the TwoSum residual says which way the exact sum lies.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = M.fround(s);
  // Exact, infinite or NaN: nothing was lost.
  if (r === s || s - s !== 0) return r;
  // s is a midpoint iff 2s - r (exact: Sterbenz) is the float on s's other side.
  const q = 2 * s - r;
  if (M.fround(q) !== q) return r;
  const bp = s - c;
  const t = p - bp + (c - (s - bp));
  if (t === 0) return r;
  return (t > 0) === (s > r) ? q : r;
}

/** fma.rn.f64 with Dekker's exact product and a compensated sum: within 1 ulp (not always correctly rounded). */
export function fmaF64(a: number, b: number, c: number): number {
  const p = a * b;
  if (!N.isFinite(p) || !N.isFinite(c) || p === 0) return p + c;
  const split = (x: number): [number, number] => {
    const t = 134217729 * x;
    const hi = t - (t - x);
    return [hi, x - hi];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const e = ah * bh - p + ah * bl + al * bh + al * bl;
  const s = p + c;
  const bp = s - c;
  const t = p - bp + (c - (s - bp));
  return s + (t + e);
}

export function roundHalfEven(x: number): number {
  const r = M.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Integer rounding of cvt.{rni,rzi,rmi,rpi}. */
export function roundInt(x: number, mode: number): number {
  switch (mode) {
    case 0:
      return roundHalfEven(x);
    case 1:
      return M.trunc(x);
    case 2:
      return M.floor(x);
    default:
      return M.ceil(x);
  }
}

/**
 * cvt.{rnd}.intN.fM: saturates to the destination range; NaN gives 0, except from an f64 source or into a
 * 64-bit destination, where it gives 1 << (N - 1) (PTX ISA 9.0, cvt).
 */
export function floatToIntSat(x: number, mode: number, bits: number, signed: boolean, fromF64: boolean): number {
  if (N.isNaN(x)) return fromF64 || bits === 64 ? (signed ? -(2 ** (bits - 1)) : 2 ** (bits - 1)) : 0;
  const r = roundInt(x, mode);
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return r < lo ? lo : r > hi ? hi : r;
}

/** High 32 bits of the unsigned 64-bit product of two u32 values. */
export function mulHiU32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const t = a1 * b0 + ((a0 * b0) >>> 16);
  const w1 = (t % 65536) + a0 * b1;
  return (a1 * b1 + M.floor(t / 65536) + M.floor(w1 / 65536)) >>> 0;
}

/** High 32 bits of the signed 64-bit product of two i32 values. */
export function mulHiS32(a: number, b: number): number {
  let h = mulHiU32(a >>> 0, b >>> 0);
  if (a < 0) h -= b >>> 0;
  if (b < 0) h -= a >>> 0;
  return h | 0;
}

export class Int64RangeError extends Error {
  override name = 'Int64RangeError';
}

/** A 64-bit integer result as the interpreter holds it (exact doubles): refuses values past 2^53. */
export function exact64(v: bigint): number {
  const n = Number(BigInt.asIntN(64, v));
  if (!N.isSafeInteger(n)) throw new Int64RangeError(`64-bit integer ${BigInt.asIntN(64, v)} is beyond 2^53, which the PTX interpreter holds exactly`);
  return n;
}

export const big = (x: number): bigint => BigInt(x);
