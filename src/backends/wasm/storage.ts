/**
 * Loads and stores of the narrow storage types (f16, bf16, u8) in Wasm: widening loads to f32 / i32 lanes and
 * narrowing stores with round to nearest even, per the Kernel IR's numerics policy (docs/kernel-ir.md).
 * bf16 is the high half of an f32; f16 converts through integer bit operations (Wasm has no f16 instructions).
 */
import { type Expr, f32, i32, type ModuleBuilder, v128, type ValType } from './encoder.js';
import type { ElemType, KType } from '../../kernel/ir.js';


/** What the storage code needs from the function renderer: the module and fresh locals. */
export interface StorageContext {
  readonly mod: ModuleBuilder;
  tempLocal(t: ValType): number;
}

function share(r: StorageContext, t: ValType, x: Expr): { set: Expr; get: () => Expr } {
  const l = r.tempLocal(t);
  return { set: r.mod.local.set(l, x), get: () => r.mod.local.get(l, t) };
}

/** f16 bits (in the low 16 bits of each i32 lane, or of an i32) -> f32: exact for normals, subnormals, inf, NaN. */
function f16ToF32(r: StorageContext, bits: Expr, vec: boolean): Expr {
  const m = r.mod;
  if (!vec) {
    const h = share(r, i32, bits);
    const em = share(r, i32, m.i32.and(h.get(), m.i32.const(0x7fff)));
    // em << 13 is the f32 with the same fraction and an exponent 112 too small: scaling by 2^112 is exact for
    // normals and subnormals alike. Exponent 31 (inf / NaN) keeps all-ones exponent bits instead.
    const scaled = m.i32.reinterpret(m.f32.mul(m.f32.reinterpret(m.i32.shl(em.get(), m.i32.const(13))), m.f32.const(2 ** 112)));
    const special = m.i32.or(m.i32.shl(em.get(), m.i32.const(13)), m.i32.const(0x7f800000));
    const mag = m.select(m.i32.ge_u(em.get(), m.i32.const(0x7c00)), special, scaled);
    const sign = m.i32.shl(m.i32.and(h.get(), m.i32.const(0x8000)), m.i32.const(16));
    return m.block(null, [h.set, em.set, m.f32.reinterpret(m.i32.or(sign, mag))], f32);
  }
  const h = share(r, v128, bits);
  const em = share(r, v128, m.v128.and(h.get(), m.i32x4.splat(m.i32.const(0x7fff))));
  const shifted = (): Expr => m.i32x4.shl(em.get(), m.i32.const(13));
  const scaled = m.f32x4.mul(shifted(), m.f32x4.splat(m.f32.const(2 ** 112)));
  const special = m.v128.or(shifted(), m.i32x4.splat(m.i32.const(0x7f800000)));
  const isSpecial = m.i32x4.gt_s(em.get(), m.i32x4.splat(m.i32.const(0x7bff)));
  const mag = m.v128.bitselect(special, scaled, isSpecial);
  const sign = m.i32x4.shl(m.v128.and(h.get(), m.i32x4.splat(m.i32.const(0x8000))), m.i32.const(16));
  return m.block(null, [h.set, em.set, m.v128.or(sign, mag)], v128);
}

/** A load of `type` from an element of `elem` storage at ptr + offset (offset in bytes). */
export function loadNarrow(r: StorageContext, elem: ElemType, type: KType, ptr: Expr, offset: number): Expr {
  const m = r.mod;
  const vec = type === 'f32x4' || type === 'i32x4';
  switch (elem) {
    case 'bf16':
      return vec ? m.i32x4.shl(m.v128.load16x4_u(offset, 2, ptr), m.i32.const(16)) : m.f32.reinterpret(m.i32.shl(m.i32.load16_u(offset, 2, ptr), m.i32.const(16)));
    case 'f16':
      return f16ToF32(r, vec ? m.v128.load16x4_u(offset, 2, ptr) : m.i32.load16_u(offset, 2, ptr), vec);
    case 'u8':
      return vec ? m.i32x4.extend_low_i16x8_u(m.v128.load8x8_u(offset, 1, ptr)) : m.i32.load8_u(offset, 1, ptr);
    default:
      throw new Error(`loadNarrow on ${elem}`);
  }
}

