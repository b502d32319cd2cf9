/**
 * The CLIP ViT vision tower as a graph (Hugging Face `CLIPVisionModel`), cut at the hidden state LLaVA selects.
 * One image per run: the attention op has no batch dimension, and a fixed [3, S, S] input keeps the graph free of
 * symbols so it is prepared once and reused for every crop (LLaVA-NeXT runs it 3-5 times per image).
 * Weight names are the checkpoint's, under a configurable prefix.
 */
import { type DType, type Graph, GraphBuilder, type Value } from '../../src/index.js';
import { type ClipVisionConfig, checkClipVisionConfig, numPatches, patchesPerSide, selectedHiddenState } from './clip-config.js';

/** Weight-name prefix of the tower inside a LLaVA checkpoint. */
export const LLAVA_VISION_TOWER_PREFIX = 'model.vision_tower.vision_tower.vision_model.';
/** Weight-name prefix in the tower's own checkpoint (`openai/clip-vit-large-patch14-336`). */
export const CLIP_VISION_PREFIX = 'vision_model.';

/** Which tokens of the selected hidden state are returned: LLaVA's `mm_vision_select_feature`. */
export type SelectFeature = 'patch' | 'cls_patch';

export interface ClipTowerOptions {
  /** `mm_vision_select_layer`: index into hidden_states, Python-style (default -2, the penultimate layer). */
  selectLayer?: number;
  /** 'patch' drops the CLS token (default), 'cls_patch' keeps it. */
  selectFeature?: SelectFeature;
  /** Prepended to every weight name (default 'vision_model.'). */
  prefix?: string;
  /** Storage dtype of the weights (default: the config's). Compute is f32. */
  weightDtype?: DType;
  /** Graph name (default: the config's name). */
  name?: string;
}

/** Input and output names of the tower graph. */
export const CLIP_INPUT = 'pixel_values';
export const CLIP_OUTPUT = 'image_features';

/** Tokens the tower returns per image: patches, plus the CLS token for 'cls_patch'. */
export function clipFeatureTokens(cfg: ClipVisionConfig, selectFeature: SelectFeature = 'patch'): number {
  return numPatches(cfg) + (selectFeature === 'cls_patch' ? 1 : 0);
}

interface LayerWeights {
  w: (name: string, shape: readonly number[]) => Value;
}

/** One pre-LN encoder layer: x + Attn(LN1(x)), then + MLP(LN2(.)), bidirectional attention with biases. */
function encoderLayer(b: GraphBuilder, x: Value, positions: Value, cfg: ClipVisionConfig, seq: number, { w }: LayerWeights): Value {
  const { hiddenSize: d, numHeads: h, intermediateSize: m } = cfg;
  const hd = d / h;
  const attn = b.scope('self_attn', () => {
    const xn = b.layernorm(x, w('layer_norm1.weight', [d]), w('layer_norm1.bias', [d]), cfg.layerNormEps, 'layer_norm1');
    const proj = (p: string): Value => b.reshape(b.linear(xn, w(`self_attn.${p}.weight`, [d, d]), w(`self_attn.${p}.bias`, [d]), p), [seq, h, hd], `${p}_heads`);
    const [q, k, v] = [proj('q_proj'), proj('k_proj'), proj('v_proj')];
    const o = b.attention(q, k, v, positions, positions, { scale: 1 / Math.sqrt(hd), causal: false }, 'attention');
    return b.linear(b.reshape(o, [seq, d], 'merge_heads'), w('self_attn.out_proj.weight', [d, d]), w('self_attn.out_proj.bias', [d]), 'out_proj');
  });
  const h1 = b.add(x, attn, 'attn_residual');
  const mlp = b.scope('mlp', () => {
    const hn = b.layernorm(h1, w('layer_norm2.weight', [d]), w('layer_norm2.bias', [d]), cfg.layerNormEps, 'layer_norm2');
    const up = b.unary(cfg.hiddenAct, b.linear(hn, w('mlp.fc1.weight', [m, d]), w('mlp.fc1.bias', [m]), 'fc1'), 'act');
    return b.linear(up, w('mlp.fc2.weight', [d, m]), w('mlp.fc2.bias', [d]), 'fc2');
  });
  return b.add(h1, mlp, 'mlp_residual');
}

