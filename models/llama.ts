/**
 * The Llama/Vicuna decoder as a graph, dense or p-MoD. Vision tokens enter as embeddings scattered into the
 * sequence at given positions; in a MoD layer they are the routable tokens. Weight names follow the Hugging Face
 * checkpoint layout exactly (method doc section 6), so a checkpoint binds by name.
 */
import { add, type Dim, type DType, floorMul, type Graph, GraphBuilder, sub, type Value } from '../src/ir/index.js';
import { hasVisionInput, type LlamaConfig, type ModConfig, type ModelSpec } from './config.js';
import { layerRatios } from './prd.js';

export interface LanguageModelOptions {
  /** Storage dtype of the weights; defaults to the config's torch_dtype. */
  weightDtype?: DType;
  /** Bounds of the symbols T (text tokens) and N_v (vision tokens). */
  maxTextTokens?: number;
  maxVisionTokens?: number;
  /**
   * Export each layer's KV cache: post-RoPE keys and values as `kv.layer{l}.k` / `.v` and the position ids of the
   * cached tokens as `kv.layer{l}.positions` (all S for dense layers; text + kept vision tokens for MoD layers).
   */
  exportKV?: boolean;
  /**
   * Write each layer's KV cache into device-resident state instead: inputs `cache.layer{l}.k` / `.v`
   * f32[C{l}, Hkv, head_dim] and `cache.layer{l}.positions` i32[C{l}] (C{l}: a symbol, layer l's cache capacity,
   * smaller in MoD layers) receive the layer's cached rows at offset 0 (cacheWrite) and are outputs of the same
   * names (updated in place).
   */
  kvState?: boolean;
  /** Compute logits for the last position only (`logits` f32[1, vocab]): the generation path's prefill. */
  lastLogits?: boolean;
  /** Export each MoD layer's kept vision-token indices as `routing.layer{l}`. */
  exportRouting?: boolean;
  /** Export the final hidden states (after the last RMSNorm) as `hidden`. */
  exportHidden?: boolean;
}

interface LayerOut {
  h1: Value;
  u: Value;
  k: Value;
  v: Value;
}

/** Weight-name prefix of layer l: MoD layers wrap the decoder layer under `decoder_layer.`. */
export function layerPrefix(l: number, isMod: boolean): string {
  return isMod ? `model.layers.${l}.decoder_layer` : `model.layers.${l}`;
}

/** Keys, values and original positions of tokens a layer already processed (its KV cache). */
export interface PastKV {
  /** Post-RoPE keys [C, Hkv, head_dim]. */
  k: Value;
  /** Values [C, Hkv, head_dim]. */
  v: Value;
  /** Position ids of the cached tokens [C] (ascending; MoD layers hold text + their kept vision tokens). */
  positions: Value;
}

/**
 * The keys, values and positions the new tokens attend to, given their own post-RoPE keys and values: a KV cache
 * the caller appends them to (the returned tensors hold the cached tokens followed by the new ones).
 */
export type AttendTo = (k: Value, v: Value) => PastKV;

/**
 * One Llama decoder layer on n tokens, split as h1 = x + Attn(RMSNorm(x)), u = MLP(RMSNorm(h1)). With `attendTo`,
 * the new tokens attend to what it returns (the cached tokens and themselves, causal over original positions);
 * the returned k / v are the new tokens' only.
 */
