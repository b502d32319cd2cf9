/**
 * The Executor contract over any Device: each run binds the graph's symbols from its inputs, compiles the graph
 * for the device's Target at those values (cached: one program per token-count pair; dynamic symbols such as
 * cache lengths do not recompile), loads the program with the one runner, and runs it. State tensors live in
 * device buffers between runs. A backend is therefore a Target, a renderer and a Device, nothing more.
 */
import { bindInputSymbols, ExecutionError, type Graph, graphInputs, graphWeights, type HostTensor, makeTensor, sizeOf, type TensorStore } from '../ir/index.js';
import { CompileCache, type CompileOptions, type ProgramStore } from './compile.js';
import type { Device } from './device.js';
import type { Executor, ExecutorState, PreparedGraph, PrepareOptions, StateTensorSpec, TensorMap } from './executor.js';
import { DeviceMemoryError, DeviceResidency, ProgramRunner } from './runner.js';

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;
import { DTYPE_BYTES } from '../ir/index.js';

export interface DeviceExecutorOptions {
  /** Run the full pass pipeline before lowering (default true). */
  readonly fuse?: boolean;
  /** Programs kept loaded per prepared graph (each holds its activation slots). */
  readonly plans?: number;
  /** Where compiled programs persist between processes. */
  readonly programStore?: ProgramStore;
}

/** State tensors as device buffers. */
class DeviceState<B> implements ExecutorState {
  constructor(
    readonly specs: readonly StateTensorSpec[],
    readonly buffers: ReadonlyMap<string, B>,
    private readonly owner: DeviceExecutor<B, unknown>,
    private readonly read0: (b: B, bytes: number) => Promise<Uint8Array>,
    private readonly release: () => void,
  ) {}

  belongsTo(e: DeviceExecutor<B, unknown>): boolean {
    return e === this.owner;
  }

  async read(name: string): Promise<HostTensor> {
    const spec = this.specs.find((s) => s.name === name);
    const b = this.buffers.get(name);
    if (spec === undefined || b === undefined) throw new ExecutionError(`no state tensor '${name}'`);
    const bytes = await this.read0(b, sizeOf(spec.shape) * 4);
    const copy = bytes.slice();
    const data = spec.dtype === 'i32' || spec.dtype === 'bool' ? new Int32Array(copy.buffer) : spec.dtype === 'u32' ? new Uint32Array(copy.buffer) : new Float32Array(copy.buffer);
    return makeTensor(spec.dtype, spec.shape, data);
  }

  dispose(): void {
    this.release();
  }
}

interface Loaded<B, K> {
  readonly runner: ProgramRunner<B, K>;
}

export class DeviceExecutor<B, K> implements Executor {
  readonly residency: DeviceResidency<B>;
  readonly compiler: CompileCache;

  constructor(
    readonly name: string,
    readonly device: Device<B, K>,
    private readonly opts: DeviceExecutorOptions = {},
  ) {
    this.residency = new DeviceResidency(device as Device<B, unknown>);
    this.compiler = new CompileCache(32, opts.programStore);
  }

