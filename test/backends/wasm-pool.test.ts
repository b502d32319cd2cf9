/**
 * The Wasm thread pool's start: workers start at the first dispatch and take part once started (the calling
 * thread runs alone until then), or at once with start(); the results are the same bits either way.
 */
import { gemvGrid, gemvKernel, type GemvSpec } from '../../src/kernel/builders/gemv.js';
import { packedLength, packLinearWeight } from '../../src/kernel/builders/matmul.js';
import { relaxedSimdAvailable } from '../../src/backends/wasm/features.js';
import { WasmHeap } from '../../src/backends/wasm/memory.js';
import { KernelCompiler } from '../../src/backends/wasm/module.js';
import { WorkerPool } from '../../src/backends/wasm/pool.js';
import { argBlockLayout } from '../../src/backends/wasm/render.js';
import { wasmTarget } from '../../src/backends/wasm/target.js';
import { Rng } from '../../src/runtime/random.js';

const [K, N] = [256, 512];

/** A GEMV on a fresh pool of `threads`: run() dispatches it and returns the output and the threads it ran on. */
function gemvOnPool(threads: number): { pool: WorkerPool; run: () => { out: number[]; threads: number } } {
  const heap = new WasmHeap(threads);
  const pool = new WorkerPool(heap, threads);
  const compiler = new KernelCompiler({ relaxedFma: relaxedSimdAvailable() });
  const tiling = wasmTarget({ threads }).schedules.gemv;
  if (tiling.kind !== 'cpu-packed') throw new Error('the Wasm Target has a packed GEMV schedule');
  const spec: GemvSpec = { name: 'mv', k: K, n: N, tiling: { ...tiling.tiling, panels: 1 }, epilogue: [], rows: 1 };
  const kernel = gemvKernel(spec);
  const grid = gemvGrid(spec);
  const c = compiler.compile(kernel);
  const id = pool.load(c.module, c.imports);
  const rng = new Rng(3);
  const layout = { k: K, n: N, nr: 4 * spec.tiling.nrVec };
  const len = packedLength(layout);
  const b = heap.alloc(len * 4, 'b');
  packLinearWeight(layout, Float32Array.from({ length: N * K }, () => rng.normal()), heap.f32(b, len) as Float32Array<ArrayBuffer>);
  const a = heap.alloc(K * 4, 'a');
  heap.f32(a, K).set(Float32Array.from({ length: K }, () => rng.normal()));
  const out = heap.alloc(N * 4, 'c');
  const al = argBlockLayout(kernel);
  const args = heap.alloc(al.bytes, 'args');
  const words = heap.i32(args, al.bytes / 4);
  words.set(grid, 0);
  const ptrs: Record<string, number> = { a, b, c: out };
  kernel.buffers.forEach((buf, i) => (words[al.bufferOffset(i) / 4] = ptrs[buf.name] ?? 0));
  words[al.paramOffset(0) / 4] = 1;
  return {
    pool,
    run: () => {
      heap.f32(out, N).fill(0);
      pool.dispatch(id, args, grid[0]);
      return { out: Array.from(heap.f32(out, N)), threads: pool.lastThreads };
    },
  };
}

describe('wasm worker pool start', () => {
  it('runs the first dispatch on the calling thread and later ones on every thread, to the same bits', async () => {
    const one = gemvOnPool(1);
    const two = gemvOnPool(2);
    try {
      const want = one.run().out;
      const first = two.run();
      // The worker was only created by this dispatch: it cannot have started yet.
      expect(first.threads).toBe(1);
      expect(first.out).toEqual(want);
      two.pool.start();
      const later = two.run();
      expect(later.threads).toBe(2);
      expect(later.out).toEqual(want);
    } finally {
      await one.pool.dispose();
      await two.pool.dispose();
    }
  });

  it.each([3, 1])('start() on a pool of %i thread(s) makes the first dispatch use all of them', async (threads) => {
    const p = gemvOnPool(threads);
    try {
      p.pool.start();
      expect(p.run().threads).toBe(threads);
    } finally {
      await p.pool.dispose();
    }
  });
});
