/**
 * PTX instruction selection for the arithmetic node kinds: one exhaustive table per kind (unary, binary,
 * comparison) keyed by function name, so a new Kernel IR function fails tsc here until PTX handles it, plus the
 * cast matrix. Operands are scalar register names or immediates; vectors go through these lane by lane.
 * f32 add/sub/mul/fma carry `.rn`, which forbids ptxas to contract them into FMAs (the router score depends
 * on every add and multiply rounding separately).
 */
import type { KBinaryFn, KCmpFn, KUnaryFn, ScalarType } from '../../kernel/ir.js';
import { type Asm, f32Imm, type RegClass } from './asm.js';
import type { PtxFeatures } from './isa.js';
import { math32, math64, pow32, pow64 } from './math.js';

export interface IselContext {
  readonly asm: Asm;
  readonly features: PtxFeatures;
  readonly approx: boolean;
  /** A .b16 register holding 0 (set once at kernel entry), for building bf16 bit patterns. */
  zero16(): string;
  /** Where an error happened (kernel and node), for messages. */
  readonly where: string;
}

export const regClass = (t: ScalarType): RegClass => (t === 'f32' ? 'f32' : t === 'f64' ? 'f64' : t === 'bool' ? 'pred' : 'b32');
/** The PTX instruction type of a scalar type. */
export const ptxType = (t: ScalarType): string => (t === 'i32' ? 's32' : t === 'bool' ? 'pred' : t);
/** The mov type of a register class. */
export const movType = (c: RegClass): string => (c === 'pred' ? 'pred' : c === 'f32' ? 'f32' : c === 'f64' ? 'f64' : c);

type Unary = (c: IselContext, t: ScalarType, x: string) => string;
type Binary = (c: IselContext, t: ScalarType, a: string, b: string) => string;

const fail = (c: IselContext, what: string, t: ScalarType): never => {
  throw new Error(`${c.where}: ${what} is not defined on ${t}`);
};
const isFloat = (t: ScalarType): t is 'f32' | 'f64' => t === 'f32' || t === 'f64';
const isInt = (t: ScalarType): t is 'i32' | 'u32' => t === 'i32' || t === 'u32';
const reg = (c: IselContext, x: string, t: ScalarType): string => c.asm.inReg(x, regClass(t), movType(regClass(t)));

const floatOnly = (op: (t: 'f32' | 'f64') => string): Unary => (c, t, x) => (isFloat(t) ? c.asm.t(op(t), t, reg(c, x, t)) : fail(c, op('f32'), t));
const transcendental = (fn: 'exp' | 'log' | 'tanh' | 'sin' | 'cos' | 'erf'): Unary => (c, t, x) =>
  t === 'f32' ? math32(c.asm, fn, reg(c, x, t), c.approx) : t === 'f64' ? math64(c.asm, fn, reg(c, x, t)) : fail(c, fn, t);

/** f32 -> f32 rounded to bf16 (ties to even; NaN kept), by cvt on sm_80 or by integer rounding before it. */
export function roundBf16Bits(c: IselContext, x: string): string {
  const a = c.asm;
  if (c.features.cvtBf16) return a.t('cvt.rn.bf16.f32', 'b16', x);
  const u = a.t('mov.b32', 'b32', x);
  const lsb = a.t('and.b32', 'b32', a.t('shr.u32', 'b32', u, '16'), '1');
  const rounded = a.t('shr.u32', 'b32', a.t('add.s32', 'b32', a.t('add.s32', 'b32', u, '32767'), lsb), '16');
  const quiet = a.t('or.b32', 'b32', a.t('shr.u32', 'b32', u, '16'), '64');
  const nan = a.t('setp.gt.u32', 'pred', a.t('and.b32', 'b32', u, '2147483647'), '2139095040');
  const bits = a.t('selp.b32', 'b32', quiet, rounded, nan);
  return a.t('cvt.u16.u32', 'b16', bits);
}

