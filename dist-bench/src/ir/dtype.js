/** Element types of the IR and their storage facts. Compute happens in f32; f16/bf16 are storage types. */
export const DTYPES = ['f32', 'f16', 'bf16', 'i32', 'u32', 'bool'];
export const DTYPE_BYTES = {
    f32: 4,
    f16: 2,
    bf16: 2,
    i32: 4,
    u32: 4,
    bool: 1,
};
export function isDType(s) {
    return DTYPES.includes(s);
}
export function isFloat(d) {
    return d === 'f32' || d === 'f16' || d === 'bf16';
}
export function isInteger(d) {
    return d === 'i32' || d === 'u32';
}
