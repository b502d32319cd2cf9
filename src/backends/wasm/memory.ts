/**
 * The Wasm backend's one shared linear memory: a control block for the worker pool, per-thread scratch for
 * shared arrays, and a first-fit heap (weights stay resident; activations come and go). wasm32 caps the memory
 * at 4 GiB, so a model that cannot fit gets a clear error instead of a failed grow.
 */
import { WASM_LIMITS } from './abi.js';
import { WA, type WasmMemory } from './wasm-api.js';

export const PAGE = 65536;
export const MAX_PAGES = 65536;
export const MAX_BYTES = PAGE * MAX_PAGES;
/** Every allocation is padded so a 16-byte vector access at the last element stays inside memory. */
const ALIGN = 16;
const PAD = 16;

export class WasmMemoryError extends Error {
  override name = 'WasmMemoryError';
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

export class WasmHeap {
  readonly memory: WasmMemory;
  readonly controlOffset = 0;
  readonly scratchOffset: number;
  private readonly heapStart: number;
  /** Free ranges [start, end), sorted by start, coalesced. */
  private free: { start: number; end: number }[];
  private readonly sizes = new Map<number, number>();
  private inUse = 0;
  private peak = 0;

  constructor(readonly threads: number, initialBytes = 16 * PAGE) {
    this.scratchOffset = PAGE;
    this.heapStart = this.scratchOffset + threads * WASM_LIMITS.scratchBytes;
    const initial = Math.ceil(Math.max(initialBytes, this.heapStart + PAGE) / PAGE);
    this.memory = new WA.Memory({ initial, maximum: MAX_PAGES, shared: true });
    this.free = [{ start: this.heapStart, end: MAX_BYTES }];
  }

  scratch(thread: number): number {
    return this.scratchOffset + thread * WASM_LIMITS.scratchBytes;
  }

  get bytesInUse(): number {
    return this.inUse;
  }

  /** The most bytes in use at any time so far (memory reports and benchmarks). */
  get peakBytesInUse(): number {
    return this.peak;
  }

  /** Allocates `bytes` (16-byte aligned); `what` names the tensor for the out-of-memory error. */
  alloc(bytes: number, what: string): number {
    const size = Math.ceil((bytes + PAD) / ALIGN) * ALIGN;
    const i = this.free.findIndex((r) => r.end - r.start >= size);
    const r = this.free[i];
    if (r === undefined)
      throw new WasmMemoryError(
        `wasm backend: cannot allocate ${gib(bytes)} for ${what}: ${gib(this.inUse)} already in use and wasm32 memory is limited to 4 GiB ` +
          `(weights are held as f32). Use a smaller model or another backend.`,
      );
    const ptr = r.start;
    r.start += size;
    if (r.start === r.end) this.free.splice(i, 1);
    this.sizes.set(ptr, size);
    this.inUse += size;
    this.peak = Math.max(this.peak, this.inUse);
    this.ensure(ptr + size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`wasm heap: double free or bad pointer ${ptr}`);
    this.sizes.delete(ptr);
    this.inUse -= size;
    const end = ptr + size;
    let i = this.free.findIndex((r) => r.start >= end);
    if (i < 0) i = this.free.length;
    this.free.splice(i, 0, { start: ptr, end });
    // Coalesce with neighbours.
    const merged: { start: number; end: number }[] = [];
    for (const r of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.end === r.start) last.end = r.end;
      else merged.push({ ...r });
    }
    this.free = merged;
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new WasmMemoryError(`wasm backend: growing memory to ${gib(end)} failed (${(e as Error).message})`);
    }
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer as ArrayBuffer, ptr, n);
  }
  /** A byte view of `bytes` bytes at ptr (any storage type). */
  bytes(ptr: number, bytes: number): Uint8Array {
    return new Uint8Array(this.memory.buffer as ArrayBuffer, ptr, bytes);
  }
  i32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer as ArrayBuffer, ptr, n);
  }
}
