/**
 * Runs single kernels on host arrays: copies the buffers into Wasm memory, dispatches, copies them back.
 * For kernel tests and micro-benchmarks; the executor runs whole programs instead.
 */
import type { Kernel } from '../../kernel/ir.js';
import { relaxedSimdAvailable } from './features.js';
import { WasmHeap } from './memory.js';
import { KernelCompiler } from './module.js';
import { WorkerPool } from './pool.js';
import { argBlockLayout } from './render.js';

/** Host data of a buffer: 4-byte typed arrays, or the raw storage of narrow types (Uint16Array for f16/bf16 bits, Uint8Array). */
export type HostArray = Float32Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

export class KernelRunner {
  private readonly heap: WasmHeap;
  private readonly pool: WorkerPool;
  private readonly compiler: KernelCompiler;
  private readonly ids = new Map<unknown, number>();

  constructor(readonly threads = 1, relaxedFma = relaxedSimdAvailable()) {
    this.heap = new WasmHeap(threads);
    this.pool = new WorkerPool(this.heap, threads);
    // Kernel tests compare thread counts: every dispatch runs on all of them.
    this.pool.start();
    this.compiler = new KernelCompiler({ relaxedFma });
  }

  /** Runs `kernel` over `grid`; every buffer is read back (in place) after the dispatch. */
  run(kernel: Kernel, buffers: Readonly<Record<string, HostArray>>, params: Readonly<Record<string, number>>, grid: readonly [number, number, number]): void {
    const c = this.compiler.compile(kernel);
    let id = this.ids.get(c);
    if (id === undefined) {
      id = this.pool.load(c.module, c.imports);
      this.ids.set(c, id);
    }
    const layout = argBlockLayout(kernel);
    const args = this.heap.alloc(layout.bytes, 'args');
    const ptrs: number[] = [];
    try {
      const words = this.heap.i32(args, layout.bytes / 4);
      const floats = this.heap.f32(args, layout.bytes / 4);
      words.set(grid, 0);
      kernel.buffers.forEach((b, i) => {
        const host = buffers[b.name];
        if (host === undefined) throw new Error(`kernel '${kernel.name}': buffer '${b.name}' not given`);
        const ptr = this.heap.alloc(Math.max(4, host.byteLength), b.name);
        ptrs.push(ptr);
        this.heap.bytes(ptr, host.byteLength).set(new Uint8Array(host.buffer, host.byteOffset, host.byteLength));
        words[layout.bufferOffset(i) / 4] = ptr;
      });
      kernel.params.forEach((p, i) => {
        const val = params[p.name];
        if (val === undefined) throw new Error(`kernel '${kernel.name}': param '${p.name}' not given`);
        if (p.type === 'f32') floats[layout.paramOffset(i) / 4] = val;
        else words[layout.paramOffset(i) / 4] = val;
      });
      this.pool.dispatch(id, args, grid[0] * grid[1] * grid[2]);
      kernel.buffers.forEach((b, i) => {
        const host = buffers[b.name];
        const ptr = ptrs[i];
        if (host === undefined || ptr === undefined) return;
        new Uint8Array(host.buffer, host.byteOffset, host.byteLength).set(this.heap.bytes(ptr, host.byteLength));
      });
    } finally {
      for (const p of ptrs) this.heap.release(p);
      this.heap.release(args);
    }
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}