/** bf16 bits in a .b16 register -> the f32 they are the high half of. */
export function bf16ToF32(c: IselContext, h: string): string {
  const d = c.asm.reg('f32');
  c.asm.emit(`mov.b32 ${d}, {${c.zero16()}, ${h}}`);
  return d;
}

function roundTo16(c: IselContext, t: ScalarType, x: string, kind: 'f16' | 'bf16'): string {
  if (!isFloat(t)) return fail(c, `round_${kind}`, t);
  const a = c.asm;
  const f = t === 'f64' ? a.t('cvt.rn.f32.f64', 'f32', reg(c, x, t)) : reg(c, x, t);
  const r = kind === 'f16' ? a.t('cvt.f32.f16', 'f32', a.t('cvt.rn.f16.f32', 'b16', f)) : bf16ToF32(c, roundBf16Bits(c, f));
  return t === 'f64' ? a.t('cvt.f64.f32', 'f64', r) : r;
}

export const UNARY: { readonly [F in KUnaryFn]: Unary } = {
  neg: (c, t, x) => (t === 'bool' ? fail(c, 'neg', t) : c.asm.t(`neg.${ptxType(t === 'u32' ? 'i32' : t)}`, regClass(t), reg(c, x, t))),
  abs: (c, t, x) => (t === 'bool' || t === 'u32' ? (t === 'u32' ? x : fail(c, 'abs', t)) : c.asm.t(`abs.${ptxType(t)}`, regClass(t), reg(c, x, t))),
  sqrt: floatOnly((t) => `sqrt.rn.${t}`),
  recip: floatOnly((t) => `rcp.rn.${t}`),
  exp: transcendental('exp'),
  log: transcendental('log'),
  tanh: transcendental('tanh'),
  sin: transcendental('sin'),
  cos: transcendental('cos'),
  erf: transcendental('erf'),
  floor: floatOnly((t) => `cvt.rmi.${t}.${t}`),
  not: (c, t, x) => (t === 'bool' ? c.asm.t('not.pred', 'pred', x) : isInt(t) ? c.asm.t('not.b32', 'b32', reg(c, x, t)) : fail(c, 'not', t)),
  round_f16: (c, t, x) => roundTo16(c, t, x, 'f16'),
  round_bf16: (c, t, x) => roundTo16(c, t, x, 'bf16'),
  // IEEE-exact .rn arithmetic is never reassociated or folded by ptxas: the identity fences nothing more.
  opaque: (_c, _t, x) => x,
};

/** Float min / max with NaN propagation: min.NaN.f32 on sm_80, else the IEEE op and a select on setp.nan. */
function floatMinMax(c: IselContext, fn: 'min' | 'max', t: 'f32' | 'f64', a: string, b: string): string {
  if (t === 'f32' && c.features.minMaxNaN) return c.asm.t(`${fn}.NaN.f32`, 'f32', a, b);
  const m = c.asm.t(`${fn}.${t}`, t, a, b);
  const nan = c.asm.t(`setp.nan.${t}`, 'pred', a, b);
  return c.asm.t(`selp.${t}`, t, c.asm.t(`add.rn.${t}`, t, a, b), m, nan);
}

const arith = (fn: 'add' | 'sub' | 'mul' | 'div'): Binary => (c, t, a, b) => {
  if (isFloat(t)) return c.asm.t(`${fn}.rn.${t}`, t, a, b);
  if (!isInt(t)) return fail(c, fn, t);
  return c.asm.t(fn === 'mul' ? `mul.lo.${ptxType(t)}` : `${fn}.${ptxType(t)}`, 'b32', a, b);
};
const bitwise = (fn: 'and' | 'or' | 'xor'): Binary => (c, t, a, b) =>
  t === 'bool' ? c.asm.t(`${fn}.pred`, 'pred', a, b) : isInt(t) ? c.asm.t(`${fn}.b32`, 'b32', a, b) : fail(c, fn, t);
const minMax = (fn: 'min' | 'max'): Binary => (c, t, a, b) =>
  isFloat(t) ? floatMinMax(c, fn, t, a, b) : isInt(t) ? c.asm.t(`${fn}.${ptxType(t)}`, 'b32', a, b) : fail(c, fn, t);

