/**
 * Transcendental functions as PTX instruction sequences. By default they use only correctly rounded
 * instructions (add / mul / fma / div with .rn, cvt, integer bit operations), so the PTX interpreter reproduces a
 * GPU's results bit for bit: exp in float32 is the Cephes expf of the Wasm backend, operation for operation;
 * everything else is computed in float64 (range reduction + Taylor / atanh series, the erf series and continued
 * fraction of the Wasm backend) and rounded once to float32 where the kernel asked for f32. With `approx`, f32 exp,
 * log, sin, cos and tanh use the hardware's ex2 / lg2 / sin / cos / tanh `.approx` instructions instead (their
 * error is measured in test/backends/cuda-ptx/math.test.ts).
 */
import { type Asm, f32Imm, f64Imm } from './asm.js';

const F = f64Imm;
const LN2_HI = 6.93147180369123816490e-1; // 0x3FE62E42FEE00000: n * LN2_HI is exact for |n| < 2^21
const LN2_LO = 1.90821492927058770002e-10;
const factorialInv = (k: number): number => {
  let f = 1;
  for (let i = 2; i <= k; i++) f *= i;
  return 1 / f;
};

/** Horner evaluation c[0] + x*(c[1] + x*(c[2] + ...)) with fma.rn.f64. */
function horner64(a: Asm, x: string, c: readonly number[]): string {
  let p = F(c[c.length - 1] ?? 0);
  for (let i = c.length - 2; i >= 0; i--) p = a.t('fma.rn.f64', 'f64', p, x, F(c[i] ?? 0));
  return a.inReg(p, 'f64', 'f64');
}

/** 2^n as an f64 for integer n in [-1022, 1023] (bit construction). */
function pow2i(a: Asm, n: string): string {
  const hi = a.t('shl.b32', 'b32', a.t('add.s32', 'b32', n, '1023'), '20');
  const zero = a.t('mov.b32', 'b32', '0');
  const d = a.reg('f64');
  a.emit(`mov.b64 ${d}, {${zero}, ${hi}}`);
  return d;
}

/** e^x in float64, about 1 ulp: x = n ln2 + r, Taylor polynomial of degree 13 on |r| <= ln2/2, 2^n in two steps. */
export function exp64(a: Asm, x: string): string {
  const n = a.t('cvt.rni.f64.f64', 'f64', a.t('mul.rn.f64', 'f64', x, F(Math.LOG2E)));
  let r = a.t('fma.rn.f64', 'f64', n, F(-LN2_HI), x);
  r = a.t('fma.rn.f64', 'f64', n, F(-LN2_LO), r);
  const p = horner64(a, r, Array.from({ length: 14 }, (_, k) => factorialInv(k)));
  // 2^n = 2^n1 * 2^n2 keeps both factors normal for results down to the smallest subnormal.
  let ni = a.t('cvt.rzi.s32.f64', 'b32', n);
  ni = a.t('max.s32', 'b32', a.t('min.s32', 'b32', ni, '2046'), '-2044');
  const n1 = a.t('shr.s32', 'b32', ni, '1');
  const n2 = a.t('sub.s32', 'b32', ni, n1);
  let y = a.t('mul.rn.f64', 'f64', a.t('mul.rn.f64', 'f64', p, pow2i(a, n1)), pow2i(a, n2));
  const big = a.t('setp.gt.f64', 'pred', x, F(709.8));
  y = a.t('selp.f64', 'f64', F(Infinity), y, big);
  const small = a.t('setp.lt.f64', 'pred', x, F(-745.2));
  return a.t('selp.f64', 'f64', F(0), y, small);
}

/** e^y - 1 for y >= 0 without cancellation near 0. */
function expm1Pos64(a: Asm, y: string): string {
  const series = a.t('mul.rn.f64', 'f64', horner64(a, y, Array.from({ length: 15 }, (_, k) => factorialInv(k + 1))), y);
  const viaExp = a.t('sub.rn.f64', 'f64', exp64(a, y), F(1));
  const near = a.t('setp.lt.f64', 'pred', y, F(0.3465));
  return a.t('selp.f64', 'f64', series, viaExp, near);
}

