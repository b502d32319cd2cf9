/**
 * Wasm instruction selection for the arithmetic node kinds (unary, binary, cmp, cast), as exhaustive tables per
 * function name, so a new kernel function fails tsc here. Integer division by zero yields 0 (like the reference).
 */
import { type Expr, f32, i32, type ModuleBuilder, v128, type ValType } from './encoder.js';
import type { KBinaryFn, KCmpFn, KNode, KNodeOf, KType, KUnaryFn } from '../../kernel/ir.js';
import type { MathImport } from './math.js';
import type { FunctionRenderer } from './render.js';


/** Evaluates x once into a fresh local; returns a getter. */
function share(r: FunctionRenderer, t: ValType, x: Expr): { set: Expr; get: () => Expr } {
  const l = r.tempLocal(t);
  return { set: r.mod.local.set(l, x), get: () => r.mod.local.get(l, t) };
}

function seq(r: FunctionRenderer, set: Expr, value: Expr, t: ValType): Expr {
  return r.mod.block(null, [set, value], t);
}

const TRANSCENDENTAL: Partial<Record<KUnaryFn, MathImport>> = { exp: 'exp', log: 'log', tanh: 'tanh', sin: 'sin', cos: 'cos', erf: 'erf' };

function roundF16(r: FunctionRenderer, x: Expr): Expr {
  const m = r.mod;
  const xs = share(r, f32, x);
  const u = share(r, i32, m.i32.reinterpret(xs.get()));
  const abs = (): Expr => m.i32.and(u.get(), m.i32.const(0x7fffffff));
  const normal = m.f32.reinterpret(
    m.i32.and(m.i32.add(m.i32.add(u.get(), m.i32.const(0xfff)), m.i32.and(m.i32.shr_u(u.get(), m.i32.const(13)), m.i32.const(1))), m.i32.const(0xffffe000 | 0)),
  );
  const sub = m.f32.mul(m.f32.nearest(m.f32.mul(xs.get(), m.f32.const(2 ** 24))), m.f32.const(2 ** -24));
  const inf = m.f32.reinterpret(m.i32.or(m.i32.and(u.get(), m.i32.const(0x80000000 | 0)), m.i32.const(0x7f800000)));
  const v = m.select(
    m.i32.ge_u(abs(), m.i32.const(0x7f800000)),
    xs.get(),
    m.select(m.i32.ge_u(abs(), m.i32.const(0x477ff000)), inf, m.select(m.i32.lt_u(abs(), m.i32.const(0x38800000)), sub, normal)),
  );
  return m.block(null, [xs.set, u.set, v], f32);
}

function roundBf16(r: FunctionRenderer, x: Expr): Expr {
  const m = r.mod;
  const xs = share(r, f32, x);
  const u = share(r, i32, m.i32.reinterpret(xs.get()));
  const rounded = m.f32.reinterpret(
    m.i32.and(m.i32.add(m.i32.add(u.get(), m.i32.const(0x7fff)), m.i32.and(m.i32.shr_u(u.get(), m.i32.const(16)), m.i32.const(1))), m.i32.const(0xffff0000 | 0)),
  );
  const v = m.select(m.i32.gt_u(m.i32.and(u.get(), m.i32.const(0x7fffffff)), m.i32.const(0x7f800000)), xs.get(), rounded);
  return m.block(null, [xs.set, u.set, v], f32);
}

/**
 * exp in float32 without leaving Wasm: exp(x) = 2^n * p(x - n ln2) with n = round(x / ln2), ln2 split in two
 * (Cody-Waite) and the Cephes expf polynomial; about 1 ulp. Above 88.72 it is +inf, below -87.34 it is 0
 * (float32 subnormals are flushed), NaN stays NaN. One code path for f32 and f32x4 (`vec`).
 */
