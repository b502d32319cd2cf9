/**
 * A standalone matmul on the Wasm backend (C = A @ W^T with W [N, K] packed once): the `modc bench matmul`
 * engine, and the simplest end-to-end use of builder -> renderer -> pool.
 */
import { CPU_TILING, matmulGrid, matmulKernel, type MatmulTiling, packedLength, packLinearWeight } from '../../kernel/builders/matmul.js';
import { argBlockLayout } from './render.js';
import { relaxedSimdAvailable } from './features.js';
import { WasmHeap } from './memory.js';
import { KernelCompiler } from './module.js';
import { WorkerPool } from './pool.js';

export interface GemmOptions {
  readonly threads: number;
  readonly tiling?: MatmulTiling;
  readonly relaxedFma?: boolean;
}

export class WasmGemm {
  readonly heap: WasmHeap;
  readonly pool: WorkerPool;
  readonly fma: boolean;
  private readonly compiler: KernelCompiler;
  private readonly tiling: MatmulTiling;

  constructor(opts: GemmOptions) {
    this.fma = (opts.relaxedFma ?? true) && relaxedSimdAvailable();
    this.heap = new WasmHeap(opts.threads);
    this.pool = new WorkerPool(this.heap, opts.threads);
    this.compiler = new KernelCompiler({ relaxedFma: this.fma });
    this.tiling = opts.tiling ?? CPU_TILING;
  }

  /** Prepares C[M, N] = A[M, K] @ W^T for W [N, K] (PyTorch Linear layout); returns a runner. */
  prepare(m: number, k: number, n: number, w: Float32Array): { a: Float32Array; c: Float32Array; run: () => void; dispose: () => void } {
    const t = this.tiling;
    const spec = { name: `gemm_${k}x${n}`, k, n, tiling: t, epilogue: [] };
    const kernel = matmulKernel(spec);
    const compiled = this.compiler.compile(kernel);
    // A benchmark engine: straight to the optimising tier.
    const id = this.pool.load(this.compiler.optimize(compiled), compiled.imports);
    const layout = { k, n, nr: 4 * t.nrVec };
    const bPtr = this.heap.alloc(packedLength(layout) * 4, 'packed B');
    packLinearWeight(layout, w, this.heap.f32(bPtr, packedLength(layout)) as Float32Array<ArrayBuffer>);
    const aPtr = this.heap.alloc(m * k * 4, 'A');
    const cPtr = this.heap.alloc(m * n * 4, 'C');
    const al = argBlockLayout(kernel);
    const args = this.heap.alloc(al.bytes, 'args');
    const grid = matmulGrid(spec, m);
    const words = this.heap.i32(args, al.bytes / 4);
    words.set(grid, 0);
    const ptrs: Record<string, number> = { a: aPtr, b: bPtr, c: cPtr };
    kernel.buffers.forEach((b, i) => (words[al.bufferOffset(i) / 4] = ptrs[b.name] ?? 0));
    words[al.paramOffset(0) / 4] = m;
    const groups = grid[0] * grid[1] * grid[2];
    return {
      a: this.heap.f32(aPtr, m * k),
      c: this.heap.f32(cPtr, m * n),
      run: () => this.pool.dispatch(id, args, groups),
      dispose: () => [aPtr, bPtr, cPtr, args].forEach((p) => this.heap.release(p)),
    };
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }
}