  prepare(graph: Graph, weights: TensorStore, popts: PrepareOptions = {}): Promise<PreparedGraph> {
    try {
      this.checkWeights(graph, weights);
    } catch (e) {
      return Promise.reject(e);
    }
    const dynamic = popts.dynamic ?? [];
    const copts: CompileOptions = { dynamic, ...(this.opts.fuse === false ? { fuse: false } : {}) };
    const loaded = new Map<string, Loaded<B, K>>();
    const limit = this.opts.plans ?? 8;
    // Once per prepared graph: a decode step has 3 state tensors per layer, each looked up every step.
    const inputNames = new Set(graphInputs(graph).map((n) => n.attrs.name));
    const run = async (inputs: TensorMap, symbols: Readonly<Record<string, number>> = {}, state?: ExecutorState): Promise<Record<string, HostTensor>> => {
      const st = state === undefined ? undefined : this.ownState(state);
      // Symbols: from the inputs and the state tensors' shapes, plus the given ones (dynamic ones included).
      const shapes: Record<string, HostTensor> = { ...inputs };
      if (st) for (const s of st.specs) if (inputNames.has(s.name)) shapes[s.name] = { dtype: s.dtype, shape: s.shape, data: new Float32Array(0) } as HostTensor;
      const env = bindShapes(graph, shapes, symbols);
      const staticEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !dynamic.includes(k)));
      const program = this.compiler.get(graph, this.device.target, staticEnv, copts);
      const key = `${programId(program)}|${st ? [...st.buffers.keys()].join(',') : ''}`;
      let entry = loaded.get(key);
      if (entry === undefined) {
        entry = { runner: await ProgramRunner.load(this.device, program, weights, this.residency, new Set(st?.buffers.keys() ?? [])) };
        loaded.set(key, entry);
        while (loaded.size > limit) {
          const oldest = loaded.keys().next().value;
          if (oldest === undefined) break;
          loaded.get(oldest)?.runner.dispose();
          loaded.delete(oldest);
        }
      } else {
        loaded.delete(key);
        loaded.set(key, entry);
      }
      const dyn = Object.fromEntries(dynamic.map((d) => [d, env[d] ?? Number.NaN]));
      return entry.runner.run(inputs, { symbols: dyn, ...(st ? { state: st.buffers } : {}) });
    };
    return Promise.resolve({
      graph,
      run: (inputs, symbols, state) => run(inputs, symbols, state),
      dispose: () => {
        for (const e of loaded.values()) e.runner.dispose();
        loaded.clear();
      },
    });
  }

  /**
   * Before anything is compiled or read: every graph weight is in the store, and the weights fit in the
   * device's memory in the dtypes they will be stored in (from dtypes and shapes only).
   */
  private checkWeights(graph: Graph, weights: TensorStore): void {
    const target = this.device.target;
    let bytes = 0;
    const seen = new Set<string>();
    for (const w of graphWeights(graph)) {
      if (seen.has(w.attrs.name)) continue;
      seen.add(w.attrs.name);
      if (!weights.has(w.attrs.name)) throw new ExecutionError(`${this.name} backend: weight '${w.attrs.name}' is not in the weight store`);
      if (!w.attrs.shape.every((d) => typeof d === 'number')) continue;
      const d = w.attrs.dtype;
      const stored = d === 'f16' ? (target.caps.f16Storage ? 2 : 4) : d === 'bf16' ? (target.caps.bf16Storage ? 2 : 4) : 4;
      bytes += sizeOf(w.attrs.shape as readonly number[]) * stored;
    }
    const limit = target.limits.memoryBytes;
    if (this.residency.used + bytes > limit)
      throw new DeviceMemoryError(
        `${this.name} backend (${target.device}): graph '${graph.name}' needs ${gib(bytes)} of weights (in their stored dtypes), ` +
          `${gib(this.residency.used)} are in use, and the device holds ${gib(limit)}`,
      );
  }

  private ownState(s: ExecutorState): DeviceState<B> {
    if (!(s instanceof DeviceState) || !s.belongsTo(this as DeviceExecutor<B, unknown>)) throw new ExecutionError(`${this.name} backend: the state was created by another executor`);
    return s as DeviceState<B>;
  }

  createState(specs: readonly StateTensorSpec[]): Promise<ExecutorState> {
    const buffers = new Map<string, B>();
    const sizes: [B, number][] = [];
    try {
      for (const s of specs) {
        const bytes = Math.max(4, sizeOf(s.shape) * Math.max(4, DTYPE_BYTES[s.dtype]));
        if (this.residency.used + bytes > this.device.target.limits.memoryBytes)
          throw new ExecutionError(`${this.name} backend: state '${s.name}' (${bytes} bytes) does not fit in the device's memory`);
        const b = this.residency.alloc(bytes, `state ${s.name}`);
        buffers.set(s.name, b);
        sizes.push([b, bytes]);
      }
    } catch (e) {
      for (const [b, bytes] of sizes) this.residency.release(b, bytes);
      return Promise.reject(e);
    }
    let released = false;
    return Promise.resolve(
      new DeviceState(specs, buffers, this as DeviceExecutor<B, unknown>, (b, bytes) => this.device.read(b, 0, bytes), () => {
        if (released) return;
        released = true;
        for (const [b, bytes] of sizes) this.residency.release(b, bytes);
      }),
    );
  }

  dispose(): Promise<void> {
    return this.device.dispose();
  }
}

const ids = new WeakMap<object, number>();
let nextId = 0;
/** A stable id per program object (the compile cache returns the same object for the same compilation). */
function programId(p: object): number {
  let id = ids.get(p);
  if (id === undefined) {
    id = nextId++;
    ids.set(p, id);
  }
  return id;
}

/** Symbol binding from tensor shapes only (state tensors have no host data). */
function bindShapes(graph: Graph, shapes: Readonly<Record<string, HostTensor>>, symbols: Readonly<Record<string, number>>): Record<string, number> {
  return bindInputSymbols(graph, shapes, symbols);
}