/**
 * Builds the tower: input `pixel_values` f32 [C, S, S] (one preprocessed image), output `image_features` f32
 * [P, hidden] (P = (S / patch)^2 for 'patch', +1 for 'cls_patch') = hidden_states[selectLayer] of HF's
 * CLIPVisionModel, rows in raster order of the patch grid. Only the encoder layers before the selected hidden state
 * are built (23 of 24 for LLaVA's -2); post_layernorm is never applied to hidden states and is not part of it.
 */
export function buildClipVisionTower(cfg: ClipVisionConfig, opts: ClipTowerOptions = {}): Graph {
  checkClipVisionConfig(cfg);
  const selectFeature = opts.selectFeature ?? 'patch';
  const layers = selectedHiddenState(cfg.numLayers, opts.selectLayer ?? -2);
  const prefix = opts.prefix ?? CLIP_VISION_PREFIX;
  const wdt = opts.weightDtype ?? cfg.weightDtype;
  const { hiddenSize: d, patchSize: p, imageSize: s, numChannels: c } = cfg;
  const g = patchesPerSide(cfg);
  const n = numPatches(cfg);
  const seq = n + 1;
  const b = new GraphBuilder(opts.name ?? cfg.name);
  const weight = (name: string, shape: readonly number[]): Value => b.weight(`${prefix}${name}`, wdt, shape);

  const pixels = b.input(CLIP_INPUT, 'f32', [c, s, s]);
  let x = b.scope('embeddings', () => {
    // The stride-p, bias-free p x p convolution is a matmul over non-overlapping patches: cut [C, S, S] into
    // [g, g, C, p, p] (patch row, patch col, then the kernel's own (c, ky, kx) order) and apply the kernel as a
    // [hidden, C*p*p] linear layer.
    const grid = b.reshape(pixels, [c, g, p, g, p], 'patch_grid');
    const patches = b.reshape(b.transpose(grid, [1, 3, 0, 2, 4], 'patch_major'), [n, c * p * p], 'patches');
    const kernel = b.reshape(weight('embeddings.patch_embedding.weight', [d, c, p, p]), [d, c * p * p], 'patch_kernel');
    const patchEmbeds = b.linear(patches, kernel, undefined, 'patch_embedding');
    const cls = b.reshape(b.cast(weight('embeddings.class_embedding', [d]), 'f32', 'class_cast'), [1, d], 'class_embedding');
    const tokens = b.concat([cls, patchEmbeds], 0, 'tokens');
    // position_ids = arange(seq), so the lookup is the whole table in order.
    const pos = b.cast(weight('embeddings.position_embedding.weight', [seq, d]), 'f32', 'position_cast');
    return b.add(tokens, pos, 'position_embedding');
  });
  x = b.layernorm(x, weight('pre_layrnorm.weight', [d]), weight('pre_layrnorm.bias', [d]), cfg.layerNormEps, 'pre_layrnorm');
  // The attention op takes positions even when it is not causal; they are unused then.
  const positions = b.iota(seq, 'positions');
  for (let l = 0; l < layers; l++) {
    const w = (name: string, shape: readonly number[]): Value => weight(`encoder.layers.${l}.${name}`, shape);
    x = b.scope(`layers.${l}`, () => encoderLayer(b, x, positions, cfg, seq, { w }));
  }
  const features = selectFeature === 'patch' ? b.slice(x, 0, 1, seq, 'select_patches') : x;
  b.output(CLIP_OUTPUT, features);
  return b.build();
}
