/**
 * The WebAssembly CPU executor behind the Executor contract: lowers a graph per symbol values to a kernel
 * program (cached), compiles each distinct kernel once (binaryen -> Wasm SIMD128, relaxed FMA when available),
 * keeps weights resident in the shared Wasm memory (Linear weights packed once), and runs the program's steps
 * on the worker pool. Kernels report bad data (an index out of range) through a status word.
 */
import { availableParallelism } from 'node:os';
import { bindInputSymbols, ExecutionError, type Graph, graphWeights, type HostTensor, makeTensor, sizeOf, type TensorStore } from '../../ir/index.js';
import { CPU_TILING, type MatmulTiling, packedLength, packLinearWeight } from '../../kernel/builders/matmul.js';
import type { KernelProgram, WeightLayout } from '../../kernel/program.js';
import { weightLayoutKey } from '../../kernel/program.js';
import { pipeline, runPasses } from '../../passes/index.js';
import { lowerToProgram, planKey } from '../../passes/lower/index.js';
import type { Executor, PreparedGraph, TensorMap } from '../../runtime/executor.js';
import { PlanCache } from '../../runtime/plan.js';
import { relaxedSimdAvailable } from './features.js';
import { MAX_BYTES, WasmHeap, WasmMemoryError } from './memory.js';
import { KernelCompiler } from './module.js';
import { WorkerPool } from './pool.js';
import { argBlockLayout, WASM_LIMITS } from './render.js';

export interface WasmExecutorOptions {
  /** Threads (the calling thread + workers); default: the machine's available parallelism. */
  readonly threads?: number;
  /** Use relaxed-SIMD FMA when the runtime supports it (default true; probed). */
  readonly relaxedSimd?: boolean;
  readonly tiling?: MatmulTiling;
  /** Run the full pass pipeline (specialisation and fusion) before lowering (default true). */
  readonly fuse?: boolean;
}

const ARG_AREA = 4096;

interface LoadedPlan {
  readonly program: KernelProgram;
  readonly kernelIds: readonly number[];
  /** Resident buffers of the program (constants, the status word); weights are shared across plans. */
  readonly resident: Map<number, number>;
}

export class WasmExecutor implements Executor {
  readonly name = 'wasm';
  readonly threads: number;
  readonly relaxedFma: boolean;
  private readonly heap: WasmHeap;
  private readonly pool: WorkerPool;
  private readonly compiler: KernelCompiler;
  private readonly poolIds = new Map<unknown, number>();
  private readonly tiling: MatmulTiling;
  private readonly fuse: boolean;
  /** Resident weights per weight store (graphs prepared with the same store share them), by name and layout. */
  private readonly weightPtrs = new WeakMap<TensorStore, Map<string, number>>();
  private argPtr = 0;
  /** Milliseconds per kernel name, accumulated over runs when profiling is on (MODC_WASM_PROFILE=1). */
  readonly profile: Map<string, number> | undefined = process.env.MODC_WASM_PROFILE === '1' ? new Map() : undefined;

  constructor(opts: WasmExecutorOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
    this.relaxedFma = (opts.relaxedSimd ?? true) && relaxedSimdAvailable();
    this.heap = new WasmHeap(this.threads);
    this.pool = new WorkerPool(this.heap, this.threads);
    this.compiler = new KernelCompiler({ relaxedFma: this.relaxedFma, optimizeLevel: 2 });
    this.tiling = opts.tiling ?? CPU_TILING;
    this.fuse = opts.fuse ?? true;
  }

  prepare(graph: Graph, weights: TensorStore): Promise<PreparedGraph> {
    // Fail early, before any upload, when the weights cannot fit in wasm32 memory (held as f32, Linear
    // weights packed: count them twice as an upper bound only when they are also used unpacked).
    let bytes = 0;
    const seen = new Set<string>();
    for (const w of graphWeights(graph)) {
      if (seen.has(w.attrs.name)) continue;
      seen.add(w.attrs.name);
      if (!weights.has(w.attrs.name)) return Promise.reject(new ExecutionError(`wasm backend: weight '${w.attrs.name}' is not in the weight store`));
      bytes += sizeOf(weights.get(w.attrs.name).shape) * 4;
    }
    if (bytes > MAX_BYTES - this.heap.bytesInUse)
      return Promise.reject(new WasmMemoryError(`wasm backend: graph '${graph.name}' has ${(bytes / 2 ** 30).toFixed(2)} GiB of weights as f32; wasm32 memory holds at most 4 GiB`));
    const plans = new PlanCache<LoadedPlan>(8, (p) => this.releasePlan(p));
    return Promise.resolve({
      graph,
      run: (inputs: TensorMap, symbols?: Readonly<Record<string, number>>) => {
        try {
          const env = bindInputSymbols(graph, inputs, symbols);
          // Compile at these symbol values: specialise (capacities become constants), fuse, then lower.
          const plan = plans.get(planKey(graph, env), () => this.load(lowerToProgram(this.compile(graph, env), env, { tiling: this.tiling, limits: WASM_LIMITS }), weights));
          return Promise.resolve(this.execute(plan, inputs));
        } catch (e) {
          return Promise.reject(e);
        }
      },
      dispose: () => plans.clear(),
    });
  }