/** f32 -> bf16 bits (round to nearest even; NaN stays a quiet NaN). */
function bf16Bits(r: StorageContext, x: Expr): Expr {
  const m = r.mod;
  const u = share(r, i32, m.i32.reinterpret(x));
  const rounded = m.i32.shr_u(m.i32.add(m.i32.add(u.get(), m.i32.const(0x7fff)), m.i32.and(m.i32.shr_u(u.get(), m.i32.const(16)), m.i32.const(1))), m.i32.const(16));
  const nan = m.i32.or(m.i32.shr_u(u.get(), m.i32.const(16)), m.i32.const(0x40));
  const isNan = m.i32.gt_u(m.i32.and(u.get(), m.i32.const(0x7fffffff)), m.i32.const(0x7f800000));
  return m.block(null, [u.set, m.select(isNan, nan, rounded)], i32);
}

/** f32 -> f16 bits (round to nearest even, overflow to infinity, subnormals rounded, NaN quiet). */
function f16Bits(r: StorageContext, x: Expr): Expr {
  const m = r.mod;
  const u = share(r, i32, m.i32.reinterpret(x));
  const a = share(r, i32, m.i32.and(u.get(), m.i32.const(0x7fffffff)));
  const sign = m.i32.and(m.i32.shr_u(u.get(), m.i32.const(16)), m.i32.const(0x8000));
  // Normal range: rebias the exponent and round the dropped 13 bits to nearest even (a carry into the
  // exponent is the correct next binade, and past 0x7bff it reaches infinity).
  const normal = m.i32.shr_u(
    m.i32.add(m.i32.add(m.i32.sub(a.get(), m.i32.const(112 << 23)), m.i32.const(0xfff)), m.i32.and(m.i32.shr_u(a.get(), m.i32.const(13)), m.i32.const(1))),
    m.i32.const(13),
  );
  // Below 2^-14: the value in units of 2^-24, rounded to nearest even by f32 arithmetic (exact scaling).
  const sub = m.i32.trunc_s_sat.f32(m.f32.nearest(m.f32.mul(m.f32.reinterpret(a.get()), m.f32.const(2 ** 24))));
  const mag = m.select(
    m.i32.gt_u(a.get(), m.i32.const(0x7f800000)),
    m.i32.const(0x7e00),
    m.select(m.i32.ge_u(a.get(), m.i32.const(0x477ff000)), m.i32.const(0x7c00), m.select(m.i32.lt_u(a.get(), m.i32.const(0x38800000)), sub, normal)),
  );
  return m.block(null, [u.set, a.set, m.i32.or(sign, mag)], i32);
}

/** A store of a scalar value into an element of `elem` storage (vector stores go lane by lane through this). */
export function storeNarrow(r: StorageContext, elem: ElemType, ptr: Expr, offset: number, value: Expr): Expr {
  const m = r.mod;
  switch (elem) {
    case 'bf16':
      return m.i32.store16(offset, 2, ptr, bf16Bits(r, value));
    case 'f16':
      return m.i32.store16(offset, 2, ptr, f16Bits(r, value));
    case 'u8':
      return m.i32.store8(offset, 1, ptr, value);
    default:
      throw new Error(`storeNarrow on ${elem}`);
  }
}

/** A vector store into narrow storage: four scalar stores at consecutive elements. */
export function storeNarrowVector(r: StorageContext, elem: ElemType, type: KType, ptr: Expr, offset: number, value: Expr): Expr {
  const m = r.mod;
  const v = share(r, v128, value);
  const p = share(r, i32, ptr);
  const bytes = elem === 'u8' ? 1 : 2;
  const lanes = [0, 1, 2, 3].map((i) =>
    storeNarrow(r, elem, p.get(), offset + i * bytes, type === 'f32x4' ? m.f32x4.extract_lane(v.get(), i) : m.i32x4.extract_lane(v.get(), i)),
  );
  return m.block(null, [v.set, p.set, ...lanes]);
}
