/** Index arithmetic shared by the reference kernels: strides, broadcasting iteration, data movement. */
import { allocData, sizeOf } from '../../ir/index.js';
export function stridesOf(shape) {
    const s = new Array(shape.length).fill(1);
    for (let i = shape.length - 2; i >= 0; i--)
        s[i] = (s[i + 1] ?? 1) * (shape[i + 1] ?? 1);
    return s;
}
/** Strides of `shape` seen through a broadcast to `outShape` (0 on broadcast dims). */
export function broadcastStrides(shape, outShape) {
    const st = stridesOf(shape);
    const off = outShape.length - shape.length;
    return outShape.map((_, i) => {
        const j = i - off;
        if (j < 0)
            return 0;
        return (shape[j] ?? 1) === 1 ? 0 : (st[j] ?? 0);
    });
}
/**
 * Calls f(outIndex, inIndex[0], inIndex[1], ...) for every element of outShape, with the flat indices of the
 * broadcast inputs. Written as an odometer so no per-element division happens.
 */
export function forEachBroadcast(outShape, inShapes, f) {
    const n = sizeOf(outShape);
    const rank = outShape.length;
    const strides = inShapes.map((s) => broadcastStrides(s, outShape));
    const idx = new Int32Array(inShapes.length);
    const counter = new Array(rank).fill(0);
    for (let o = 0; o < n; o++) {
        f(o, idx);
        for (let d = rank - 1; d >= 0; d--) {
            const c = (counter[d] ?? 0) + 1;
            if (c < (outShape[d] ?? 1)) {
                counter[d] = c;
                for (let k = 0; k < strides.length; k++)
                    idx[k] = (idx[k] ?? 0) + (strides[k]?.[d] ?? 0);
                break;
            }
            counter[d] = 0;
            for (let k = 0; k < strides.length; k++)
                idx[k] = (idx[k] ?? 0) - (c - 1) * (strides[k]?.[d] ?? 0);
        }
    }
}
export function transposeData(x, perm) {
    const shape = perm.map((p) => x.shape[p] ?? 1);
    const inStrides = stridesOf(x.shape);
    const permStrides = perm.map((p) => inStrides[p] ?? 0);
    const out = allocData(x.dtype, x.data.length);
    const src = x.data;
    const rank = shape.length;
    const counter = new Array(rank).fill(0);
    let i = 0;
    const n = out.length;
    for (let o = 0; o < n; o++) {
        out[o] = src[i] ?? 0;
        for (let d = rank - 1; d >= 0; d--) {
            const c = (counter[d] ?? 0) + 1;
            if (c < (shape[d] ?? 1)) {
                counter[d] = c;
                i += permStrides[d] ?? 0;
                break;
            }
            counter[d] = 0;
            i -= (c - 1) * (permStrides[d] ?? 0);
        }
    }
    return { shape, data: out };
}
/** Copies `rows` rows of `rowLen` elements: the building block of concat, slice, gather and scatter. */
export function copyRows(dst, dstOff, src, srcOff, len) {
    if (len === 0)
        return;
    dst.set(src.subarray(srcOff, srcOff + len), dstOff);
}
