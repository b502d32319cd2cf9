/**
 * The per-layer KV cache of a generation session. Each layer holds its own number of cached tokens (a p-MoD layer
 * caches only the text tokens and the vision tokens it kept at prefill), with their original position ids; rows
 * are appended in place with amortised doubling, and handed to the decode graph as views without copying.
 */
import type { HostTensor } from '../ir/index.js';

export class LayerCache {
  private keys: Float32Array;
  private values: Float32Array;
  private pos: Int32Array;
  private n = 0;

  constructor(
    /** Elements per cached token: Hkv * head_dim. */
    readonly heads: number,
    readonly headDim: number,
    capacity = 16,
  ) {
    const row = heads * headDim;
    this.keys = new Float32Array(capacity * row);
    this.values = new Float32Array(capacity * row);
    this.pos = new Int32Array(capacity);
  }

  get length(): number {
    return this.n;
  }

  /** Appends tokens: keys and values [m, Hkv, head_dim], positions [m]. */
  append(k: HostTensor, v: HostTensor, positions: ArrayLike<number>): void {
    const row = this.heads * this.headDim;
    const m = positions.length;
    if (k.data.length !== m * row || v.data.length !== m * row)
      throw new RangeError(`KV cache append: ${m} positions but keys/values of ${k.data.length}/${v.data.length} elements (expected ${m * row})`);
    if (this.n + m > this.pos.length) {
      const cap = Math.max(this.n + m, 2 * this.pos.length);
      const grow = <T extends Float32Array | Int32Array>(a: T, size: number, make: (n: number) => T): T => {
        const b = make(size);
        b.set(a.subarray(0, this.n * (a.length / this.pos.length)));
        return b;
      };
      this.keys = grow(this.keys, cap * row, (s) => new Float32Array(s));
      this.values = grow(this.values, cap * row, (s) => new Float32Array(s));
      this.pos = grow(this.pos, cap, (s) => new Int32Array(s));
    }
    this.keys.set(k.data, this.n * row);
    this.values.set(v.data, this.n * row);
    this.pos.set(positions, this.n);
    this.n += m;
  }

  /** The cache as graph inputs (views of the live buffers: valid until the next append). */
  tensors(): { k: HostTensor; v: HostTensor; positions: HostTensor } {
    const row = this.heads * this.headDim;
    const shape = [this.n, this.heads, this.headDim];
    return {
      k: { dtype: 'f32', shape, data: this.keys.subarray(0, this.n * row) },
      v: { dtype: 'f32', shape, data: this.values.subarray(0, this.n * row) },
      positions: { dtype: 'i32', shape: [this.n], data: this.pos.subarray(0, this.n) },
    };
  }

  /** Position ids of the cached tokens, in cache order. */
  positions(): number[] {
    return Array.from(this.pos.subarray(0, this.n));
  }
}

export class KvCache {
  constructor(readonly layers: readonly LayerCache[]) {}

  /** Cached tokens per layer. */
  lengths(): number[] {
    return this.layers.map((l) => l.length);
  }
}
