/**
 * Generation on any backend behind the Executor contract: one prefill (which exports each layer's KV cache with
 * the position ids of the cached tokens), then decode steps in which new tokens attend to each layer's own cache at
 * their true absolute positions (prefill length + step). Both graphs are prepared once, with symbolic lengths.
 */
import { ExecutionError, type Graph, type HostTensor, type TensorStore } from '../ir/index.js';
import type { Executor, PreparedGraph, TensorMap } from './executor.js';
import { KvCache, LayerCache } from './kvcache.js';
import type { Sampler } from './sampling.js';

export interface PrefillResult {
  /** Logits of every prefill position [S, vocab]. */
  readonly logits: HostTensor;
  /** Every output of the prefill graph (routing.layer{l}, ...). */
  readonly outputs: Readonly<Record<string, HostTensor>>;
  readonly cache: KvCache;
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

function out(outputs: Readonly<Record<string, HostTensor>>, name: string, graph: string): HostTensor {
  const t = outputs[name];
  if (t === undefined) throw new ExecutionError(`graph '${graph}' did not produce output '${name}'`);
  return t;
}

function row(t: HostTensor, r: number): Float32Array {
  const v = t.shape[1] ?? 0;
  return Float32Array.from(t.data.subarray(r * v, (r + 1) * v));
}

export class GenerationSession {
  private constructor(
    private readonly prefillGraph: PreparedGraph,
    private readonly decodeGraph: PreparedGraph,
    readonly numLayers: number,
    /** Cache lengths handed to the decode graph are rounded up to a multiple of this (see LayerCache.tensors). */
    readonly cacheBlock: number,
  ) {}

  /**
   * Prepares the prefill graph (outputs `logits`, `kv.layer{l}.k|v|positions`) and the decode graph (inputs
   * `input_ids`, `positions`, `cache.layer{l}.k|v|positions`; outputs `logits`, `kv.layer{l}.k|v`).
   */
  static async create(executor: Executor, graphs: { prefill: Graph; decode: Graph }, weights: TensorStore, opts: { cacheBlock?: number } = {}): Promise<GenerationSession> {
    const layers = graphs.prefill.outputs.filter((o) => /^kv\.layer\d+\.k$/.test(o.name)).length;
    if (layers === 0) throw new ExecutionError(`prefill graph '${graphs.prefill.name}' exports no KV cache (build it with exportKV)`);
    for (let l = 0; l < layers; l++) {
      for (const s of ['k', 'v', 'positions']) {
        if (!graphs.prefill.outputs.some((o) => o.name === `kv.layer${l}.${s}`)) throw new ExecutionError(`prefill graph '${graphs.prefill.name}' lacks output 'kv.layer${l}.${s}'`);
        if (!graphs.decode.nodes.some((n) => n.op === 'input' && n.attrs.name === `cache.layer${l}.${s}`)) throw new ExecutionError(`decode graph '${graphs.decode.name}' lacks input 'cache.layer${l}.${s}'`);
      }
    }
    const prefill = await executor.prepare(graphs.prefill, weights);
    const decode = await executor.prepare(graphs.decode, weights);
    return new GenerationSession(prefill, decode, layers, opts.cacheBlock ?? 64);
  }

  async prefill(inputs: TensorMap, reserve = 0): Promise<PrefillResult> {
    const name = this.prefillGraph.graph.name;
    const outputs = await this.prefillGraph.run(inputs);
    const logits = out(outputs, 'logits', name);
    const layers: LayerCache[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const k = out(outputs, `kv.layer${l}.k`, name);
      const v = out(outputs, `kv.layer${l}.v`, name);
      const pos = out(outputs, `kv.layer${l}.positions`, name);
      const cache = new LayerCache(k.shape[1] ?? 0, k.shape[2] ?? 0, (k.shape[0] ?? 0) + reserve);
      cache.append(k, v, pos.data);
      layers.push(cache);
    }
    return { logits, outputs, cache: new KvCache(layers), length: logits.shape[0] ?? 0 };
  }

  /** Runs new tokens at positions first, first+1, ... through every layer; appends their K/V; returns their logits. */
  async decodeStep(cache: KvCache, ids: readonly number[], first: number): Promise<HostTensor> {
    const positions = Int32Array.from(ids, (_, i) => first + i);
    const inputs: Record<string, HostTensor> = {
      input_ids: { dtype: 'i32', shape: [ids.length], data: Int32Array.from(ids) },
      positions: { dtype: 'i32', shape: [ids.length], data: positions },
    };
    const symbols = this.decodeGraph.graph.symbols;
    cache.layers.forEach((layer, l) => {
      const limit = symbols.find((s) => s.name === `C${l}`)?.max ?? Number.POSITIVE_INFINITY;
      const t = layer.tensors(this.cacheBlock, limit);
      inputs[`cache.layer${l}.k`] = t.k;
      inputs[`cache.layer${l}.v`] = t.v;
      inputs[`cache.layer${l}.positions`] = t.positions;
    });
    const name = this.decodeGraph.graph.name;
    const outputs = await this.decodeGraph.run(inputs);
    cache.layers.forEach((layer, l) => layer.append(out(outputs, `kv.layer${l}.k`, name), out(outputs, `kv.layer${l}.v`, name), positions));
    return out(outputs, 'logits', name);
  }

  async generate(inputs: TensorMap, opts: GenerateOptions): Promise<GenerateResult> {
    if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new RangeError(`maxNewTokens must be an integer >= 0, got ${opts.maxNewTokens}`);
    const prefill = await this.prefill(inputs, opts.maxNewTokens);
    const tokens: number[] = [];
    const rows: Float32Array[] = [];
    let current = row(prefill.logits, prefill.length - 1);
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
  }

  dispose(): void {
    this.prefillGraph.dispose();
    this.decodeGraph.dispose();
  }
}
