/**
 * A standalone matmul on the Wasm backend (C = A @ W^T with W [N, K] packed once), tiled as lowering tiles it:
 * the Target's GEMV schedule for a few rows (gemv.ts), its matmul schedule otherwise. The `modc bench matmul`
 * engine, and the simplest end-to-end use of builder -> renderer -> pool.
 */
import { numberToBf16Bits } from '../../ir/index.js';
import { gemvGrid, gemvKernel } from '../../kernel/builders/gemv.js';
import { matmulGrid, matmulKernel, type MatmulSpec, type MatmulTiling, packedLength, packLinearWeight, packsInPairs } from '../../kernel/builders/matmul.js';
import { argBlockLayout } from './render.js';
import { relaxedSimdAvailable } from './features.js';
import { WasmHeap } from './memory.js';
import { KernelCompiler } from './module.js';
import { WorkerPool } from './pool.js';
import { wasmTarget } from './target.js';

export interface GemmOptions {
  readonly threads: number;
  /** The matmul tiling (default: the Wasm Target's); the GEMV tiling follows from it. */
  readonly tiling?: MatmulTiling;
  readonly relaxedFma?: boolean;
}

export interface GemmRunner {
  readonly a: Float32Array;
  readonly c: Float32Array;
  /** 'gemv' or 'matmul': the builder the Target's schedules chose for these rows. */
  readonly builder: string;
  run(): void;
  dispose(): void;
}

export class WasmGemm {
  readonly heap: WasmHeap;
  readonly pool: WorkerPool;
  readonly fma: boolean;
  private readonly compiler: KernelCompiler;
  private readonly threads: number;
  private readonly tiling: MatmulTiling | undefined;

  constructor(opts: GemmOptions) {
    this.fma = (opts.relaxedFma ?? true) && relaxedSimdAvailable();
    this.threads = opts.threads;
    this.heap = new WasmHeap(opts.threads);
    this.pool = new WorkerPool(this.heap, opts.threads);
    // A benchmark engine: every timed dispatch runs on all its threads.
    this.pool.start();
    this.compiler = new KernelCompiler({ relaxedFma: this.fma });
    this.tiling = opts.tiling;
  }

  /** Prepares C[M, N] = A[M, K] @ W^T for W [N, K] (PyTorch Linear layout), W stored as `elem`; returns a runner. */
  prepare(m: number, k: number, n: number, w: Float32Array, elem: 'f32' | 'bf16' = 'f32'): GemmRunner {
    const sched = wasmTarget({ threads: this.threads, ...(this.tiling ? { tiling: this.tiling } : {}) }).schedules;
    const gemv = m <= sched.gemv.maxRows;
    const s = gemv ? sched.gemv : sched.matmul;
    if (s.kind !== 'cpu-packed') throw new Error(`wasm gemm: schedule '${s.kind}' is not a CPU schedule`);
    // The layout lowering gives the weight (passes/lower/linear.ts).
    const pairs = packsInPairs(elem, s.tiling);
    const spec: MatmulSpec = { name: `gemm_${k}x${n}`, k, n, tiling: s.tiling, bElem: elem, epilogue: [], ...(pairs ? { bPairs: true } : {}) };
    const kernel = gemv ? gemvKernel({ ...spec, rows: m }) : matmulKernel(spec);
    const grid = gemv ? gemvGrid({ ...spec, rows: m }) : matmulGrid(spec, m);
    const compiled = this.compiler.compile(kernel);
    // A benchmark engine: straight to the optimising tier.
    const id = this.pool.load(this.compiler.optimize(compiled), compiled.imports);
    const layout = { k, n, nr: 4 * s.tiling.nrVec, pairs };
    const len = packedLength(layout);
    const bPtr = this.heap.alloc(len * (elem === 'f32' ? 4 : 2), 'packed B');
    if (elem === 'f32') packLinearWeight(layout, w, this.heap.f32(bPtr, len) as Float32Array<ArrayBuffer>);
    else {
      const packed = packLinearWeight(layout, w, new Float32Array(len));
      const bits = new Uint16Array(this.heap.memory.buffer, bPtr, len);
      for (let i = 0; i < len; i++) bits[i] = numberToBf16Bits(packed[i] ?? 0);
    }
    const aPtr = this.heap.alloc(m * k * 4, 'A');
    const cPtr = this.heap.alloc(m * n * 4, 'C');
    const al = argBlockLayout(kernel);
    const args = this.heap.alloc(al.bytes, 'args');
    const words = this.heap.i32(args, al.bytes / 4);
    words.set(grid, 0);
    const ptrs: Record<string, number> = { a: aPtr, b: bPtr, c: cPtr };
    kernel.buffers.forEach((b, i) => (words[al.bufferOffset(i) / 4] = ptrs[b.name] ?? 0));
    words[al.paramOffset(0) / 4] = m;
    const groups = grid[0] * grid[1] * grid[2];
    return {
      a: this.heap.f32(aPtr, m * k),
      c: this.heap.f32(cPtr, m * n),
      builder: gemv ? 'gemv' : 'matmul',
      run: () => this.pool.dispatch(id, args, groups),
      dispose: () => [aPtr, bPtr, cPtr, args].forEach((p) => this.heap.release(p)),
    };
  }

  async dispose(): Promise<void> {
    await this.pool.dispose();
  }
}
