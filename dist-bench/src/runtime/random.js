/** Seeded random numbers and random weight stores, for demos and tests that need weights without a checkpoint. */
import { graphWeights, makeTensor, MapStore, roundInPlace, sizeOf } from '../ir/index.js';
/** A small, fast, seedable generator (mulberry32) with a Box-Muller normal. */
export class Rng {
    state;
    spare;
    constructor(seed) {
        this.state = seed >>> 0 || 0x9e3779b9;
    }
    /** Uniform in [0, 1). */
    next() {
        let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    }
    /** Integer in [0, n). */
    int(n) {
        return Math.floor(this.next() * n);
    }
    normal() {
        if (this.spare !== undefined) {
            const s = this.spare;
            this.spare = undefined;
            return s;
        }
        const u = 1 - this.next();
        const v = this.next();
        const r = Math.sqrt(-2 * Math.log(u));
        this.spare = r * Math.sin(2 * Math.PI * v);
        return r * Math.cos(2 * Math.PI * v);
    }
}
/**
 * Random weights for every weight of a graph, scaled like a trained model's (Linear: std 1/sqrt(fan_in);
 * norms: 1 + small noise) so activations stay in range through many layers. Symbols in weight shapes are not allowed.
 */
export function randomWeights(g, seed) {
    const rng = new Rng(seed);
    const store = new MapStore();
    for (const w of graphWeights(g)) {
        if (store.has(w.attrs.name))
            continue;
        const shape = w.attrs.shape.map((d) => {
            if (typeof d !== 'number')
                throw new Error(`weight '${w.attrs.name}' has a symbolic shape; random weights need constant shapes`);
            return d;
        });
        store.set(w.attrs.name, randomTensor(rng, w.attrs.name, w.attrs.dtype, shape));
    }
    return store;
}
function randomTensor(rng, name, dtype, shape) {
    const t = makeTensor(dtype, shape);
    const n = sizeOf(shape);
    const isNorm = /norm\.weight$/.test(name);
    const fanIn = shape.length >= 2 ? (shape[shape.length - 1] ?? 1) : 1;
    const std = isNorm ? 0.1 : shape.length >= 2 ? 1 / Math.sqrt(fanIn) : 0.1;
    for (let i = 0; i < n; i++)
        t.data[i] = (isNorm ? 1 : 0) + std * rng.normal();
    roundInPlace(dtype, t.data);
    return t;
}
