/**
 * The decode step of a (p-MoD) LLaVA language model: new text tokens run densely through every layer (no router,
 * no reweighting; method doc section 4), each layer attending to its own KV cache, whose length differs per layer
 * (MoD layers cache only text + their kept vision tokens). Weight names are the prefill graph's.
 */
import { type DType, type Graph, GraphBuilder } from '../src/index.js';
import type { ModelSpec } from './config.js';
import { decoderLayer, layerPrefix } from './llama.js';
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

/** Name of the symbol holding layer l's cache length. */
export const cacheSymbol = (l: number): string => `C${l}`;

/**
 * Inputs: `input_ids` i32[N], `positions` i32[N] (true absolute positions: prefill length + step), and per layer l
 * `cache.layer{l}.k` / `.v` f32[C_l, Hkv, head_dim] and `cache.layer{l}.positions` i32[C_l].
 * Outputs: `logits` f32[N, vocab] and per layer the new tokens' `kv.layer{l}.k` / `.v` f32[N, Hkv, head_dim].
 */
export function buildDecodeStep(spec: ModelSpec, opts: DecodeStepOptions = {}): Graph {
  const cfg = spec.llm;
  const wdt = opts.weightDtype ?? cfg.weightDtype;
  const maxPos = cfg.maxPositions;
  const symbols: Record<string, readonly [number, number]> = { N: [1, maxPos] };
  for (let l = 0; l < cfg.numLayers; l++) symbols[cacheSymbol(l)] = [0, maxPos];
  const b = new GraphBuilder(`${spec.name}.decode`, symbols);
  const n = b.sym('N');
  const { hiddenSize: d, numKvHeads: hkv, headDim: hd } = cfg;
  const ids = b.input('input_ids', 'i32', [n]);
  const positions = b.input('positions', 'i32', [n]);
  const embedTable = b.weight('model.embed_tokens.weight', wdt, [cfg.vocabSize, d]);
  let x = b.cast(b.embedding(embedTable, ids, 'embed_tokens'), 'f32', 'embed_cast');
  modLayers(spec).forEach((isMod, l) => {
    b.scope(`layers.${l}`, () => {
      const c = b.sym(cacheSymbol(l));
      const past = {
        k: b.input(`cache.layer${l}.k`, 'f32', [c, hkv, hd]),
        v: b.input(`cache.layer${l}.v`, 'f32', [c, hkv, hd]),
        positions: b.input(`cache.layer${l}.positions`, 'i32', [c]),
      };
      const out = decoderLayer(b, x, positions, n, cfg, layerPrefix(l, isMod), wdt, past);
      x = b.add(out.h1, out.u, 'mlp_residual');
      b.output(`kv.layer${l}.k`, out.k);
      b.output(`kv.layer${l}.v`, out.v);
    });
  });
  const hn = b.rmsnorm(x, b.weight('model.norm.weight', wdt, [d]), cfg.rmsNormEps, 'norm');
  const head = cfg.tieWordEmbeddings ? embedTable : b.weight('lm_head.weight', wdt, [cfg.vocabSize, d]);
  b.output('logits', b.linear(hn, head, undefined, 'lm_head'));
  return b.build();
}
