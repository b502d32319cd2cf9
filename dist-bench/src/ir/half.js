/** Exact conversions between float32 and the 16-bit storage formats (IEEE binary16 and bfloat16), round to nearest even. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** binary16 bits -> float value (exact). */
export function f16BitsToNumber(h) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0)
        return sign * frac * 2 ** -24;
    if (exp === 0x1f)
        return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
/** float -> binary16 bits, rounding the float32 value to nearest even; overflow gives infinity. */
export function numberToF16Bits(x) {
    f32[0] = x;
    const b = u32[0] ?? 0;
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    let mant = b & 0x7fffff;
    if (exp === 0xff)
        return sign | 0x7c00 | (mant ? 0x200 : 0);
    let e = exp - 127 + 15;
    if (e >= 0x1f)
        return sign | 0x7c00;
    if (e <= 0) {
        if (e < -10)
            return sign; // underflows to zero even after rounding
        mant |= 0x800000; // implicit leading one
        const shift = 14 - e;
        const half = 1 << (shift - 1);
        const rest = mant & ((1 << shift) - 1);
        let m = mant >>> shift;
        if (rest > half || (rest === half && (m & 1) === 1))
            m++;
        return sign | m; // a carry into the exponent field is the correct smallest normal
    }
    const rest = mant & 0x1fff;
    let m = mant >>> 13;
    if (rest > 0x1000 || (rest === 0x1000 && (m & 1) === 1)) {
        m++;
        if (m === 0x400) {
            m = 0;
            e++;
            if (e >= 0x1f)
                return sign | 0x7c00;
        }
    }
    return sign | (e << 10) | m;
}
export function bf16BitsToNumber(h) {
    u32[0] = (h & 0xffff) << 16;
    return f32[0] ?? 0;
}
export function numberToBf16Bits(x) {
    f32[0] = x;
    const b = u32[0] ?? 0;
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0)
        return ((b >>> 16) | 0x40) & 0xffff; // quiet NaN
    const lsb = (b >>> 16) & 1;
    return ((b + 0x7fff + lsb) >>> 16) & 0xffff;
}
export const roundF16 = (x) => f16BitsToNumber(numberToF16Bits(x));
export const roundBf16 = (x) => bf16BitsToNumber(numberToBf16Bits(x));
