/**
 * The per-layer KV cache of a generation session. Each layer holds its own number of cached tokens (a p-MoD layer
 * caches only the text tokens and the vision tokens it kept at prefill), with their original position ids; rows
 * are appended in place with amortised doubling, and handed to the decode graph as views without copying.
 */
import type { HostTensor } from '../ir/index.js';

/** Position id of a padding row: larger than any real position, so causal attention masks it out. */
export const PAD_POSITION = 2 ** 31 - 1;

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
    if (this.n + m > this.pos.length) this.reserve(Math.max(this.n + m, 2 * this.pos.length));
    this.keys.set(k.data, this.n * row);
    this.values.set(v.data, this.n * row);
    this.pos.set(positions, this.n);
    this.n += m;
  }

  /**
   * The cache as graph inputs (views of the live buffers: valid until the next append). With `block`, the length
   * is rounded up to a multiple of it (at most `limit`) with padding rows whose position is PAD_POSITION, which
   * causal attention never sees: the decode graph's shapes then change once per block, not at every token, so a
   * compiling backend reuses its plan and kernels across steps.
   */
  tensors(block = 1, limit = Number.POSITIVE_INFINITY): { k: HostTensor; v: HostTensor; positions: HostTensor } {
    const row = this.heads * this.headDim;
    const len = Math.max(this.n, Math.min(Math.ceil(this.n / Math.max(1, block)) * Math.max(1, block), limit));
    if (len > this.pos.length) this.reserve(len);
    // Padding rows: zero keys and values (finite, so masked scores stay well defined), never-visible positions.
    this.keys.fill(0, this.n * row, len * row);
    this.values.fill(0, this.n * row, len * row);
    this.pos.fill(PAD_POSITION, this.n, len);
    const shape = [len, this.heads, this.headDim];
    return {
      k: { dtype: 'f32', shape, data: this.keys.subarray(0, len * row) },
      v: { dtype: 'f32', shape, data: this.values.subarray(0, len * row) },
      positions: { dtype: 'i32', shape: [len], data: this.pos.subarray(0, len) },
    };
  }

  private reserve(tokens: number): void {
    const row = this.heads * this.headDim;
    const keys = new Float32Array(tokens * row);
    const values = new Float32Array(tokens * row);
    const pos = new Int32Array(tokens);
    keys.set(this.keys.subarray(0, this.n * row));
    values.set(this.values.subarray(0, this.n * row));
    pos.set(this.pos.subarray(0, this.n));
    [this.keys, this.values, this.pos] = [keys, values, pos];
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
