/**
 * CLIP vision-tower configurations: Hugging Face `CLIPVisionConfig` read from a config.json (a CLIP model's
 * `vision_config`, a bare `clip_vision_model`, or a llava-hf model's `vision_config`), and the configurations modc
 * ships (ViT-L/14-336 of LLaVA, a tiny one for tests).
 */
import type { DType, UnaryFn } from '../../src/index.js';
import { ConfigError, type SizeField, sizeField } from '../config.js';
import { showValue } from '../../src/io/json.js';

export interface ClipVisionConfig {
  readonly name: string;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numChannels: number;
  readonly imageSize: number;
  readonly patchSize: number;
  /** The MLP activation as an IR unary function (HF `quick_gelu` -> quick_gelu, `gelu` -> gelu_erf). */
  readonly hiddenAct: UnaryFn;
  readonly layerNormEps: number;
  /** Storage dtype of the checkpoint's weights (torch_dtype). */
  readonly weightDtype: DType;
}

/** `openai/clip-vit-large-patch14-336`, LLaVA-1.5's and LLaVA-NeXT's vision tower: 24x24 patches of 14 pixels. */
export const CLIP_VIT_L14_336: ClipVisionConfig = {
  name: 'openai/clip-vit-large-patch14-336',
  hiddenSize: 1024,
  intermediateSize: 4096,
  numLayers: 24,
  numHeads: 16,
  numChannels: 3,
  imageSize: 336,
  patchSize: 14,
  hiddenAct: 'quick_gelu',
  layerNormEps: 1e-5,
  weightDtype: 'f32',
};

/** A tiny CLIP tower for tests and demos: 16x16 images, 4x4 patches (16 patch tokens), 3 layers of width 32. */
export const TINY_CLIP: ClipVisionConfig = {
  name: 'tiny-clip',
  hiddenSize: 32,
  intermediateSize: 64,
  numLayers: 3,
  numHeads: 4,
  numChannels: 3,
  imageSize: 16,
  patchSize: 4,
  hiddenAct: 'quick_gelu',
  layerNormEps: 1e-5,
  weightDtype: 'f32',
};

/** Patches per side of the square input. */
export function patchesPerSide(cfg: ClipVisionConfig): number {
  return cfg.imageSize / cfg.patchSize;
}

/** Patch tokens of one image (the CLS token not counted): 576 for ViT-L/14-336. */
export function numPatches(cfg: ClipVisionConfig): number {
  return patchesPerSide(cfg) ** 2;
}

const HF_ACTIVATIONS: Readonly<Record<string, UnaryFn>> = {
  quick_gelu: 'quick_gelu',
  gelu: 'gelu_erf',
  gelu_new: 'gelu_tanh',
  gelu_pytorch_tanh: 'gelu_tanh',
  relu: 'relu',
  silu: 'silu',
};

type Json = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks the invariants the graph builder relies on; names `source` in errors. */
export function checkClipVisionConfig(cfg: ClipVisionConfig, source = cfg.name): void {
  const ints: [keyof ClipVisionConfig, unknown][] = [
    ['hiddenSize', cfg.hiddenSize],
    ['intermediateSize', cfg.intermediateSize],
    ['numLayers', cfg.numLayers],
    ['numHeads', cfg.numHeads],
    ['numChannels', cfg.numChannels],
    ['imageSize', cfg.imageSize],
    ['patchSize', cfg.patchSize],
  ];
  for (const [k, v] of ints) if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`${source}: ${k} must be a positive integer, got ${String(v)}`);
  if (cfg.hiddenSize % cfg.numHeads !== 0) throw new ConfigError(`${source}: hidden_size ${cfg.hiddenSize} is not a multiple of num_attention_heads ${cfg.numHeads}`);
  if (cfg.imageSize % cfg.patchSize !== 0) throw new ConfigError(`${source}: image_size ${cfg.imageSize} is not a multiple of patch_size ${cfg.patchSize}`);
  if (!(cfg.layerNormEps > 0)) throw new ConfigError(`${source}: layer_norm_eps must be positive, got ${cfg.layerNormEps}`);
}