/** ln x in float64: x = m 2^e with m in [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m-1)/(m+1), series to s^23. */
export function log64(a: Asm, x: string): string {
  const sub = a.t('setp.lt.f64', 'pred', x, F(2 ** -1022));
  const xs = a.t('selp.f64', 'f64', a.t('mul.rn.f64', 'f64', x, F(2 ** 54)), x, sub);
  const eAdj = a.t('selp.s32', 'b32', '-54', '0', sub);
  const lo = a.reg('b32');
  const hi = a.reg('b32');
  a.emit(`mov.b64 {${lo}, ${hi}}, ${xs}`);
  let e = a.t('sub.s32', 'b32', a.t('shr.u32', 'b32', hi, '20'), '1023');
  e = a.t('add.s32', 'b32', e, eAdj);
  const mhi = a.t('or.b32', 'b32', a.t('and.b32', 'b32', hi, '1048575'), '1072693248');
  let m = a.reg('f64');
  a.emit(`mov.b64 ${m}, {${lo}, ${mhi}}`);
  const over = a.t('setp.gt.f64', 'pred', m, F(Math.SQRT2));
  m = a.t('selp.f64', 'f64', a.t('mul.rn.f64', 'f64', m, F(0.5)), m, over);
  e = a.t('add.s32', 'b32', e, a.t('selp.s32', 'b32', '1', '0', over));
  const f = a.t('sub.rn.f64', 'f64', m, F(1));
  const s = a.t('div.rn.f64', 'f64', f, a.t('add.rn.f64', 'f64', f, F(2)));
  const z = a.t('mul.rn.f64', 'f64', s, s);
  const poly = horner64(a, z, Array.from({ length: 11 }, (_, k) => 2 / (2 * k + 3)));
  // ln m = 2s + s z P(z)
  const lnm = a.t('fma.rn.f64', 'f64', a.t('mul.rn.f64', 'f64', s, z), poly, a.t('add.rn.f64', 'f64', s, s));
  const ef = a.t('cvt.rn.f64.s32', 'f64', e);
  let y = a.t('fma.rn.f64', 'f64', ef, F(LN2_HI), a.t('fma.rn.f64', 'f64', ef, F(LN2_LO), lnm));
  y = a.t('selp.f64', 'f64', F(-Infinity), y, a.t('setp.eq.f64', 'pred', x, F(0)));
  y = a.t('selp.f64', 'f64', F(NaN), y, a.t('setp.lt.f64', 'pred', x, F(0)));
  y = a.t('selp.f64', 'f64', F(Infinity), y, a.t('setp.eq.f64', 'pred', x, F(Infinity)));
  return a.t('selp.f64', 'f64', x, y, a.t('setp.nan.f64', 'pred', x, x));
}

// pi/2 as a sum of three doubles (the fma chain subtracts k * each exactly rounded).
const PIO2_1 = 1.5707963267948966;
const PIO2_2 = 6.123233995736766e-17;
const PIO2_3 = -1.4973849048591698e-33;

/** sin (or cos when `cos`) in float64: k = rint(x 2/pi), r = x - k pi/2 (three-part), Taylor polynomials on |r| <= pi/4. */
export function sincos64(a: Asm, x: string, cos: boolean): string {
  const k = a.t('cvt.rni.f64.f64', 'f64', a.t('mul.rn.f64', 'f64', x, F(2 / Math.PI)));
  let r = a.t('fma.rn.f64', 'f64', k, F(-PIO2_1), x);
  r = a.t('fma.rn.f64', 'f64', k, F(-PIO2_2), r);
  r = a.t('fma.rn.f64', 'f64', k, F(-PIO2_3), r);
  const z = a.t('mul.rn.f64', 'f64', r, r);
  const sp = horner64(a, z, Array.from({ length: 8 }, (_, i) => (i % 2 ? 1 : -1) * factorialInv(2 * i + 3)));
  const sinR = a.t('fma.rn.f64', 'f64', a.t('mul.rn.f64', 'f64', r, z), sp, r);
  const cp = horner64(a, z, Array.from({ length: 9 }, (_, i) => (i % 2 ? 1 : -1) * factorialInv(2 * i + 2)));
  const cosR = a.t('fma.rn.f64', 'f64', z, cp, F(1));
  // Quadrant k mod 4, exact in float64 for |k| < 2^53; cos(x) = sin(x + pi/2).
  const q4 = a.t('sub.rn.f64', 'f64', k, a.t('mul.rn.f64', 'f64', a.t('cvt.rmi.f64.f64', 'f64', a.t('mul.rn.f64', 'f64', k, F(0.25))), F(4)));
  let q = a.t('cvt.rzi.s32.f64', 'b32', q4);
  if (cos) q = a.t('add.s32', 'b32', q, '1');
  const odd = a.t('setp.ne.s32', 'pred', a.t('and.b32', 'b32', q, '1'), '0');
  const neg = a.t('setp.ne.s32', 'pred', a.t('and.b32', 'b32', q, '2'), '0');
  const v = a.t('selp.f64', 'f64', cosR, sinR, odd);
  return a.t('selp.f64', 'f64', a.t('neg.f64', 'f64', v), v, neg);
}