function expF32(r: FunctionRenderer, x: Expr, vec: boolean): Expr {
  const m = r.mod;
  const F = vec
    ? // The clamps take the data first and a constant second: pmin / pmax then keep a NaN (see vectorMinMax).
      { add: m.f32x4.add, sub: m.f32x4.sub, mul: m.f32x4.mul, min: m.f32x4.pmin, max: m.f32x4.pmax, nearest: m.f32x4.nearest, c: (v: number) => m.f32x4.splat(m.f32.const(v)), gt: m.f32x4.gt, lt: m.f32x4.lt }
    : { add: m.f32.add, sub: m.f32.sub, mul: m.f32.mul, min: m.f32.min, max: m.f32.max, nearest: m.f32.nearest, c: (v: number) => m.f32.const(v), gt: m.f32.gt, lt: m.f32.lt };
  const t = vec ? v128 : f32;
  const xs = share(r, t, x);
  const n = share(r, t, F.min(F.max(F.nearest(F.mul(xs.get(), F.c(1.4426950408889634))), F.c(-126)), F.c(127)));
  const rr = share(r, t, F.sub(F.sub(xs.get(), F.mul(n.get(), F.c(0.693359375))), F.mul(n.get(), F.c(-2.12194440e-4))));
  const coeffs = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  let p = F.c(coeffs[0] ?? 0);
  for (const c of coeffs.slice(1)) p = F.add(F.mul(p, rr.get()), F.c(c));
  p = F.add(F.add(F.mul(F.mul(p, rr.get()), rr.get()), rr.get()), F.c(1));
  const pow2 = vec
    ? m.i32x4.shl(m.i32x4.add(m.i32x4.trunc_sat_f32x4_s(n.get()), m.i32x4.splat(m.i32.const(127))), m.i32.const(23))
    : m.f32.reinterpret(m.i32.shl(m.i32.add(m.i32.trunc_s_sat.f32(n.get()), m.i32.const(127)), m.i32.const(23)));
  let y = F.mul(p, pow2);
  if (vec) {
    y = m.v128.bitselect(F.c(Number.POSITIVE_INFINITY), y, F.gt(xs.get(), F.c(88.72283)));
    y = m.v128.bitselect(F.c(0), y, F.lt(xs.get(), F.c(-87.33654)));
  } else {
    y = m.select(F.gt(xs.get(), F.c(88.72283)), F.c(Number.POSITIVE_INFINITY), y);
    y = m.select(F.lt(xs.get(), F.c(-87.33654)), F.c(0), y);
  }
  return m.block(null, [xs.set, n.set, rr.set, y], t);
}

function scalarUnary(fn: KUnaryFn, t: KType, x: Expr, r: FunctionRenderer): Expr {
  const m = r.mod;
  if (t === 'f32' || t === 'f64') {
    const F = t === 'f32' ? m.f32 : m.f64;
    // float32 exp stays in Wasm (attention's softmax calls it once per visible key); float64 functions call the
    // host's libm, which the reference interpreter uses too.
    if (fn === 'exp' && t === 'f32') return expF32(r, x, false);
    const imp = TRANSCENDENTAL[fn];
    if (imp !== undefined) return t === 'f32' ? m.f32.demote(r.callMath(imp, m.f64.promote(x))) : r.callMath(imp, x);
    switch (fn) {
      case 'neg':
        return F.neg(x);
      case 'abs':
        return F.abs(x);
      case 'sqrt':
        return F.sqrt(x);
      case 'floor':
        return F.floor(x);
      case 'recip':
        return F.div(F.const(1), x);
      case 'round_f16':
        return t === 'f32' ? roundF16(r, x) : m.f64.promote(roundF16(r, m.f32.demote(x)));
      case 'round_bf16':
        return t === 'f32' ? roundBf16(r, x) : m.f64.promote(roundBf16(r, m.f32.demote(x)));
      case 'opaque':
        // Wasm engines never fold float arithmetic algebraically: the identity is enough.
        return x;
      default:
        throw new Error(`unary ${fn} is not defined on ${t}`);
    }
  }
  // Integers and bool.
  switch (fn) {
    case 'neg':
      return m.i32.sub(m.i32.const(0), x);
    case 'abs': {
      const s = share(r, i32, x);
      return seq(r, s.set, m.select(m.i32.lt_s(s.get(), m.i32.const(0)), m.i32.sub(m.i32.const(0), s.get()), s.get()), i32);
    }
    case 'not':
      return t === 'bool' ? m.i32.eqz(x) : m.i32.xor(x, m.i32.const(-1));
    default:
      throw new Error(`unary ${fn} is not defined on ${t}`);
  }
}

export function unaryRule(n: KNodeOf<'unary'>, x: Expr, r: FunctionRenderer): Expr {
  const m = r.mod;
  if (n.type === 'f32x4') {
    switch (n.arg) {
      case 'neg':
        return m.f32x4.neg(x);
      case 'abs':
        return m.f32x4.abs(x);
      case 'sqrt':
        return m.f32x4.sqrt(x);
      case 'floor':
        return m.f32x4.floor(x);
      case 'recip':
        return m.f32x4.div(m.f32x4.splat(m.f32.const(1)), x);
      case 'exp':
        return expF32(r, x, true);
      case 'opaque':
        return x;
      default: {
        // No vector instruction: apply the scalar rule lane by lane.
        const s = share(r, v128, x);
        let v = m.f32x4.splat(scalarUnary(n.arg, 'f32', m.f32x4.extract_lane(s.get(), 0), r));
        for (let i = 1; i < 4; i++) v = m.f32x4.replace_lane(v, i, scalarUnary(n.arg, 'f32', m.f32x4.extract_lane(s.get(), i), r));
        return seq(r, s.set, v, v128);
      }
    }
  }
  if (n.type === 'i32x4') {
    if (n.arg === 'neg') return m.i32x4.neg(x);
    if (n.arg === 'abs') return m.i32x4.abs(x);
    if (n.arg === 'not') return m.v128.not(x);
    throw new Error(`unary ${n.arg} is not defined on i32x4`);
  }
  return scalarUnary(n.arg, n.type, x, r);
}

