/** Seeded random numbers and random weight stores, for demos and tests that need weights without a checkpoint. */
import { type Graph, graphWeights, type HostTensor, makeTensor, MapStore, roundInPlace, sizeOf } from '../ir/index.js';

/** A small, fast, seedable generator (mulberry32) with a Box-Muller normal. */
export class Rng {
  private state: number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  normal(): number {
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
 * Values are uniform with that standard deviation (a sum over a row is as good as normal by then): one generator
 * step per value instead of Box-Muller's log, sqrt and sine, 10x faster (22 ms of tiny-pmod's 0.5 s start-up;
 * seconds for the bench model).
 */
export function randomWeights(g: Graph, seed: number): MapStore {
  const rng = new Rng(seed);
  const store = new MapStore();
  for (const w of graphWeights(g)) {
    if (store.has(w.attrs.name)) continue;
    const shape = w.attrs.shape.map((d) => {
      if (typeof d !== 'number') throw new Error(`weight '${w.attrs.name}' has a symbolic shape; random weights need constant shapes`);
      return d;
    });
    store.set(w.attrs.name, randomTensor(rng, w.attrs.name, w.attrs.dtype, shape));
  }
  return store;
}

function randomTensor(rng: Rng, name: string, dtype: HostTensor['dtype'], shape: readonly number[]): HostTensor {
  const t = makeTensor(dtype, shape);
  const n = sizeOf(shape);
  const isNorm = /norm\.weight$/.test(name);
  const fanIn = shape.length >= 2 ? (shape[shape.length - 1] ?? 1) : 1;
  const std = isNorm ? 0.1 : shape.length >= 2 ? 1 / Math.sqrt(fanIn) : 0.1;
  // Uniform on [-a, a) has standard deviation a / sqrt(3).
  const a = std * Math.sqrt(3);
  const base = isNorm ? 1 : 0;
  for (let i = 0; i < n; i++) t.data[i] = base + a * (2 * rng.next() - 1);
  roundInPlace(dtype, t.data);
  return t;
}