/** tanh in float64: t = expm1(2|x|), tanh = t / (t + 2) with the sign of x; 1 beyond |x| = 22. */
export function tanh64(a: Asm, x: string): string {
  const ax = a.t('abs.f64', 'f64', x);
  const t = expm1Pos64(a, a.t('add.rn.f64', 'f64', ax, ax));
  let y = a.t('div.rn.f64', 'f64', t, a.t('add.rn.f64', 'f64', t, F(2)));
  y = a.t('selp.f64', 'f64', F(1), y, a.t('setp.gt.f64', 'pred', ax, F(22)));
  return a.t('copysign.f64', 'f64', x, y);
}

/**
 * erf in float64, as the Wasm backend computes it: the Taylor series below |x| = 2.5 (until a term is below 1e-17
 * of the sum, at most 100 terms), a continued fraction for erfc up to 6, +-1 beyond.
 */
export function erf64(a: Asm, x: string): string {
  const ax = a.t('abs.f64', 'f64', x);
  const result = a.reg('f64');
  const [tail, done, loop, loopEnd] = [a.newLabel('erf_tail'), a.newLabel('erf_done'), a.newLabel('erf_series'), a.newLabel('erf_series_end')];
  a.emit(`@!${a.t('setp.lt.f64', 'pred', ax, F(2.5))} bra ${tail}`);
  {
    const x2 = a.t('mul.rn.f64', 'f64', x, x);
    const term = a.t('mov.f64', 'f64', x);
    const sum = a.t('mov.f64', 'f64', x);
    const n = a.t('mov.f64', 'f64', F(1));
    a.place(loop);
    a.to(term, 'mul.rn.f64', term, a.t('div.rn.f64', 'f64', a.t('neg.f64', 'f64', x2), n));
    const tk = a.t('div.rn.f64', 'f64', term, a.t('fma.rn.f64', 'f64', n, F(2), F(1)));
    a.to(sum, 'add.rn.f64', sum, tk);
    const small = a.t('setp.le.f64', 'pred', a.t('abs.f64', 'f64', tk), a.t('mul.rn.f64', 'f64', a.t('abs.f64', 'f64', sum), F(1e-17)));
    a.emit(`@${small} bra ${loopEnd}`);
    a.to(n, 'add.rn.f64', n, F(1));
    a.emit(`@${a.t('setp.lt.f64', 'pred', n, F(100))} bra ${loop}`);
    a.place(loopEnd);
    a.to(result, 'mul.rn.f64', F(2 / Math.sqrt(Math.PI)), sum);
    a.emit(`bra ${done}`);
  }
  a.place(tail);
  {
    const f = a.t('mov.f64', 'f64', ax);
    const n = a.t('mov.f64', 'f64', F(80));
    const cf = a.newLabel('erf_cf');
    a.place(cf);
    a.to(f, 'add.rn.f64', ax, a.t('div.rn.f64', 'f64', a.t('mul.rn.f64', 'f64', n, F(0.5)), f));
    a.to(n, 'sub.rn.f64', n, F(1));
    a.emit(`@${a.t('setp.ge.f64', 'pred', n, F(1))} bra ${cf}`);
    const e = exp64(a, a.t('neg.f64', 'f64', a.t('mul.rn.f64', 'f64', ax, ax)));
    let y = a.t('sub.rn.f64', 'f64', F(1), a.t('div.rn.f64', 'f64', e, a.t('mul.rn.f64', 'f64', F(Math.sqrt(Math.PI)), f)));
    y = a.t('selp.f64', 'f64', F(1), y, a.t('setp.gt.f64', 'pred', ax, F(6)));
    a.to(result, 'copysign.f64', x, y);
    a.to(result, 'selp.f64', x, result, a.t('setp.nan.f64', 'pred', x, x));
  }
  a.place(done);
  return result;
}