  /** The graph the backend lowers: the full pass pipeline at the given symbol values (or as is, with fuse: false). */
  compile(graph: Graph, env: Readonly<Record<string, number>>): Graph {
    if (!this.fuse) return graph;
    const declared = Object.fromEntries(Object.entries(env).filter(([k]) => graph.symbols.some((s) => s.name === k)));
    return runPasses(graph, pipeline('full', { bindings: declared }));
  }

  /** Lowers nothing: loads a program's kernels, weights and constants. Exposed for benchmarks and tests. */
  load(program: KernelProgram, weights: TensorStore): LoadedPlan {
    const kernelIds = program.kernels.map((k) => {
      const c = this.compiler.compile(k);
      let id = this.poolIds.get(c);
      if (id === undefined) {
        id = this.pool.load(c.module, c.imports);
        this.poolIds.set(c, id);
      }
      // Argument blocks are at most 4 * (3 + 64 buffers + params) bytes: one shared 4 KiB area serves every dispatch.
      if (argBlockLayout(k).bytes > ARG_AREA) throw new ExecutionError(`wasm backend: kernel '${k.name}' has ${k.params.length} scalar params, too many for one argument block`);
      return id;
    });
    if (this.argPtr === 0) this.argPtr = this.heap.alloc(ARG_AREA, 'dispatch arguments');
    const resident = new Map<number, number>();
    for (const w of program.weights) resident.set(w.buffer, this.weight(weights, w.name, w.layout));
    for (const c of program.constants) {
      const b = program.buffers[c.buffer];
      const ptr = this.heap.alloc(c.data.length * 4, b?.label ?? 'constant');
      if (b?.elem === 'f32') this.heap.f32(ptr, c.data.length).set(c.data);
      else this.heap.i32(ptr, c.data.length).set(c.data);
      resident.set(c.buffer, ptr);
    }
    return { program, kernelIds, resident };
  }

  private releasePlan(p: LoadedPlan): void {
    for (const c of p.program.constants) {
      const ptr = p.resident.get(c.buffer);
      if (ptr !== undefined) this.heap.release(ptr);
    }
  }

  private weight(store: TensorStore, name: string, layout: WeightLayout): number {
    const key = weightLayoutKey(name, layout);
    let cache = this.weightPtrs.get(store);
    if (cache === undefined) {
      cache = new Map();
      this.weightPtrs.set(store, cache);
    }
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    if (!store.has(name)) throw new ExecutionError(`wasm backend: weight '${name}' is not in the weight store`);
    const t = store.get(name);
    if (t.dtype === 'i32' || t.dtype === 'u32' || t.dtype === 'bool') throw new ExecutionError(`wasm backend: weight '${name}' has dtype ${t.dtype}; only float weights are supported`);
    let ptr: number;
    if (layout.kind === 'plain') {
      ptr = this.heap.alloc(t.data.length * 4, `weight '${name}'`);
      this.heap.f32(ptr, t.data.length).set(t.data);
    } else {
      const { k, n } = layout;
      if (t.data.length !== k * n) throw new ExecutionError(`wasm backend: weight '${name}' has ${t.data.length} elements, a [${n}, ${k}] Linear weight needs ${k * n}`);
      const len = packedLength(layout);
      ptr = this.heap.alloc(len * 4, `weight '${name}' (packed${layout.scaleK ? ` x ${layout.scaleK}` : ''})`);
      const packed = this.heap.f32(ptr, len) as Float32Array<ArrayBuffer>;
      packLinearWeight(layout, t.data, packed);
      if (layout.scaleK !== undefined) {
        // An RMSNorm weight folded into B: row kk of every panel times norm[kk].
        if (!store.has(layout.scaleK)) throw new ExecutionError(`wasm backend: weight '${layout.scaleK}' is not in the weight store`);
        const scale = store.get(layout.scaleK).data;
        if (scale.length !== k) throw new ExecutionError(`wasm backend: norm weight '${layout.scaleK}' has ${scale.length} elements, '${name}' needs ${k}`);
        for (let o = 0; o < len; o += layout.nr) {
          const s = scale[(o / layout.nr) % k] ?? 1;
          for (let j = 0; j < layout.nr; j++) packed[o + j] = (packed[o + j] ?? 0) * s;
        }
      }
    }
    cache.set(key, ptr);
    return ptr;
  }

