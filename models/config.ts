/**
 * Model specifications: the Llama/Vicuna language model, its p-MoD routing configuration and the LLaVA vision
 * side, read from a Hugging Face `config.json` object (llama, llava_llama, llava, llava_next, pmod_llava_llama).
 */
import type { DType } from '../src/ir/index.js';
import { layerRatios, parseSchedule, type RatioSchedule } from './prd.js';
import { showValue } from '../src/io/json.js';
import { MAX_VOCAB_SIZE } from '../src/io/tokenizer/tokenizer-json.js';

export interface LlamaConfig {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly intermediateSize: number;
  readonly vocabSize: number;
  readonly rmsNormEps: number;
  readonly ropeTheta: number;
  readonly maxPositions: number;
  readonly tieWordEmbeddings: boolean;
  /** Storage dtype of the weights (torch_dtype). */
  readonly weightDtype: DType;
}

export type RouterGate = 'tanh' | 'sigmoid' | 'none';

export interface ModConfig {
  readonly schedule: RatioSchedule;
  /** TanhNorm: w = scale * gate(z) + bias (`mod_weight_norm` = "{gate}_{scale}_{bias}"). */
  readonly gate: RouterGate;
  readonly scale: number;
  readonly bias: number;
  readonly routerBias: boolean;
  readonly targetTokenType: 'vision_all';
}

export interface VisionConfig {
  /** 'pad' / 'square' (LLaVA-1.5) or 'anyres' (LLaVA-NeXT). */
  readonly imageAspectRatio: string;
  readonly visionTower: string;
  readonly mmHiddenSize: number;
  readonly projectorType: string;
  readonly selectLayer: number;
  readonly gridPinpoints: readonly (readonly [number, number])[];
  readonly patchMergeType: string;
  /** Vision tokens of a typical image: 576 for LLaVA-1.5, 2880 for a 2x2 LLaVA-NeXT grid. */
  readonly defaultVisionTokens: number;
}

export interface ModelSpec {
  readonly name: string;
  readonly description: string;
  readonly llm: LlamaConfig;
  readonly mod?: ModConfig;
  readonly vision?: VisionConfig;
  /** A typical text-token count for reports (the paper's fitted values). */
  readonly defaultTextTokens: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Json = Readonly<Record<string, unknown>>;

/**
 * Accepted ranges of the size fields of Hugging Face configs. Each bound is several times what the largest
 * released models use (Llama-3.1-405B: 126 layers, hidden 16384, 128 heads, MLP 53248, vocabulary 128256, 131072
 * positions; Gemma: vocabulary 256000; CLIP ViT-bigG: 48 layers, hidden 1664), so no real config is refused, while
 * a typo such as 1e6 layers or a hidden size of 1e300, which would hang a report or exhaust memory, is.
 */
export const SIZE_LIMITS = {
  hidden_size: 65_536,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 4096,
  intermediate_size: 1 << 20,
  vocab_size: MAX_VOCAB_SIZE,
  max_position_embeddings: 1 << 24,
  mm_hidden_size: 65_536,
  image_size: 16_384,
  patch_size: 16_384,
  num_channels: 16,
  image_grid_pinpoints: 256,
  pinpoint_side: 16_384,
} as const;

export type SizeField = keyof typeof SIZE_LIMITS;

/** A positive integer field within its limit (or `fallback` when absent); the error names the field and range. */
export function sizeField(cfg: Json, key: SizeField, source: string, fallback?: number): number {
  const v = cfg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`${source}: missing field '${key}' (an integer in [1, ${SIZE_LIMITS[key]}])`);
  }
  return checkSize(v, key, source);
}

/** Checks a value read as the size field `key` (also for values derived from it, e.g. head_dim). */
export function checkSize(v: unknown, key: SizeField, source: string, label: string = key): number {
  const max = SIZE_LIMITS[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(`${source}: field '${label}' must be an integer in [1, ${max}], got ${showValue(v)}`);
  return v;
}

/** A finite number field in [min, max] (or `fallback` when absent), e.g. rms_norm_eps, rope_theta. */
export function numberField(cfg: Json, key: string, source: string, range: { min: number; max: number; minExclusive?: boolean }, fallback: number): number {
  const v = cfg[key] ?? fallback;
  const low = range.minExclusive ? `(${range.min}` : `[${range.min}`;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < range.min || (range.minExclusive === true && v === range.min) || v > range.max)
    throw new ConfigError(`${source}: field '${key}' must be a number in ${low}, ${range.max}], got ${showValue(v)}`);
  return v;
}

