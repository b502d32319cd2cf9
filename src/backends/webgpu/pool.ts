/**
 * Reuse of GPU buffers: freed buffers wait in lists by size class (quarter octaves above 4 KiB, so a reused
 * buffer wastes at most a quarter of its size) and serve later allocations of the same class; uniform parameter
 * blocks of many dispatches share a few large uniform buffers, each dispatch its own aligned slot.
 */
/// <reference types="@webgpu/types" />

/** The allocation size for a request of `bytes`: a multiple of 256 below 4 KiB, a quarter octave above. */
export function sizeClass(bytes: number): number {
  const n = Math.max(4, Math.ceil(bytes));
  if (n <= 4096) return Math.ceil(n / 256) * 256;
  const step = 2 ** Math.floor(Math.log2(n)) / 4;
  return Math.ceil(n / step) * step;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pooledBytes = 0;

  /** `capBytes`: freed buffers beyond this many pooled bytes are destroyed instead of kept. */
  constructor(private readonly capBytes: number) {}

  take(size: number): GPUBuffer | undefined {
    const list = this.free.get(size);
    const b = list?.pop();
    if (b !== undefined) this.pooledBytes -= size;
    return b;
  }

  /** Keeps a buffer for reuse; returns false when the pool is full (the caller destroys it). */
  give(size: number, b: GPUBuffer): boolean {
    if (this.pooledBytes + size > this.capBytes) return false;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    list.push(b);
    this.pooledBytes += size;
    return true;
  }

  get bytes(): number {
    return this.pooledBytes;
  }

  destroyAll(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }
}

/**
 * Per-dispatch uniform blocks. Dispatches recorded into one command buffer cannot share one uniform buffer
 * rewritten in between (every queue.writeBuffer lands before the whole submit), so each dispatch gets its own
 * aligned slot in a chunk; the chunks' bytes are written just before the submit. Queue order keeps a chunk's new
 * contents from reaching work submitted earlier, so chunks are reused by the next command buffer at once.
 */
export class UniformArena {
  private readonly chunks: { readonly buffer: GPUBuffer; readonly data: ArrayBuffer }[] = [];
  private chunk = 0;
  private offset = 0;

  constructor(private readonly device: GPUDevice, private readonly align: number, private readonly chunkBytes = 65536) {}

  /** A slot of `bytes` for one dispatch: its buffer, offset, and a view to fill. */
  slot(bytes: number): { readonly buffer: GPUBuffer; readonly offset: number; readonly view: DataView } {
    if (bytes > this.chunkBytes) throw new Error(`uniform block of ${bytes} bytes exceeds the ${this.chunkBytes}-byte chunk`);
    if (this.offset + bytes > this.chunkBytes) {
      this.chunk++;
      this.offset = 0;
    }
    let c = this.chunks[this.chunk];
    if (c === undefined) {
      // GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST
      c = { buffer: this.device.createBuffer({ size: this.chunkBytes, usage: 0x40 | 0x08, label: `modc uniforms ${this.chunk}` }), data: new ArrayBuffer(this.chunkBytes) };
      this.chunks.push(c);
    }
    const offset = this.offset;
    this.offset = Math.ceil((offset + bytes) / this.align) * this.align;
    return { buffer: c.buffer, offset, view: new DataView(c.data, offset, bytes) };
  }

  /** Writes the used part of every chunk (before the submit that reads them) and starts over. */
  upload(queue: GPUQueue): void {
    for (let i = 0; i <= this.chunk && i < this.chunks.length; i++) {
      const c = this.chunks[i];
      const used = i < this.chunk ? this.chunkBytes : this.offset;
      if (c !== undefined && used > 0) queue.writeBuffer(c.buffer, 0, c.data, 0, Math.ceil(used / 4) * 4);
    }
    this.chunk = 0;
    this.offset = 0;
  }

  get used(): boolean {
    return this.chunk > 0 || this.offset > 0;
  }

  destroy(): void {
    for (const c of this.chunks) c.buffer.destroy();
    this.chunks.length = 0;
  }
}