export function decoderLayer(b: GraphBuilder, x: Value, positions: Value, n: Dim, cfg: LlamaConfig, wp: string, wdt: DType, attendTo?: AttendTo): LayerOut {
  const { hiddenSize: d, numHeads: h, numKvHeads: hkv, headDim: hd, intermediateSize: m } = cfg;
  const w = (name: string, shape: readonly Dim[]): Value => b.weight(`${wp}.${name}`, wdt, shape);
  const attn = b.scope('self_attn', () => {
    const xn = b.rmsnorm(x, w('input_layernorm.weight', [d]), cfg.rmsNormEps, 'input_layernorm');
    const q = b.reshape(b.linear(xn, w('self_attn.q_proj.weight', [h * hd, d]), undefined, 'q_proj'), [n, h, hd], 'q_heads');
    const k = b.reshape(b.linear(xn, w('self_attn.k_proj.weight', [hkv * hd, d]), undefined, 'k_proj'), [n, hkv, hd], 'k_heads');
    const v = b.reshape(b.linear(xn, w('self_attn.v_proj.weight', [hkv * hd, d]), undefined, 'v_proj'), [n, hkv, hd], 'v_heads');
    const qr = b.rope(q, positions, cfg.ropeTheta, hd, 'q_rope');
    const kr = b.rope(k, positions, cfg.ropeTheta, hd, 'k_rope');
    const all = attendTo ? attendTo(kr, v) : { k: kr, v, positions };
    const [kAll, vAll, posAll] = [all.k, all.v, all.positions];
    const o = b.attention(qr, kAll, vAll, positions, posAll, { scale: 1 / Math.sqrt(hd), causal: true }, 'attention');
    const out = b.linear(b.reshape(o, [n, h * hd], 'merge_heads'), w('self_attn.o_proj.weight', [d, h * hd]), undefined, 'o_proj');
    return { out, k: kr, v };
  });
  const h1 = b.add(x, attn.out, 'attn_residual');
  const u = b.scope('mlp', () => {
    const hn = b.rmsnorm(h1, w('post_attention_layernorm.weight', [d]), cfg.rmsNormEps, 'post_attention_layernorm');
    const gate = b.unary('silu', b.linear(hn, w('mlp.gate_proj.weight', [m, d]), undefined, 'gate_proj'), 'act');
    const up = b.linear(hn, w('mlp.up_proj.weight', [m, d]), undefined, 'up_proj');
    return b.linear(b.mul(gate, up, 'gate_mul'), w('mlp.down_proj.weight', [d, m]), undefined, 'down_proj');
  });
  return { h1, u, k: attn.k, v: attn.v };
}

/** Name of the symbol holding layer l's KV-cache capacity (rows allocated). */
export const capacitySymbol = (l: number): string => `C${l}`;

/** Name of the state tensor holding part `part` of layer l's KV cache. */
export const cacheStateName = (l: number, part: 'k' | 'v' | 'positions'): string => `cache.layer${l}.${part}`;

/**
 * Writes a layer's cached rows (post-RoPE keys, values, position ids) into its KV-cache state at `offset`: the
 * state inputs [C{l}, ...] and the outputs of the same names. Returns the updated caches.
 */
export function writeCacheState(b: GraphBuilder, l: number, cfg: LlamaConfig, rows: PastKV, offset: Dim): PastKV {
  const cap = b.sym(capacitySymbol(l));
  const { numKvHeads: hkv, headDim: hd } = cfg;
  const inK = b.input(cacheStateName(l, 'k'), 'f32', [cap, hkv, hd]);
  const inV = b.input(cacheStateName(l, 'v'), 'f32', [cap, hkv, hd]);
  const inP = b.input(cacheStateName(l, 'positions'), 'i32', [cap]);
  const out = {
    k: b.cacheWrite(inK, rows.k, offset, 'cache_k'),
    v: b.cacheWrite(inV, rows.v, offset, 'cache_v'),
    positions: b.cacheWrite(inP, rows.positions, offset, 'cache_positions'),
  };
  b.output(cacheStateName(l, 'k'), out.k);
  b.output(cacheStateName(l, 'v'), out.v);
  b.output(cacheStateName(l, 'positions'), out.positions);
  return out;
}

function gateParams(mod: ModConfig): { alpha: number; bias: number } {
  if (mod.gate !== 'tanh') throw new Error(`router gate '${mod.gate}' has no modRoute lowering yet (only tanh, the p-MoD TanhNorm)`);
  return { alpha: mod.scale, bias: mod.bias };
}

/**
 * Builds the prefill graph of a (p-MoD) LLaVA language model or a plain Llama.
 * Inputs: `input_ids` i32[T + N_v] (vision slots hold any valid id; they are overwritten), and for models with
 * vision `vision_embeds` f32[N_v, d] and `vision_positions` i32[N_v]. Output `logits` f32[T + N_v, vocab].
 */