function intBinary(fn: KBinaryFn, unsigned: boolean, a: Expr, b: Expr, r: FunctionRenderer): Expr {
  const m = r.mod;
  const I = m.i32;
  switch (fn) {
    case 'add':
      return I.add(a, b);
    case 'sub':
      return I.sub(a, b);
    case 'mul':
      return I.mul(a, b);
    case 'and':
      return I.and(a, b);
    case 'or':
      return I.or(a, b);
    case 'xor':
      return I.xor(a, b);
    case 'shl':
      return I.shl(a, b);
    case 'shr':
      return unsigned ? I.shr_u(a, b) : I.shr_s(a, b);
    case 'div':
    case 'rem': {
      // Division by zero gives 0 and INT_MIN / -1 wraps, like the reference (Wasm would trap on both).
      const sa = share(r, i32, a);
      const sb = share(r, i32, b);
      const wraps = unsigned ? I.const(0) : I.and(I.eq(sa.get(), I.const(-2147483648)), I.eq(sb.get(), I.const(-1)));
      // A divisor of 1 where the result is chosen by the selects below: select evaluates both arms, and
      // Wasm traps on x / 0 and on INT_MIN / -1.
      const safeB = m.select(I.or(I.eqz(sb.get()), wraps), I.const(1), sb.get());
      const q =
        fn === 'div'
          ? unsigned ? I.div_u(sa.get(), safeB) : I.div_s(sa.get(), safeB)
          : m.select(wraps, I.const(0), unsigned ? I.rem_u(sa.get(), safeB) : I.rem_s(sa.get(), safeB));
      return m.block(null, [sa.set, sb.set, m.select(I.eqz(sb.get()), I.const(0), q)], i32);
    }
    case 'max':
    case 'min': {
      const sa = share(r, i32, a);
      const sb = share(r, i32, b);
      const less = unsigned ? I.lt_u(sa.get(), sb.get()) : I.lt_s(sa.get(), sb.get());
      const v = fn === 'max' ? m.select(less, sb.get(), sa.get()) : m.select(less, sa.get(), sb.get());
      return m.block(null, [sa.set, sb.set, v], i32);
    }
    case 'pow':
      return m.i32.trunc_s_sat.f64(r.callPow(unsigned ? m.f64.convert_u.i32(a) : m.f64.convert_s.i32(a), unsigned ? m.f64.convert_u.i32(b) : m.f64.convert_s.i32(b)));
  }
}

/** s where x is a splat of the i32 constant 2^s (0 < s < 31). */
function powerOfTwoSplat(x: KNode | undefined): number | undefined {
  const c = x?.op === 'splat' ? x.src[0] : undefined;
  if (c?.op !== 'const' || !Number.isInteger(c.arg) || c.arg < 2) return undefined;
  const s = Math.log2(c.arg);
  return Number.isInteger(s) && s < 31 ? s : undefined;
}

/** Whether an f32x4 operand is a splat of a constant that is not NaN. */
const constantSplat = (x: KNode | undefined): boolean => x !== undefined && x.op === 'splat' && x.src[0]?.op === 'const' && !Number.isNaN(x.src[0].arg);

/**
 * f32x4 min / max with the numerics policy's meaning (NaN if either operand is NaN; the sign of a zero result is
 * unspecified), cheaper than Wasm's f32x4.min / max, which also order -0 below +0 (V8 emits eight instructions
 * for them on x64, a dependency chain of six). With a constant operand c: pmax(x, c) = x < c ? c : x, which is
 * x when x is NaN (one instruction); otherwise pmax(b, a), right when b is NaN, and a where a is NaN.
 */
function vectorMinMax(fn: 'min' | 'max', n: KNodeOf<'binary'>, a: Expr, b: Expr, r: FunctionRenderer): Expr {
  const m = r.mod;
  const p = fn === 'max' ? m.f32x4.pmax : m.f32x4.pmin;
  if (constantSplat(n.src[1])) return p(a, b);
  if (constantSplat(n.src[0])) return p(b, a);
  const sa = share(r, v128, a);
  return seq(r, sa.set, m.v128.bitselect(sa.get(), p(b, sa.get()), m.f32x4.ne(sa.get(), sa.get())), v128);
}