function dtypeOf(v: unknown, source: string): DType {
  switch (v ?? 'float32') {
    case 'float32':
      return 'f32';
    case 'float16':
      return 'f16';
    case 'bfloat16':
      return 'bf16';
    default:
      throw new ConfigError(`${source}: unsupported torch_dtype ${showValue(v)} (float32 | float16 | bfloat16)`);
  }
}

/** A size field within the bounds every config.json size is held to (models/config.ts SIZE_LIMITS). */
function positiveInt(cfg: Json, key: SizeField, fallback: number, source: string): number {
  return sizeField(cfg, key, source, fallback);
}

/**
 * Reads the vision tower's configuration from a Hugging Face config.json object: a CLIP model (`model_type` 'clip',
 * fields under `vision_config`), a bare `clip_vision_model`, or a llava / llava_next model's `vision_config`.
 * Missing fields take `CLIPVisionConfig`'s defaults, as transformers does (hidden 768, 12 layers, 12 heads,
 * MLP 3072, image 224, patch 32, quick_gelu, eps 1e-5).
 */
export function clipVisionFromHf(json: unknown, source = 'config.json'): ClipVisionConfig {
  if (!isObj(json)) throw new ConfigError(`${source}: the top-level value must be a JSON object`);
  const type = json.model_type;
  let v: Json;
  let where = source;
  if (type === 'clip_vision_model') v = json;
  else if (type === 'clip' || type === 'llava' || type === 'llava_next') {
    if (!isObj(json.vision_config)) throw new ConfigError(`${source}: model_type '${String(type)}' needs a 'vision_config' object`);
    v = json.vision_config;
    where = `${source} vision_config`;
    const inner = v.model_type;
    if (inner !== undefined && inner !== 'clip_vision_model') throw new ConfigError(`${where}: model_type '${String(inner)}' is not a CLIP vision tower (clip_vision_model)`);
  } else throw new ConfigError(`${source}: unsupported model_type ${showValue(type)} for a vision tower (clip | clip_vision_model | llava | llava_next)`);
  const act = v.hidden_act ?? 'quick_gelu';
  const hiddenAct = typeof act === 'string' ? HF_ACTIVATIONS[act] : undefined;
  if (hiddenAct === undefined) throw new ConfigError(`${where}: hidden_act ${showValue(act)} is not supported (${Object.keys(HF_ACTIVATIONS).join(' | ')})`);
  const eps = v.layer_norm_eps ?? 1e-5;
  if (typeof eps !== 'number' || !(eps > 0)) throw new ConfigError(`${where}: field 'layer_norm_eps' must be a positive number, got ${showValue(eps)}`);
  const name = typeof json._name_or_path === 'string' && json._name_or_path ? json._name_or_path : typeof v._name_or_path === 'string' && v._name_or_path ? v._name_or_path : source;
  const cfg: ClipVisionConfig = {
    name,
    hiddenSize: positiveInt(v, 'hidden_size', 768, where),
    intermediateSize: positiveInt(v, 'intermediate_size', 3072, where),
    numLayers: positiveInt(v, 'num_hidden_layers', 12, where),
    numHeads: positiveInt(v, 'num_attention_heads', 12, where),
    numChannels: positiveInt(v, 'num_channels', 3, where),
    imageSize: positiveInt(v, 'image_size', 224, where),
    patchSize: positiveInt(v, 'patch_size', 32, where),
    hiddenAct,
    layerNormEps: eps,
    weightDtype: dtypeOf(json.torch_dtype ?? v.torch_dtype, source),
  };
  checkClipVisionConfig(cfg, where);
  return cfg;
}

/**
 * Index into HF's `hidden_states` tuple (length numLayers + 1; entry 0 is the embeddings after pre_layrnorm, entry
 * i the output of encoder layer i) that `mm_vision_select_layer` names, Python-style: -2 -> numLayers - 1.
 * It is also the number of encoder layers that must run.
 */
export function selectedHiddenState(numLayers: number, selectLayer: number): number {
  const idx = selectLayer < 0 ? numLayers + 1 + selectLayer : selectLayer;
  if (!Number.isInteger(selectLayer) || idx < 0 || idx > numLayers)
    throw new ConfigError(`mm_vision_select_layer ${selectLayer} is out of range for a tower of ${numLayers} layers (hidden states ${-(numLayers + 1)} .. ${numLayers})`);
  return idx;
}
