/**
 * Generation on any backend behind the Executor contract, with the KV cache resident in the backend: the prefill
 * writes every layer's cached rows into state tensors of a fixed capacity, each decode step appends one row per
 * layer in place and attends to the valid prefix. Cache lengths differ per layer (a p-MoD layer caches only the
 * text tokens and the vision tokens it kept) and are dynamic symbols of the decode graph, so one compiled decode
 * plan serves every step; only the logits of the new token come back to the host.
 */
import { dimSymbols, evalDim, ExecutionError, type Graph, type HostTensor, type TensorStore } from '../ir/index.js';
import type { Executor, ExecutorState, PreparedGraph, StateTensorSpec, TensorMap } from './executor.js';
import type { Sampler } from './sampling.js';

export interface PrefillResult {
  /** Logits of the last prefill position [1, vocab] (or of every position with a graph built that way). */
  readonly logits: HostTensor;
  /** Every other output of the prefill graph (routing.layer{l}, ...). */
  readonly outputs: Readonly<Record<string, HostTensor>>;
  /** The KV cache: state tensors on the backend and the number of valid rows of each layer. */
  readonly cache: ResidentCache;
  /** Tokens in the prefill sequence S: the first generated token's position. */
  readonly length: number;
}

export interface GenerateOptions {
  readonly maxNewTokens: number;
  readonly sampler: Sampler;
  /** Generation stops after emitting one of these (the EOS token is part of the result). */
  readonly eosTokenIds: readonly number[];
  /** Called with each token as soon as it is chosen. */
  readonly onToken?: (id: number, step: number) => void;
}

export interface GenerateResult {
  readonly prefill: PrefillResult;
  /** The chosen tokens, at most maxNewTokens; the last is an EOS id when stop is 'eos'. */
  readonly tokens: readonly number[];
  /** For each chosen token, the logits row it was chosen from. */
  readonly logits: readonly Float32Array[];
  readonly stop: 'eos' | 'length';
}

/** A KV cache held by a backend: per layer a capacity of rows and how many are valid. */
export class ResidentCache {
  constructor(
    readonly state: ExecutorState,
    /** Rows allocated per layer (a MoD layer caches fewer tokens, so it gets fewer). */
    readonly capacities: readonly number[],
    private readonly valid: number[],
  ) {}

  /** Rows that can still be appended to every layer. */
  get free(): number {
    return Math.min(...this.capacities.map((c, l) => c - (this.valid[l] ?? 0)));
  }

  /** Valid rows per layer. */
  lengths(): number[] {
    return [...this.valid];
  }

  advance(n: number): void {
    for (let l = 0; l < this.valid.length; l++) this.valid[l] = (this.valid[l] ?? 0) + n;
  }

  /** A layer's cached keys, values and positions (its valid rows) copied to the host. */
  async layer(l: number): Promise<{ k: HostTensor; v: HostTensor; positions: number[] }> {
    const len = this.valid[l] ?? 0;
    const rows = (t: HostTensor): HostTensor => {
      const width = t.data.length / Math.max(1, t.shape[0] ?? 1);
      return { dtype: t.dtype, shape: [len, ...t.shape.slice(1)], data: t.data.subarray(0, len * width) };
    };
    const [k, v, p] = await Promise.all(['k', 'v', 'positions'].map((part) => this.state.read(`cache.layer${l}.${part}`)));
    if (k === undefined || v === undefined || p === undefined) throw new ExecutionError(`no cache of layer ${l}`);
    return { k: rows(k), v: rows(v), positions: Array.from(p.data.subarray(0, len)) };
  }

  dispose(): void {
    this.state.dispose();
  }
}

function out(outputs: Readonly<Record<string, HostTensor>>, name: string, graph: string): HostTensor {
  const t = outputs[name];
  if (t === undefined) throw new ExecutionError(`graph '${graph}' did not produce output '${name}'`);
  return t;
}