export function binaryRule(n: KNodeOf<'binary'>, a: Expr, b: Expr, r: FunctionRenderer): Expr {
  const m = r.mod;
  const fn = n.arg;
  switch (n.type) {
    case 'f32':
    case 'f64': {
      const F = n.type === 'f32' ? m.f32 : m.f64;
      const table: Partial<Record<KBinaryFn, (x: Expr, y: Expr) => Expr>> = { add: F.add, sub: F.sub, mul: F.mul, div: F.div, max: F.max, min: F.min };
      const f = table[fn];
      if (f) return f(a, b);
      if (fn === 'pow') return n.type === 'f32' ? m.f32.demote(r.callPow(m.f64.promote(a), m.f64.promote(b))) : r.callPow(a, b);
      throw new Error(`binary ${fn} is not defined on ${n.type}`);
    }
    case 'f32x4': {
      if (fn === 'max' || fn === 'min') return vectorMinMax(fn, n, a, b, r);
      const table: Partial<Record<KBinaryFn, (x: Expr, y: Expr) => Expr>> = {
        add: m.f32x4.add, sub: m.f32x4.sub, mul: m.f32x4.mul, div: m.f32x4.div,
      };
      const f = table[fn];
      if (f) return f(a, b);
      throw new Error(`binary ${fn} is not defined on f32x4`);
    }
    case 'i32x4': {
      // x * 2^s is x << s in wrapping arithmetic: one shift instead of a 32-bit multiply (V8: pslld, not pmulld).
      if (fn === 'mul') {
        const right = powerOfTwoSplat(n.src[1]);
        if (right !== undefined) return m.i32x4.shl(a, m.i32.const(right));
        const left = powerOfTwoSplat(n.src[0]);
        if (left !== undefined) return m.i32x4.shl(b, m.i32.const(left));
      }
      const table: Partial<Record<KBinaryFn, (x: Expr, y: Expr) => Expr>> = {
        add: m.i32x4.add, sub: m.i32x4.sub, mul: m.i32x4.mul, max: m.i32x4.max_s, min: m.i32x4.min_s, and: m.v128.and, or: m.v128.or, xor: m.v128.xor,
      };
      const f = table[fn];
      if (f) return f(a, b);
      throw new Error(`binary ${fn} is not defined on i32x4`);
    }
    case 'i32':
    case 'u32':
    case 'bool':
      return intBinary(fn, n.type === 'u32', a, b, r);
    case 'void':
      throw new Error('binary on void');
  }
}

export function cmpRule(n: KNodeOf<'cmp'>, a: Expr, b: Expr, m: ModuleBuilder): Expr {
  const t = n.src[0]?.type ?? 'i32';
  const fn: KCmpFn = n.arg;
  if (t === 'f32' || t === 'f64') {
    const F = t === 'f32' ? m.f32 : m.f64;
    return { lt: F.lt, le: F.le, gt: F.gt, ge: F.ge, eq: F.eq, ne: F.ne }[fn](a, b);
  }
  if (t === 'u32') return { lt: m.i32.lt_u, le: m.i32.le_u, gt: m.i32.gt_u, ge: m.i32.ge_u, eq: m.i32.eq, ne: m.i32.ne }[fn](a, b);
  if (t === 'i32' || t === 'bool') return { lt: m.i32.lt_s, le: m.i32.le_s, gt: m.i32.gt_s, ge: m.i32.ge_s, eq: m.i32.eq, ne: m.i32.ne }[fn](a, b);
  throw new Error(`comparison of ${t} values`);
}

export function castRule(from: KType, to: KType, x: Expr, r: FunctionRenderer): Expr {
  const m = r.mod;
  if (from === to) return x;
  const intLike = (t: KType): boolean => t === 'i32' || t === 'u32' || t === 'bool';
  if (to === 'bool') {
    if (from === 'f32') return m.f32.ne(x, m.f32.const(0));
    if (from === 'f64') return m.f64.ne(x, m.f64.const(0));
    return m.i32.ne(x, m.i32.const(0));
  }
  if (intLike(from) && intLike(to)) return x;
  if (to === 'f32') {
    if (from === 'f64') return m.f32.demote(x);
    return from === 'i32' ? m.f32.convert_s.i32(x) : m.f32.convert_u.i32(x);
  }
  if (to === 'f64') {
    if (from === 'f32') return m.f64.promote(x);
    return from === 'i32' ? m.f64.convert_s.i32(x) : m.f64.convert_u.i32(x);
  }
  if (to === 'i32' || to === 'u32') {
    // Truncate toward zero, saturating (infinities too); NaN gives 0: the numerics policy, Wasm's trunc_sat.
    if (from === 'f32') return to === 'i32' ? m.i32.trunc_s_sat.f32(x) : m.i32.trunc_u_sat.f32(x);
    if (from === 'f64') return to === 'i32' ? m.i32.trunc_s_sat.f64(x) : m.i32.trunc_u_sat.f64(x);
    throw new Error(`cast ${from} -> ${to}`);
  }
  throw new Error(`cast ${from} -> ${to}`);
}