  /** Runs a loaded program on host inputs; returns its outputs. */
  execute(plan: LoadedPlan, inputs: TensorMap): Record<string, HostTensor> {
    const { program: p, kernelIds, resident } = plan;
    const ptrs = new Map<number, number>(resident);
    const transient: number[] = [];
    const live = new Set<number>();
    try {
      for (const inp of p.inputs) {
        const t = inputs[inp.name];
        if (t === undefined) throw new ExecutionError(`missing input '${inp.name}'`);
        const ptr = this.heap.alloc(t.data.length * 4, `input '${inp.name}'`);
        transient.push(ptr);
        if (p.buffers[inp.buffer]?.elem === 'f32') this.heap.f32(ptr, t.data.length).set(t.data);
        else this.heap.i32(ptr, t.data.length).set(t.data);
        ptrs.set(inp.buffer, ptr);
      }
      const status = this.heap.i32(ptrs.get(p.status) ?? 0, 1);
      status[0] = 0;
      for (const s of p.steps) {
        if (s.op === 'alloc') {
          const b = p.buffers[s.buffer];
          const ptr = this.heap.alloc((b?.elems ?? 0) * 4, b?.label ?? `buffer ${s.buffer}`);
          ptrs.set(s.buffer, ptr);
          live.add(ptr);
        } else if (s.op === 'free') {
          const ptr = ptrs.get(s.buffer);
          if (ptr !== undefined && live.delete(ptr)) this.heap.release(ptr);
          ptrs.delete(s.buffer);
        } else {
          const k = p.kernels[s.kernel];
          const id = kernelIds[s.kernel];
          if (k === undefined || id === undefined) throw new ExecutionError(`wasm backend: bad kernel index ${s.kernel}`);
          const layout = argBlockLayout(k);
          const words = this.heap.i32(this.argPtr, layout.bytes / 4);
          const f = this.heap.f32(this.argPtr, layout.bytes / 4);
          words.set(s.grid, 0);
          k.buffers.forEach((b, i) => {
            const ptr = ptrs.get(s.buffers[b.name] ?? -1);
            if (ptr === undefined) throw new ExecutionError(`${s.node}: buffer '${b.name}' of kernel '${k.name}' is not allocated`);
            words[layout.bufferOffset(i) / 4] = ptr;
          });
          k.params.forEach((q, i) => {
            const val = s.params[q.name] ?? 0;
            if (q.type === 'f32') f[layout.paramOffset(i) / 4] = val;
            else words[layout.paramOffset(i) / 4] = val;
          });
          const t0 = this.profile ? performance.now() : 0;
          this.pool.dispatch(id, this.argPtr, s.grid[0] * s.grid[1] * s.grid[2], s.parallel ? this.threads : 1);
          if (this.profile) this.profile.set(k.name, (this.profile.get(k.name) ?? 0) + performance.now() - t0);
        }
      }
      const code = status[0] ?? 0;
      if (code !== 0) throw new ExecutionError(p.statusMessages[code] ?? `wasm backend: kernel status ${code}`);
      const out: Record<string, HostTensor> = {};
      for (const o of p.outputs) {
        const ptr = ptrs.get(o.buffer);
        if (ptr === undefined) throw new ExecutionError(`wasm backend: output '${o.name}' has no buffer`);
        const n = sizeOf(o.shape);
        const src = p.buffers[o.buffer]?.elem === 'f32' ? this.heap.f32(ptr, n) : this.heap.i32(ptr, n);
        out[o.name] = makeTensor(o.dtype, o.shape, src);
      }
      return out;
    } finally {
      // Outputs were copied out; temporaries left after an error go too.
      for (const ptr of live) this.heap.release(ptr);
      for (const ptr of transient) this.heap.release(ptr);
    }
  }

  get residentBytes(): number {
    return this.heap.bytesInUse;
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }
}

export function wasmExecutor(opts: WasmExecutorOptions = {}): Executor {
  return new WasmExecutor(opts);
}