function row(t: HostTensor, r: number): Float32Array {
  const v = t.shape[1] ?? 0;
  return Float32Array.from(t.data.subarray(r * v, (r + 1) * v));
}

const CACHE_INPUT = /^cache\.layer(\d+)\.(k|v|positions)$/;

/** The cache state inputs of a graph (name, dtype, shape dims), by layer. */
function cacheInputs(g: Graph): { name: string; node: Graph['nodes'][number] }[] {
  return g.nodes.filter((n) => n.op === 'input' && CACHE_INPUT.test(n.attrs.name)).map((n) => ({ name: n.op === 'input' ? n.attrs.name : '', node: n }));
}

/**
 * Rows each layer of a prefill graph caches: the row count of the cacheWrite feeding `cache.layer{l}.k`, at the
 * given symbol values (S for dense layers, text + k_l for MoD layers).
 */
export function prefillCacheLengths(g: Graph, numLayers: number, env: Readonly<Record<string, number>>): number[] {
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  return Array.from({ length: numLayers }, (_, l) => {
    const o = g.outputs.find((x) => x.name === `cache.layer${l}.k`);
    const w = o === undefined ? undefined : byId.get(o.value.node);
    const rowsRef = w?.op === 'cacheWrite' ? w.inputs[1] : undefined;
    const rowsNode = rowsRef === undefined ? undefined : byId.get(rowsRef.node);
    const dim = rowsNode?.outputs[rowsRef?.output ?? 0]?.shape[0];
    if (dim === undefined) throw new ExecutionError(`prefill graph '${g.name}': the cache of layer ${l} is not written by a cacheWrite`);
    const missing = [...dimSymbols(dim)].filter((s) => env[s] === undefined);
    if (missing.length) throw new ExecutionError(`prefill graph '${g.name}': the cache length of layer ${l} needs ${missing.join(', ')}`);
    return evalDim(dim, env);
  });
}

export class GenerationSession {
  private constructor(
    private readonly executor: Executor,
    private readonly prefillGraph: PreparedGraph,
    private readonly decodeGraph: PreparedGraph,
    readonly numLayers: number,
    /** Cache capacities are rounded up to a multiple of this, so nearby prompt lengths share compiled plans. */
    readonly capacityBlock: number,
  ) {}

  /**
   * Prepares the prefill graph (built with `kvState`: cache state inputs of capacity Cap, written at offset 0) and
   * the decode graph (buildDecodeStep: the cache lengths L{l} are dynamic symbols).
   */
  static async create(executor: Executor, graphs: { prefill: Graph; decode: Graph }, weights: TensorStore, opts: { capacityBlock?: number } = {}): Promise<GenerationSession> {
    const layers = new Set(cacheInputs(graphs.prefill).map((c) => c.name.replace(CACHE_INPUT, '$1'))).size;
    if (layers === 0) throw new ExecutionError(`prefill graph '${graphs.prefill.name}' has no KV-cache state (build it with kvState)`);
    for (let l = 0; l < layers; l++)
      for (const s of ['k', 'v', 'positions']) {
        const name = `cache.layer${l}.${s}`;
        if (!graphs.prefill.outputs.some((o) => o.name === name)) throw new ExecutionError(`prefill graph '${graphs.prefill.name}' does not write '${name}'`);
        if (!graphs.decode.outputs.some((o) => o.name === name)) throw new ExecutionError(`decode graph '${graphs.decode.name}' does not write '${name}'`);
      }
    const dynamic = graphs.decode.symbols.map((s) => s.name).filter((s) => /^L\d+$/.test(s));
    const prefill = await executor.prepare(graphs.prefill, weights);
    const decode = await executor.prepare(graphs.decode, weights, { dynamic });
    return new GenerationSession(executor, prefill, decode, layers, opts.capacityBlock ?? 64);
  }

