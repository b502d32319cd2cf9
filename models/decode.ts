/**
 * The decode step of a (p-MoD) LLaVA language model: new text tokens run densely through every layer (no router,
 * no reweighting; method section 4), each layer appending to and attending to its own device-resident KV cache,
 * whose length differs per layer (MoD layers cache only text + their kept vision tokens). The cache lengths are
 * dynamic symbols: one compiled plan serves every step. Weight names are the prefill graph's.
 */
import { add, type DType, type Graph, GraphBuilder } from '../src/ir/index.js';
import type { ModelSpec } from './config.js';
import { cacheStateName, capacitySymbol, decoderLayer, layerPrefix, writeCacheState } from './llama.js';
import { layerRatios } from './prd.js';

export interface DecodeStepOptions {
  /** Storage dtype of the weights; defaults to the config's torch_dtype. */
  weightDtype?: DType;
}

/** Whether each layer is a MoD layer (its weights sit under `decoder_layer.`). */
export function modLayers(spec: ModelSpec): boolean[] {
  const ratios = spec.mod ? layerRatios(spec.mod.schedule, spec.llm.numLayers) : new Array<null>(spec.llm.numLayers).fill(null);
  return ratios.map((r) => spec.mod !== undefined && r !== null);
}

/** Name of the symbol holding layer l's cache length before the step. */
export const cacheSymbol = (l: number): string => `L${l}`;

/** The dynamic symbols of a decode graph: every layer's cache length. */
export const decodeDynamicSymbols = (numLayers: number): string[] => Array.from({ length: numLayers }, (_, l) => cacheSymbol(l));

/**
 * Inputs: `input_ids` i32[N], `positions` i32[N] (true absolute positions: prefill length + step), and the KV-cache
 * state `cache.layer{l}.k` / `.v` f32[C{l}, Hkv, head_dim], `cache.layer{l}.positions` i32[C{l}], holding L{l} valid
 * rows. Outputs: `logits` f32[N, vocab] and the updated caches (the new rows appended at L{l}).
 */
export function buildDecodeStep(spec: ModelSpec, opts: DecodeStepOptions = {}): Graph {
  const cfg = spec.llm;
  const wdt = opts.weightDtype ?? cfg.weightDtype;
  const maxPos = cfg.maxPositions;
  const symbols: Record<string, readonly [number, number]> = { N: [1, maxPos] };
  for (let l = 0; l < cfg.numLayers; l++) {
    symbols[cacheSymbol(l)] = [0, maxPos];
    symbols[capacitySymbol(l)] = [1, maxPos];
  }
  const b = new GraphBuilder(`${spec.name}.decode`, symbols);
  const n = b.sym('N');
  const d = cfg.hiddenSize;
  const ids = b.input('input_ids', 'i32', [n]);
  const positions = b.input('positions', 'i32', [n]);
  const embedTable = b.weight('model.embed_tokens.weight', wdt, [cfg.vocabSize, d]);
  let x = b.cast(b.embedding(embedTable, ids, 'embed_tokens'), 'f32', 'embed_cast');
  modLayers(spec).forEach((isMod, l) => {
    b.scope(`layers.${l}`, () => {
      const len = b.sym(cacheSymbol(l));
      const total = add(len, n);
      // The new rows go into the cache first; attention then reads the valid prefix (old rows and the new ones).
      const out = decoderLayer(b, x, positions, n, cfg, layerPrefix(l, isMod), wdt, (k, v) => {
        const cache = writeCacheState(b, l, cfg, { k, v, positions }, len);
        return {
          k: b.slice(cache.k, 0, 0, total, 'valid_k'),
          v: b.slice(cache.v, 0, 0, total, 'valid_v'),
          positions: b.slice(cache.positions, 0, 0, total, 'valid_positions'),
        };
      });
      x = b.add(out.h1, out.u, 'mlp_residual');
    });
  });
  const hn = b.rmsnorm(x, b.weight('model.norm.weight', wdt, [d]), cfg.rmsNormEps, 'norm');
  const head = cfg.tieWordEmbeddings ? embedTable : b.weight('lm_head.weight', wdt, [cfg.vocabSize, d]);
  b.output('logits', b.linear(hn, head, undefined, 'lm_head'));
  return b.build();
}

export { cacheStateName, capacitySymbol };