export function buildLanguageModel(spec: ModelSpec, opts: LanguageModelOptions = {}): Graph {
  const cfg = spec.llm;
  const wdt = opts.weightDtype ?? cfg.weightDtype;
  const hasVision = hasVisionInput(spec);
  const maxPos = cfg.maxPositions;
  const symbols: Record<string, readonly [number, number]> = { T: [hasVision ? 0 : 1, opts.maxTextTokens ?? maxPos] };
  if (hasVision) symbols.N_v = [0, opts.maxVisionTokens ?? maxPos];
  if (opts.kvState) for (let l = 0; l < cfg.numLayers; l++) symbols[capacitySymbol(l)] = [1, maxPos];
  const b = new GraphBuilder(spec.name, symbols);
  const T = b.sym('T');
  const nv: Dim = hasVision ? b.sym('N_v') : 0;
  const s = hasVision ? add(T, nv) : T;
  const d = cfg.hiddenSize;

  const ids = b.input('input_ids', 'i32', [s]);
  const embedTable = b.weight('model.embed_tokens.weight', wdt, [cfg.vocabSize, d]);
  let x = b.cast(b.embedding(embedTable, ids, 'embed_tokens'), 'f32', 'embed_cast');
  const positions = b.iota(s, 'position_ids');
  let routable: Value | undefined;
  if (hasVision) {
    const vis = b.input('vision_embeds', 'f32', [nv, d]);
    const visPos = b.input('vision_positions', 'i32', [nv]);
    x = b.scatterRows(x, visPos, vis, 'merge_vision');
    routable = b.scatterRows(b.full(0, 'bool', [s], 'text_mask'), visPos, b.full(1, 'bool', [nv], 'vision_ones'), 'routable_mask');
  }

  const ratios = spec.mod ? layerRatios(spec.mod.schedule, cfg.numLayers) : new Array<null>(cfg.numLayers).fill(null);
  ratios.forEach((ratio, l) => {
    b.scope(`layers.${l}`, () => {
      if (ratio === null || spec.mod === undefined || routable === undefined) {
        const out = decoderLayer(b, x, positions, s, cfg, layerPrefix(l, false), wdt);
        x = b.add(out.h1, out.u, 'mlp_residual');
        if (opts.kvState) writeCacheState(b, l, cfg, { k: out.k, v: out.v, positions }, 0);
        if (opts.exportKV) {
          b.output(`kv.layer${l}.k`, out.k);
          b.output(`kv.layer${l}.v`, out.v);
          b.output(`kv.layer${l}.positions`, positions);
        }
        return;
      }
      const mod = spec.mod;
      const rw = b.weight(`model.layers.${l}.router.router.weight`, wdt, [1, d]);
      const rb = mod.routerBias ? b.weight(`model.layers.${l}.router.router.bias`, wdt, [1]) : b.full(0, wdt, [1], 'router_bias');
      const capacity = floorMul(nv, ratio);
      const res = b.modRoute(
        x,
        positions,
        routable,
        rw,
        rb,
        { capacity, routableCount: nv, ratio, ...gateParams(mod) },
        (rb2, xk, pk) => {
          const kept = add(T, capacity);
          const out = decoderLayer(rb2, xk, pk, kept, cfg, layerPrefix(l, true), wdt);
          const extras = opts.exportKV || opts.kvState ? [{ name: 'k', value: out.k }, { name: 'v', value: out.v }, { name: 'positions', value: pk }] : [];
          return { h1: out.h1, u: out.u, extras };
        },
        'route',
      );
      x = res.y;
      if (opts.exportRouting) b.output(`routing.layer${l}`, res.kept);
      if (opts.kvState) {
        const [k, v, p] = res.extras;
        if (k && v && p) writeCacheState(b, l, cfg, { k, v, positions: p }, 0);
      }
      if (opts.exportKV) {
        const [k, v, p] = res.extras;
        if (k && v && p) {
          b.output(`kv.layer${l}.k`, k);
          b.output(`kv.layer${l}.v`, v);
          b.output(`kv.layer${l}.positions`, p);
        }
      }
    });
  });
  if (opts.lastLogits) x = b.slice(x, 0, sub(s, 1), s, 'last_position');
  const hn = b.rmsnorm(x, b.weight('model.norm.weight', wdt, [d]), cfg.rmsNormEps, 'norm');
  if (opts.exportHidden) b.output('hidden', hn);
  const head = cfg.tieWordEmbeddings ? embedTable : b.weight('lm_head.weight', wdt, [cfg.vocabSize, d]);
  b.output('logits', b.linear(hn, head, undefined, 'lm_head'));
  return b.build();
}
