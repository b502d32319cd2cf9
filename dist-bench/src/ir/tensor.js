/**
 * Host tensors: the values the IR computes on. Float dtypes are held as Float32Array (f16/bf16 values are
 * exactly representable there), i32/u32 in their typed arrays, bool as bytes.
 */
import { DTYPE_BYTES } from './dtype.js';
import { roundBf16, roundF16 } from './half.js';
export function sizeOf(shape) {
    return shape.reduce((a, b) => a * b, 1);
}
export function allocData(dtype, n) {
    switch (dtype) {
        case 'f32':
        case 'f16':
        case 'bf16':
            return new Float32Array(n);
        case 'i32':
            return new Int32Array(n);
        case 'u32':
            return new Uint32Array(n);
        case 'bool':
            return new Uint8Array(n);
    }
}
export function makeTensor(dtype, shape, data) {
    const n = sizeOf(shape);
    const out = allocData(dtype, n);
    if (data !== undefined) {
        if (data.length !== n)
            throw new RangeError(`tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${n}`);
        out.set(data);
        roundInPlace(dtype, out);
    }
    return { dtype, shape: [...shape], data: out };
}
/** Rounds float data to the dtype's precision (a no-op for f32 and integer types). */
export function roundInPlace(dtype, data) {
    if (dtype === 'f16')
        for (let i = 0; i < data.length; i++)
            data[i] = roundF16(data[i] ?? 0);
    else if (dtype === 'bf16')
        for (let i = 0; i < data.length; i++)
            data[i] = roundBf16(data[i] ?? 0);
}
export function byteSize(t) {
    return sizeOf(t.shape) * DTYPE_BYTES[t.dtype];
}
/** A TensorStore over an in-memory map. */
export class MapStore {
    map;
    constructor(entries = []) {
        this.map = new Map(entries);
    }
    has(name) {
        return this.map.has(name);
    }
    get(name) {
        const t = this.map.get(name);
        if (t === undefined)
            throw new RangeError(`no tensor named '${name}'`);
        return t;
    }
    set(name, t) {
        this.map.set(name, t);
    }
    names() {
        return [...this.map.keys()];
    }
}
