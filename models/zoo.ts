/**
 * The model zoo: LLaVA-1.5-7B, LLaVA-NeXT-7B, their p-MoD variants (as the Hugging Face configs of the released
 * checkpoints describe them) and tiny configurations for tests and demos.
 */
import { modelFromHfConfig, type ModelSpec } from './config.js';

/** Vicuna-7B v1.5 (Llama-2 architecture), the language model of LLaVA-1.5-7B and LLaVA-NeXT-7B. */
const VICUNA_7B = {
  hidden_size: 4096,
  intermediate_size: 11008,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 32,
  vocab_size: 32000,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  max_position_embeddings: 4096,
  hidden_act: 'silu',
  tie_word_embeddings: false,
  torch_dtype: 'float16',
} as const;

const LLAVA_15 = {
  mm_vision_tower: 'openai/clip-vit-large-patch14-336',
  mm_hidden_size: 1024,
  mm_projector_type: 'mlp2x_gelu',
  mm_vision_select_layer: -2,
  mm_vision_select_feature: 'patch',
  image_aspect_ratio: 'pad',
  mm_patch_merge_type: 'flat',
} as const;

const LLAVA_NEXT = {
  ...LLAVA_15,
  image_aspect_ratio: 'anyres',
  mm_patch_merge_type: 'spatial_unpad',
  image_grid_pinpoints: [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]],
} as const;

/** The `mod_*` fields of the released p-MoD checkpoints (MCG-NJU/p-MoD-LLaVA-v1.5-7B, -NeXT-7B). */
export const PMOD_CONFIG_FIELDS = {
  mod_target_layers: 'shiftedcos_decay_0.85_0.15',
  mod_router_factor: 0.5,
  mod_weight_norm: 'tanh_0.2_1',
  mod_bias_enabled: true,
  mod_special_init: true,
  mod_target_token_type: 'vision_all',
} as const;

export const HF_CONFIGS = {
  'llava-1.5-7b': { model_type: 'llava_llama', ...VICUNA_7B, ...LLAVA_15 },
  'pmod-llava-1.5-7b': { model_type: 'pmod_llava_llama', ...VICUNA_7B, ...LLAVA_15, ...PMOD_CONFIG_FIELDS },
  'llava-next-7b': { model_type: 'llava_llama', ...VICUNA_7B, ...LLAVA_NEXT },
  'pmod-llava-next-7b': { model_type: 'pmod_llava_llama', ...VICUNA_7B, ...LLAVA_NEXT, ...PMOD_CONFIG_FIELDS },
} as const;

/** A tiny p-MoD LLaVA: 8 layers (6 of them MoD under PRD), GQA, runs in milliseconds on the reference backend. */
export const TINY_PMOD: ModelSpec = {
  name: 'tiny-pmod',
  description: 'tiny p-MoD LLaVA for tests (d=64, 8 layers, 4 heads / 2 KV heads)',
  llm: {
    hiddenSize: 64,
    numLayers: 8,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    intermediateSize: 128,
    vocabSize: 256,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    maxPositions: 512,
    tieWordEmbeddings: false,
    weightDtype: 'f32',
  },
  mod: {
    schedule: { kind: 'decay', curve: 'shiftedcos', maxRatio: 0.85, minRatio: 0.15, shift: 0.5 },
    gate: 'tanh',
    scale: 0.2,
    bias: 1,
    routerBias: true,
    targetTokenType: 'vision_all',
  },
  vision: {
    imageAspectRatio: 'pad',
    visionTower: 'tiny-clip',
    mmHiddenSize: 32,
    projectorType: 'mlp2x_gelu',
    selectLayer: -2,
    gridPinpoints: [],
    patchMergeType: 'flat',
    defaultVisionTokens: 32,
  },
  defaultTextTokens: 16,
};

/** The same tiny model without routing (every layer dense). */
export const TINY_LLAVA: ModelSpec = {
  name: 'tiny-llava',
  description: 'tiny dense LLaVA for tests (the tiny-pmod model without routing)',
  llm: TINY_PMOD.llm,
  ...(TINY_PMOD.vision ? { vision: TINY_PMOD.vision } : {}),
  defaultTextTokens: TINY_PMOD.defaultTextTokens,
};

export type ZooName = keyof typeof HF_CONFIGS | 'tiny-pmod' | 'tiny-llava';

export function zooModel(name: ZooName): ModelSpec {
  if (name === 'tiny-pmod') return TINY_PMOD;
  if (name === 'tiny-llava') return TINY_LLAVA;
  const spec = modelFromHfConfig(HF_CONFIGS[name], `models/zoo.ts:${name}`, name);
  const defaults = name.includes('next') ? { defaultTextTokens: 165 } : { defaultTextTokens: 60 };
  return { ...spec, ...defaults };
}

export const ZOO_NAMES: readonly ZooName[] = ['llava-1.5-7b', 'pmod-llava-1.5-7b', 'llava-next-7b', 'pmod-llava-next-7b', 'tiny-pmod', 'tiny-llava'];

export function isZooName(s: string): s is ZooName {
  return (ZOO_NAMES as readonly string[]).includes(s);
}