  /** The cache state tensors at the given per-layer capacities (the shapes of the prefill graph's cache inputs). */
  private stateSpecs(caps: Readonly<Record<string, number>>): StateTensorSpec[] {
    return cacheInputs(this.prefillGraph.graph).map(({ name, node }) => {
      if (node.op !== 'input') throw new ExecutionError('internal: not an input');
      return { name, dtype: node.attrs.dtype, shape: node.attrs.shape.map((d) => evalDim(d, caps)) };
    });
  }

  /** Prefill with room for `reserve` more tokens in every layer's cache. */
  async prefill(inputs: TensorMap, reserve = 0): Promise<PrefillResult> {
    const ids = inputs.input_ids;
    if (ids === undefined) throw new ExecutionError('prefill needs input_ids');
    const s = ids.shape[0] ?? 0;
    const nv = inputs.vision_embeds?.shape[0] ?? 0;
    // Each layer gets the rows it caches at prefill plus the reserve, rounded up to a block (so nearby prompt
    // lengths share compiled plans): MoD layers, which cache fewer tokens, get smaller caches.
    const lengths = prefillCacheLengths(this.prefillGraph.graph, this.numLayers, { T: s - nv, N_v: nv });
    const caps: Record<string, number> = {};
    lengths.forEach((len, l) => (caps[`C${l}`] = Math.ceil(Math.max(1, len + reserve) / this.capacityBlock) * this.capacityBlock));
    const state = await this.executor.createState(this.stateSpecs(caps));
    try {
      const outputs = await this.prefillGraph.run(inputs, {}, state);
      const name = this.prefillGraph.graph.name;
      const logits = out(outputs, 'logits', name);
      const rest = Object.fromEntries(Object.entries(outputs).filter(([k]) => k !== 'logits'));
      return { logits, outputs: rest, cache: new ResidentCache(state, lengths.map((_, l) => caps[`C${l}`] ?? 0), lengths), length: s };
    } catch (e) {
      state.dispose();
      throw e;
    }
  }

  /** Runs new tokens at positions first, first+1, ... through every layer, appending to the cache; their logits. */
  async decodeStep(cache: ResidentCache, ids: readonly number[], first: number): Promise<HostTensor> {
    const lengths = cache.lengths();
    if (ids.length > cache.free) throw new ExecutionError(`the KV cache has room for ${cache.free} more rows; ${ids.length} do not fit (reserve them at prefill)`);
    const inputs: Record<string, HostTensor> = {
      input_ids: { dtype: 'i32', shape: [ids.length], data: Int32Array.from(ids) },
      positions: { dtype: 'i32', shape: [ids.length], data: Int32Array.from(ids, (_, i) => first + i) },
    };
    const symbols: Record<string, number> = {};
    lengths.forEach((len, l) => (symbols[`L${l}`] = len));
    const outputs = await this.decodeGraph.run(inputs, symbols, cache.state);
    cache.advance(ids.length);
    return out(outputs, 'logits', this.decodeGraph.graph.name);
  }

  async generate(inputs: TensorMap, opts: GenerateOptions): Promise<GenerateResult> {
    if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new RangeError(`maxNewTokens must be an integer >= 0, got ${opts.maxNewTokens}`);
    const prefill = await this.prefill(inputs, opts.maxNewTokens);
    try {
      const tokens: number[] = [];
      const rows: Float32Array[] = [];
      let current = row(prefill.logits, (prefill.logits.shape[0] ?? 1) - 1);
      let stop: GenerateResult['stop'] = 'length';
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const id = opts.sampler.pick(current);
        tokens.push(id);
        rows.push(current);
        opts.onToken?.(id, step);
        if (opts.eosTokenIds.includes(id)) {
          stop = 'eos';
          break;
        }
        if (step + 1 === opts.maxNewTokens) break; // the last token needs no forward pass
        current = row(await this.decodeStep(prefill.cache, [id], prefill.length + step), 0);
      }
      return { prefill, tokens, logits: rows, stop };
    } finally {
      prefill.cache.dispose();
    }
  }

  dispose(): void {
    this.prefillGraph.dispose();
    this.decodeGraph.dispose();
  }
}