/** a^b in float64 with JavaScript's Math.pow special cases: exp(b ln|a|), the sign from odd integer b. */
export function pow64(a: Asm, x: string, b: string): string {
  const r = exp64(a, a.t('mul.rn.f64', 'f64', b, log64(a, a.t('abs.f64', 'f64', x))));
  const isInt = a.t('setp.eq.f64', 'pred', a.t('cvt.rmi.f64.f64', 'f64', b), b);
  const half = a.t('mul.rn.f64', 'f64', b, F(0.5));
  const oddInt = a.reg('pred');
  a.emit(`setp.ne.and.f64 ${oddInt}, ${a.t('cvt.rmi.f64.f64', 'f64', half)}, ${half}, ${isInt}`);
  const lo = a.reg('b32');
  const hi = a.reg('b32');
  a.emit(`mov.b64 {${lo}, ${hi}}, ${x}`);
  const negA = a.t('setp.lt.s32', 'pred', hi, '0');
  const flip = a.reg('pred');
  a.emit(`and.pred ${flip}, ${negA}, ${oddInt}`);
  let y = a.t('selp.f64', 'f64', a.t('neg.f64', 'f64', r), r, flip);
  // A negative finite base with a non-integer exponent has no real power.
  const negFinite = a.reg('pred');
  a.emit(`setp.lt.and.f64 ${negFinite}, ${x}, ${F(0)}, ${a.t('setp.gt.f64', 'pred', x, F(-Infinity))}`);
  const noReal = a.reg('pred');
  a.emit(`and.pred ${noReal}, ${negFinite}, ${a.t('not.pred', 'pred', isInt)}`);
  y = a.t('selp.f64', 'f64', F(NaN), y, noReal);
  return a.t('selp.f64', 'f64', F(1), y, a.t('setp.eq.f64', 'pred', b, F(0)));
}

const F32 = f32Imm;

/** e^x in float32, operation for operation the Wasm backend's expF32 (Cephes expf, Cody-Waite ln2). */
export function exp32(a: Asm, x: string): string {
  let n = a.t('cvt.rni.f32.f32', 'f32', a.t('mul.rn.f32', 'f32', x, F32(1.4426950408889634)));
  n = a.t('min.f32', 'f32', a.t('max.f32', 'f32', n, F32(-126)), F32(127));
  const r = a.t('sub.rn.f32', 'f32', a.t('sub.rn.f32', 'f32', x, a.t('mul.rn.f32', 'f32', n, F32(0.693359375))), a.t('mul.rn.f32', 'f32', n, F32(-2.1219444e-4)));
  const coeffs = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  let p = a.t('mov.f32', 'f32', F32(coeffs[0] ?? 0));
  for (const c of coeffs.slice(1)) p = a.t('add.rn.f32', 'f32', a.t('mul.rn.f32', 'f32', p, r), F32(c));
  p = a.t('add.rn.f32', 'f32', a.t('add.rn.f32', 'f32', a.t('mul.rn.f32', 'f32', a.t('mul.rn.f32', 'f32', p, r), r), r), F32(1));
  const bits = a.t('shl.b32', 'b32', a.t('add.s32', 'b32', a.t('cvt.rzi.s32.f32', 'b32', n), '127'), '23');
  let y = a.t('mul.rn.f32', 'f32', p, a.t('mov.b32', 'f32', bits));
  y = a.t('selp.f32', 'f32', F32(Infinity), y, a.t('setp.gt.f32', 'pred', x, F32(88.72283)));
  y = a.t('selp.f32', 'f32', F32(0), y, a.t('setp.lt.f32', 'pred', x, F32(-87.33654)));
  // NaN: the clamp above keeps n finite, so r (and y) are NaN.
  return y;
}

export type MathFn = 'exp' | 'log' | 'tanh' | 'sin' | 'cos' | 'erf';

/** A float64 transcendental. */
export function math64(a: Asm, fn: MathFn, x: string): string {
  switch (fn) {
    case 'exp':
      return exp64(a, x);
    case 'log':
      return log64(a, x);
    case 'tanh':
      return tanh64(a, x);
    case 'sin':
      return sincos64(a, x, false);
    case 'cos':
      return sincos64(a, x, true);
    case 'erf':
      return erf64(a, x);
  }
}

/** A float32 transcendental: exp natively, the rest through float64 (one rounding at the end), or `.approx`. */
export function math32(a: Asm, fn: MathFn, x: string, approx: boolean): string {
  if (approx) {
    switch (fn) {
      case 'exp':
        return a.t('ex2.approx.f32', 'f32', a.t('mul.rn.f32', 'f32', x, F32(Math.LOG2E)));
      case 'log':
        return a.t('mul.rn.f32', 'f32', a.t('lg2.approx.f32', 'f32', x), F32(Math.LN2));
      case 'sin':
        return a.t('sin.approx.f32', 'f32', x);
      case 'cos':
        return a.t('cos.approx.f32', 'f32', x);
      case 'tanh':
        return a.t('tanh.approx.f32', 'f32', x);
      case 'erf':
        break;
    }
  }
  if (fn === 'exp') return exp32(a, x);
  return a.t('cvt.rn.f32.f64', 'f32', math64(a, fn, a.t('cvt.f64.f32', 'f64', x)));
}

/** a^b in float32 through float64. */
export function pow32(a: Asm, x: string, b: string): string {
  return a.t('cvt.rn.f32.f64', 'f32', pow64(a, a.t('cvt.f64.f32', 'f64', x), a.t('cvt.f64.f32', 'f64', b)));
}