export const BINARY: { readonly [F in KBinaryFn]: Binary } = {
  add: arith('add'),
  sub: arith('sub'),
  mul: arith('mul'),
  div: arith('div'),
  max: minMax('max'),
  min: minMax('min'),
  pow: (c, t, a, b) => (t === 'f32' ? pow32(c.asm, reg(c, a, t), reg(c, b, t)) : t === 'f64' ? pow64(c.asm, reg(c, a, t), reg(c, b, t)) : fail(c, 'pow (integer pow is legalised through f64)', t)),
  // Integer division semantics are fixed by legalisation (int-div-rem-policy) before this table.
  rem: (c, t, a, b) => (isInt(t) ? c.asm.t(`rem.${ptxType(t)}`, 'b32', a, b) : fail(c, 'rem', t)),
  and: bitwise('and'),
  or: bitwise('or'),
  xor: bitwise('xor'),
  shl: (c, t, a, b) => (isInt(t) ? c.asm.t('shl.b32', 'b32', reg(c, a, t), b) : fail(c, 'shl', t)),
  shr: (c, t, a, b) => (isInt(t) ? c.asm.t(`shr.${ptxType(t)}`, 'b32', reg(c, a, t), b) : fail(c, 'shr', t)),
};

/** PTX comparison names: ordered for lt..eq (false on NaN), unordered `neu` for ne (true on NaN), as IEEE says. */
const CMP_FLOAT: { readonly [F in KCmpFn]: string } = { lt: 'lt', le: 'le', gt: 'gt', ge: 'ge', eq: 'eq', ne: 'neu' };
const CMP_INT: { readonly [F in KCmpFn]: string } = { lt: 'lt', le: 'le', gt: 'gt', ge: 'ge', eq: 'eq', ne: 'ne' };

export function compare(c: IselContext, fn: KCmpFn, t: ScalarType, a: string, b: string): string {
  const asm = c.asm;
  if (t === 'bool') {
    if (fn === 'ne') return asm.t('xor.pred', 'pred', a, b);
    if (fn === 'eq') return asm.t('not.pred', 'pred', asm.t('xor.pred', 'pred', a, b));
    const ai = asm.t('selp.s32', 'b32', '1', '0', a);
    const bi = asm.t('selp.s32', 'b32', '1', '0', b);
    return asm.t(`setp.${CMP_INT[fn]}.s32`, 'pred', ai, bi);
  }
  return asm.t(`setp.${isFloat(t) ? CMP_FLOAT[fn] : CMP_INT[fn]}.${ptxType(t)}`, 'pred', a, b);
}

/** Converts a scalar: float -> int truncates and saturates (cvt.rzi), int -> float rounds to nearest even. */
export function convert(c: IselContext, from: ScalarType, to: ScalarType, x: string): string {
  if (from === to) return x;
  const asm = c.asm;
  if (to === 'bool') {
    if (isFloat(from)) return asm.t(`setp.neu.${from}`, 'pred', reg(c, x, from), from === 'f32' ? f32Imm(0) : '0d0000000000000000');
    return asm.t('setp.ne.s32', 'pred', reg(c, x, from), '0');
  }
  if (from === 'bool') {
    if (to === 'f32') return asm.t('selp.f32', 'f32', f32Imm(1), f32Imm(0), x);
    if (to === 'f64') return asm.t('selp.f64', 'f64', '0d3FF0000000000000', '0d0000000000000000', x);
    return asm.t('selp.s32', 'b32', '1', '0', x);
  }
  if (isInt(from) && isInt(to)) return x;
  const src = reg(c, x, from);
  if (isFloat(to)) {
    if (isFloat(from)) return asm.t(to === 'f32' ? 'cvt.rn.f32.f64' : 'cvt.f64.f32', to, src);
    return asm.t(`cvt.rn.${to}.${ptxType(from)}`, to, src);
  }
  return asm.t(`cvt.rzi.${ptxType(to)}.${from}`, 'b32', src);
}