function field<T>(cfg: Json, key: string, check: (v: unknown) => v is T, what: string, source: string, fallback?: T): T {
  const v = cfg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`${source}: missing field '${key}' (${what})`);
  }
  if (!check(v)) throw new ConfigError(`${source}: field '${key}' must be ${what}, got ${showValue(v)}`);
  return v;
}

const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function torchDtype(cfg: Json, source: string): DType {
  const t = cfg.torch_dtype ?? 'float32';
  switch (t) {
    case 'float16':
      return 'f16';
    case 'bfloat16':
      return 'bf16';
    case 'float32':
      return 'f32';
    default:
      throw new ConfigError(`${source}: unsupported torch_dtype ${showValue(t)} (float32 | float16 | bfloat16)`);
  }
}

export function llamaFromHf(cfg: Json, source: string): LlamaConfig {
  const hiddenSize = sizeField(cfg, 'hidden_size', source);
  const numHeads = sizeField(cfg, 'num_attention_heads', source);
  const numKvHeads = sizeField(cfg, 'num_key_value_heads', source, numHeads);
  const headDim = cfg.head_dim === undefined || cfg.head_dim === null ? Math.floor(hiddenSize / numHeads) : sizeField(cfg, 'head_dim', source);
  if (headDim < 1) throw new ConfigError(`${source}: hidden_size ${hiddenSize} is smaller than num_attention_heads ${numHeads}: no room for a head`);
  if (numHeads % numKvHeads !== 0) throw new ConfigError(`${source}: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  if (headDim % 2 !== 0)
    throw new ConfigError(`${source}: ${cfg.head_dim === undefined || cfg.head_dim === null ? `the head dim hidden_size / num_attention_heads = ${headDim}` : `field 'head_dim' (${headDim})`} must be even for RoPE`);
  const ropeScaling = cfg.rope_scaling;
  if (ropeScaling !== undefined && ropeScaling !== null) throw new ConfigError(`${source}: rope_scaling ${showValue(ropeScaling)} is not supported`);
  const act = cfg.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ConfigError(`${source}: hidden_act '${String(act)}' is not supported (silu)`);
  return {
    hiddenSize,
    numLayers: sizeField(cfg, 'num_hidden_layers', source),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: sizeField(cfg, 'intermediate_size', source),
    vocabSize: sizeField(cfg, 'vocab_size', source),
    rmsNormEps: numberField(cfg, 'rms_norm_eps', source, { min: 0, max: 1, minExclusive: true }, 1e-6),
    ropeTheta: numberField(cfg, 'rope_theta', source, { min: 0, max: 1e12, minExclusive: true }, 10000),
    maxPositions: sizeField(cfg, 'max_position_embeddings', source, 4096),
    tieWordEmbeddings: field(cfg, 'tie_word_embeddings', isBool, 'a boolean', source, false),
    weightDtype: torchDtype(cfg, source),
  };
}

export function modFromHf(cfg: Json, source: string): ModConfig {
  const target = field(cfg, 'mod_target_layers', isStr, 'a string', source);
  const factor = field(cfg, 'mod_router_factor', isNum, 'a number', source, 0.5);
  const norm = field(cfg, 'mod_weight_norm', isStr, 'a string', source, 'tanh_0.2_1');
  const tokenType = field(cfg, 'mod_target_token_type', isStr, 'a string', source, 'vision_all');
  if (tokenType !== 'vision_all') throw new ConfigError(`${source}: mod_target_token_type '${tokenType}' is not supported (vision_all)`);
  // Same pattern as the reference code: "{gate}_{scale}_{bias}", else the bare gate with scale 1 and bias 1.
  const m = /^(\w+?)_(\d+\.\d+|\d+)_(-?\d+\.\d+|-?\d+)$/.exec(norm);
  const [gate, scale, bias] = m ? [m[1] ?? '', Number(m[2]), Number(m[3])] : [norm, 1, 1];
  if (gate !== 'tanh' && gate !== 'sigmoid' && gate !== 'none')
    throw new ConfigError(`${source}: mod_weight_norm '${norm}': gate '${gate}' is not supported (tanh | sigmoid | none; softmax mixes tokens and is not a per-token gate)`);
  let schedule: RatioSchedule;
  try {
    schedule = parseSchedule(target, factor);
  } catch (e) {
    throw new ConfigError(`${source}: ${(e as Error).message}`);
  }
  return {
    schedule,
    gate,
    scale,
    bias,
    routerBias: field(cfg, 'mod_bias_enabled', isBool, 'a boolean', source, true),
    targetTokenType: 'vision_all',
  };
}

/** Bounds the candidate grid: each candidate costs a resize and a tile grid per image. */
function checkPinpoints(count: number, sides: readonly number[], source: string): void {
  if (count > SIZE_LIMITS.image_grid_pinpoints) throw new ConfigError(`${source}: image_grid_pinpoints has ${count} candidates, more than ${SIZE_LIMITS.image_grid_pinpoints}`);
  for (const side of sides) checkSize(side, 'pinpoint_side', source, 'image_grid_pinpoints');
}

function pinpoints(v: unknown, source: string): (readonly [number, number])[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') {
    // LLaVA-NeXT also accepts "(1x1),...,(3x3)" ranges, in multiples of the 336 patch grid.
    const m = /^\((\d+)x(\d+)\),.*,\((\d+)x(\d+)\)$/.exec(v.replace(/\s/g, ''));
    if (!m) throw new ConfigError(`${source}: image_grid_pinpoints '${v}' is not understood`);
    const [a, b, c, d] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
    checkPinpoints(Math.max(0, c - a + 1) * Math.max(0, d - b + 1), [a, b, c, d].map((n) => n * 336), source);
    const out: (readonly [number, number])[] = [];
    for (let i = a; i <= c; i++) for (let j = b; j <= d; j++) out.push([i * 336, j * 336]);
    return out;
  }
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && p.every(isPosInt)))
    throw new ConfigError(`${source}: image_grid_pinpoints must be a list of [height, width] pairs`);
  checkPinpoints(v.length, v.flat() as number[], source);
  return v.map((p) => [p[0] as number, p[1] as number] as const);
}

/** The tower layer LLaVA takes features from: an index into the tower's layers, negative from the end. */
function selectLayer(cfg: Json, key: string, source: string): number {
  const v = cfg[key] ?? -2;
  const max = SIZE_LIMITS.num_hidden_layers;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -max || v > max) throw new ConfigError(`${source}: field '${key}' must be an integer in [-${max}, ${max}], got ${showValue(v)}`);
  return v;
}

/** A vision tower's input size and patch size: they set how many vision tokens an image gives. */
export interface TowerGeometry {
  readonly imageSize: number;
  readonly patchSize: number;
}

/** CLIP's tower names carry their geometry: `...-patch14-336` (336-pixel input), `...-patch14` (224). */
function geometryFromName(name: string): TowerGeometry | undefined {
  const m = /patch(\d+)(?:-(\d+))?$/.exec(name);
  if (m === null) return undefined;
  return { patchSize: Number(m[1]), imageSize: m[2] !== undefined ? Number(m[2]) : 224 };
}

/**
 * Vision tokens of a typical image: one crop's patches, or for anyres the base image plus the largest tile grid
 * the pinpoints allow (2880 = 5 x 576 for LLaVA-NeXT's 2x2 grid of 336-pixel tiles; 2x2 without pinpoints).
 */
function typicalVisionTokens(tower: TowerGeometry, anyres: boolean, pinpoints: readonly (readonly [number, number])[]): number {
  const perCrop = Math.floor(tower.imageSize / tower.patchSize) ** 2;
  if (!anyres) return perCrop;
  const tiles = pinpoints.length ? Math.max(...pinpoints.map(([w, h]) => Math.floor(w / tower.imageSize) * Math.floor(h / tower.imageSize))) : 4;
  return perCrop * (1 + tiles);
}

function visionFromHf(cfg: Json, source: string, nested: boolean, towerGeometry?: TowerGeometry): VisionConfig {
  const aspect = (nested ? (cfg.image_grid_pinpoints ? 'anyres' : 'pad') : cfg.image_aspect_ratio) ?? 'pad';
  if (typeof aspect !== 'string') throw new ConfigError(`${source}: image_aspect_ratio must be a string`);
  const anyres = aspect.startsWith('anyres');
  const visionCfg = isObj(cfg.vision_config) ? cfg.vision_config : undefined;
  const tower = nested ? String(visionCfg?._name_or_path ?? 'openai/clip-vit-large-patch14-336') : field(cfg, 'mm_vision_tower', isStr, 'a string', source, 'openai/clip-vit-large-patch14-336');
  const gridPinpoints = pinpoints(cfg.image_grid_pinpoints, source);
  // The tower's geometry: given (a local tower directory), in llava-hf's vision_config (CLIPVisionConfig's defaults
  // when absent), or read from a CLIP tower name; LLaVA's own tower otherwise.
  const where = `${source} vision_config`;
  const geometry =
    towerGeometry ??
    (nested ? { imageSize: sizeField(visionCfg ?? {}, 'image_size', where, 224), patchSize: sizeField(visionCfg ?? {}, 'patch_size', where, 32) } : undefined) ??
    geometryFromName(tower) ?? { imageSize: 336, patchSize: 14 };
  return {
    imageAspectRatio: aspect,
    visionTower: tower,
    mmHiddenSize: nested ? sizeField(visionCfg ?? {}, 'hidden_size', `${source} vision_config`, 1024) : sizeField(cfg, 'mm_hidden_size', source, 1024),
    projectorType: nested ? 'mlp2x_gelu' : field(cfg, 'mm_projector_type', isStr, 'a string', source, 'mlp2x_gelu'),
    selectLayer: selectLayer(cfg, nested ? 'vision_feature_layer' : 'mm_vision_select_layer', source),
    gridPinpoints,
    patchMergeType: nested ? 'spatial_unpad' : field(cfg, 'mm_patch_merge_type', isStr, 'a string', source, 'flat'),
    defaultVisionTokens: typicalVisionTokens(geometry, anyres, gridPinpoints),
  };
}

/** What a config.json alone cannot say: the geometry of a vision tower stored in its own directory. */
export interface HfConfigContext {
  readonly visionTower?: TowerGeometry;
}

/** Reads a Hugging Face config.json object. `source` names the file in error messages. */
export function modelFromHfConfig(cfg: unknown, source = 'config.json', name?: string, context: HfConfigContext = {}): ModelSpec {
  if (!isObj(cfg)) throw new ConfigError(`${source}: the top-level value must be a JSON object`);
  const type = field(cfg, 'model_type', isStr, 'a string', source);
  const label = name ?? (typeof cfg._name_or_path === 'string' && cfg._name_or_path ? cfg._name_or_path : type);
  switch (type) {
    case 'llama':
      return { name: label, description: 'Llama decoder', llm: llamaFromHf(cfg, source), defaultTextTokens: 64 };
    case 'llava_llama':
      return { name: label, description: 'LLaVA (Vicuna language model)', llm: llamaFromHf(cfg, source), vision: visionFromHf(cfg, source, false, context.visionTower), defaultTextTokens: 60 };
    case 'pmod_llava_llama': {
      const llm = llamaFromHf(cfg, source);
      const mod = modFromHf(cfg, source);
      return {
        name: label,
        description: `p-MoD LLaVA (${layerRatios(mod.schedule, llm.numLayers).filter((r) => r !== null).length} MoD layers of ${llm.numLayers})`,
        llm,
        mod,
        vision: visionFromHf(cfg, source, false, context.visionTower),
        defaultTextTokens: 60,
      };
    }
    case 'llava':
    case 'llava_next': {
      const text = cfg.text_config;
      if (!isObj(text)) throw new ConfigError(`${source}: model_type '${type}' needs a 'text_config' object`);
      const merged = { torch_dtype: cfg.torch_dtype, ...text };
      return {
        name: label,
        description: type === 'llava' ? 'LLaVA (HF layout)' : 'LLaVA-NeXT (HF layout)',
        llm: llamaFromHf(merged, `${source} text_config`),
        vision: visionFromHf(cfg, source, true, context.visionTower),
        defaultTextTokens: 60,
      };
    }
    default:
      throw new ConfigError(`${source}: unsupported model_type '${type}' (llama | llava_llama | llava | llava_next | pmod_llava_llama)`);
  }
}

/** The same model with every layer dense: the baseline p-MoD is compared against. */
export function withoutRouting(spec: ModelSpec): ModelSpec {
  return {
    name: `${spec.name} (dense)`,
    description: `${spec.description}, routing removed`,
    llm: spec.llm,
    ...(spec.vision ? { vision: spec.vision } : {}),
    defaultTextTokens: spec.defaultTextTokens,
  };
}

export function hasVisionInput(spec: ModelSpec): boolean {
  return spec.vision !== undefined || spec.mod !== undefined;
}

/** Checks a token budget against the model before anything is built or run. */
export function checkTokenCounts(spec: ModelSpec, visionTokens: number, textTokens: number): void {
  if (!hasVisionInput(spec) && visionTokens > 0) throw new ConfigError(`model '${spec.name}' takes no vision tokens, got N_v = ${visionTokens}`);
  if (!hasVisionInput(spec) && textTokens < 1) throw new ConfigError(`model '${spec.name}' needs at least one text token`);
  const s = visionTokens + textTokens;
  if (s < 1) throw new ConfigError(`empty sequence: N_v = ${visionTokens}, T = ${textTokens}`);
  if (s > spec.llm.maxPositions)
    throw new ConfigError(`sequence of ${s} tokens (N_v = ${visionTokens} + T = ${textTokens}) exceeds max_position_embeddings ${spec.llm.maxPositions} of '${spec.name}'`);
}
