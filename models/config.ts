/**
 * Model specifications: the Llama/Vicuna language model, its p-MoD routing configuration and the LLaVA vision
 * side, read from a Hugging Face `config.json` object (llama, llava_llama, llava, llava_next, pmod_llava_llama).
 */
import type { DType } from '../src/ir/index.js';
import { layerRatios, parseSchedule, type RatioSchedule } from './prd.js';

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

function field<T>(cfg: Json, key: string, check: (v: unknown) => v is T, what: string, source: string, fallback?: T): T {
  const v = cfg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`${source}: missing field '${key}' (${what})`);
  }
  if (!check(v)) throw new ConfigError(`${source}: field '${key}' must be ${what}, got ${JSON.stringify(v)}`);
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
      throw new ConfigError(`${source}: unsupported torch_dtype ${JSON.stringify(t)} (float32 | float16 | bfloat16)`);
  }
}

export function llamaFromHf(cfg: Json, source: string): LlamaConfig {
  const hiddenSize = field(cfg, 'hidden_size', isPosInt, 'a positive integer', source);
  const numHeads = field(cfg, 'num_attention_heads', isPosInt, 'a positive integer', source);
  const numKvHeads = field(cfg, 'num_key_value_heads', isPosInt, 'a positive integer', source, numHeads);
  const headDim = field(cfg, 'head_dim', isPosInt, 'a positive integer', source, Math.floor(hiddenSize / numHeads));
  if (numHeads % numKvHeads !== 0) throw new ConfigError(`${source}: num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`);
  if (headDim % 2 !== 0) throw new ConfigError(`${source}: head dim ${headDim} must be even for RoPE`);
  const ropeScaling = cfg.rope_scaling;
  if (ropeScaling !== undefined && ropeScaling !== null) throw new ConfigError(`${source}: rope_scaling ${JSON.stringify(ropeScaling)} is not supported`);
  const act = cfg.hidden_act ?? 'silu';
  if (act !== 'silu') throw new ConfigError(`${source}: hidden_act '${String(act)}' is not supported (silu)`);
  return {
    hiddenSize,
    numLayers: field(cfg, 'num_hidden_layers', isPosInt, 'a positive integer', source),
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: field(cfg, 'intermediate_size', isPosInt, 'a positive integer', source),
    vocabSize: field(cfg, 'vocab_size', isPosInt, 'a positive integer', source),
    rmsNormEps: field(cfg, 'rms_norm_eps', isNum, 'a number', source, 1e-6),
    ropeTheta: field(cfg, 'rope_theta', isNum, 'a number', source, 10000),
    maxPositions: field(cfg, 'max_position_embeddings', isPosInt, 'a positive integer', source, 4096),
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

function pinpoints(v: unknown, source: string): (readonly [number, number])[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') {
    // LLaVA-NeXT also accepts "(1x1),...,(3x3)" ranges, in multiples of the 336 patch grid.
    const m = /^\((\d+)x(\d+)\),.*,\((\d+)x(\d+)\)$/.exec(v.replace(/\s/g, ''));
    if (!m) throw new ConfigError(`${source}: image_grid_pinpoints '${v}' is not understood`);
    const [a, b, c, d] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
    const out: (readonly [number, number])[] = [];
    for (let i = a; i <= c; i++) for (let j = b; j <= d; j++) out.push([i * 336, j * 336]);
    return out;
  }
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && p.every(isPosInt)))
    throw new ConfigError(`${source}: image_grid_pinpoints must be a list of [height, width] pairs`);
  return v.map((p) => [p[0] as number, p[1] as number] as const);
}

function visionFromHf(cfg: Json, source: string, nested: boolean): VisionConfig {
  const aspect = (nested ? (cfg.image_grid_pinpoints ? 'anyres' : 'pad') : cfg.image_aspect_ratio) ?? 'pad';
  if (typeof aspect !== 'string') throw new ConfigError(`${source}: image_aspect_ratio must be a string`);
  const anyres = aspect.startsWith('anyres');
  const visionCfg = isObj(cfg.vision_config) ? cfg.vision_config : undefined;
  const tower = nested ? String(visionCfg?._name_or_path ?? 'openai/clip-vit-large-patch14-336') : field(cfg, 'mm_vision_tower', isStr, 'a string', source, 'openai/clip-vit-large-patch14-336');
  return {
    imageAspectRatio: aspect,
    visionTower: tower,
    mmHiddenSize: nested ? Number(visionCfg?.hidden_size ?? 1024) : field(cfg, 'mm_hidden_size', isPosInt, 'a positive integer', source, 1024),
    projectorType: nested ? 'mlp2x_gelu' : field(cfg, 'mm_projector_type', isStr, 'a string', source, 'mlp2x_gelu'),
    selectLayer: nested ? Number(cfg.vision_feature_layer ?? -2) : field(cfg, 'mm_vision_select_layer', isNum, 'a number', source, -2),
    gridPinpoints: pinpoints(cfg.image_grid_pinpoints, source),
    patchMergeType: nested ? 'spatial_unpad' : field(cfg, 'mm_patch_merge_type', isStr, 'a string', source, 'flat'),
    defaultVisionTokens: anyres ? 2880 : 576,
  };
}

/** Reads a Hugging Face config.json object. `source` names the file in error messages. */
export function modelFromHfConfig(cfg: unknown, source = 'config.json', name?: string): ModelSpec {
  if (!isObj(cfg)) throw new ConfigError(`${source}: expected a JSON object`);
  const type = field(cfg, 'model_type', isStr, 'a string', source);
  const label = name ?? (typeof cfg._name_or_path === 'string' && cfg._name_or_path ? cfg._name_or_path : type);
  switch (type) {
    case 'llama':
      return { name: label, description: 'Llama decoder', llm: llamaFromHf(cfg, source), defaultTextTokens: 64 };
    case 'llava_llama':
      return { name: label, description: 'LLaVA (Vicuna language model)', llm: llamaFromHf(cfg, source), vision: visionFromHf(cfg, source, false), defaultTextTokens: 60 };
    case 'pmod_llava_llama': {
      const llm = llamaFromHf(cfg, source);
      const mod = modFromHf(cfg, source);
      return {
        name: label,
        description: `p-MoD LLaVA (${layerRatios(mod.schedule, llm.numLayers).filter((r) => r !== null).length} MoD layers of ${llm.numLayers})`,
        llm,
        mod,
        vision: visionFromHf(cfg, source, false),
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
        vision: visionFromHf(cfg, source, true),
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
