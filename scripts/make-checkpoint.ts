/**
 * Writes tiny random checkpoints in exact Hugging Face layout for tests and demos: config.json,
 * generation_config.json, tokenizer files, and the weights as model.safetensors or as shards with
 * model.safetensors.index.json. Kinds: Llama/Vicuna, LLaVA-1.5, p-MoD-LLaVA, p-MoD-LLaVA-NeXT (image_newline), and
 * llava-hf's `llava` / `llava_next` layouts.
 *
 * CLI (scripts/make-checkpoint-cli.ts): npm run make-checkpoint -- --kind pmod-llava --dtype bf16 --out DIR (--help for all)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildClipVisionTower, buildDecodeStep, buildLanguageModel, buildProjector, checkpointLayout, clipVisionFromHf, modelFromHfConfig, type ModelSpec, PMOD_CONFIG_FIELDS } from '../models/index.js';
import { type DType, graphWeights, type HostTensor, INDEX_FILE, makeTensor, roundInPlace, SINGLE_FILE, ST_DTYPE_BYTES, tensorEntry, type TensorEntry, writeSafetensors } from '../src/index.js';
import { writeTokenizerFiles } from './fixture-tokenizer.js';

export const FIXTURE_KINDS = ['llama', 'llava-1.5', 'pmod-llava', 'pmod-llava-next', 'llava-hf', 'llava-next-hf'] as const;
export type FixtureKind = (typeof FIXTURE_KINDS)[number];

export interface FixtureOptions {
  readonly kind: FixtureKind;
  readonly dtype: 'f32' | 'f16' | 'bf16';
  /** 1 writes model.safetensors; more writes model-0000i-of-0000n.safetensors and the index. */
  readonly shards?: number;
  readonly seed?: number;
  /** Model sizes (the defaults make a model that runs in milliseconds). */
  readonly hiddenSize?: number;
  readonly numLayers?: number;
  readonly numHeads?: number;
  readonly numKvHeads?: number;
  readonly intermediateSize?: number;
  readonly vocabSize?: number;
  readonly tieWordEmbeddings?: boolean;
  /** Tokenizer files to write (false: none). Default: tokenizer.model only, as LLaVA checkpoints ship. */
  readonly tokenizer?: 'model' | 'json' | 'both' | false;
  /**
   * The vision tower: 'stub' (default) embeds a few token tower tensors, as a checkpoint's leftovers; 'full' gives
   * a runnable tiny CLIP tower: embedded for llava-hf layouts, a local `vision_tower/` directory named by
   * `mm_vision_tower` for LLaVA layouts.
   */
  readonly visionTower?: 'stub' | 'full';
  /** Fields that replace the generated config.json's (e.g. image_grid_pinpoints for the tiny tower). */
  readonly configOverrides?: Readonly<Record<string, unknown>>;
}

/** The tiny CLIP tower of the fixtures (llava-hf `vision_config`, and the separate tower's config.json). */
export const TINY_TOWER_CONFIG = {
  model_type: 'clip_vision_model',
  hidden_size: 32,
  intermediate_size: 64,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  image_size: 28,
  patch_size: 14,
  projection_dim: 32,
  hidden_act: 'quick_gelu',
  layer_norm_eps: 1e-5,
} as const;

/** Pinpoints on the tiny tower's 28-pixel grid, for LLaVA-NeXT anyres with it. */
export const TINY_TOWER_PINPOINTS = [[28, 56], [56, 28], [56, 56]] as const;

const TORCH_DTYPE: Record<FixtureOptions['dtype'], string> = { f32: 'float32', f16: 'float16', bf16: 'bfloat16' };

/** The config.json of a fixture, as the corresponding Hugging Face / LLaVA code writes it. */
export function fixtureConfig(o: FixtureOptions): Record<string, unknown> {
  const d = o.hiddenSize ?? 64;
  const llm = {
    hidden_size: d,
    intermediate_size: o.intermediateSize ?? 2 * d,
    num_hidden_layers: o.numLayers ?? 8,
    num_attention_heads: o.numHeads ?? 4,
    num_key_value_heads: o.numKvHeads ?? Math.max(1, Math.floor((o.numHeads ?? 4) / 2)),
    vocab_size: o.vocabSize ?? 384,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    max_position_embeddings: 512,
    hidden_act: 'silu',
    tie_word_embeddings: o.tieWordEmbeddings ?? false,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
    initializer_range: 0.02,
    rope_scaling: null,
    attention_bias: false,
  };
  const mm = {
    mm_vision_tower: 'openai/clip-vit-large-patch14-336',
    mm_hidden_size: 32,
    mm_projector_type: 'mlp2x_gelu',
    mm_vision_select_layer: -2,
    mm_vision_select_feature: 'patch',
    mm_use_im_start_end: false,
    mm_use_im_patch_token: false,
    image_aspect_ratio: 'pad',
    mm_patch_merge_type: 'flat',
    tune_mm_mlp_adapter: false,
    freeze_mm_mlp_adapter: false,
  };
  const next = { image_aspect_ratio: 'anyres', mm_patch_merge_type: 'spatial_unpad', image_grid_pinpoints: [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]] };
  const pmod = PMOD_CONFIG_FIELDS;
  const torch_dtype = TORCH_DTYPE[o.dtype];
  const common = { torch_dtype, transformers_version: '4.37.2', use_cache: true };
  const hfVision = TINY_TOWER_CONFIG;
  const full = o.visionTower === 'full';
  // A runnable tower sits in its own directory for LLaVA layouts; its 28-pixel tiles need pinpoints on that grid
  // (LLaVA-NeXT's 336-pixel pinpoints would cut every image into hundreds of crops).
  const towerFields = {
    ...(full && !o.kind.endsWith('-hf') && o.kind !== 'llama' ? { mm_vision_tower: 'vision_tower' } : {}),
    ...(full && (o.kind === 'pmod-llava-next' || o.kind === 'llava-next-hf') ? { image_grid_pinpoints: TINY_TOWER_PINPOINTS } : {}),
  };
  return { ...baseConfig(o, llm, mm, next, pmod, common, hfVision), ...towerFields, ...o.configOverrides };
}

function baseConfig(
  o: FixtureOptions,
  llm: Record<string, unknown>,
  mm: Record<string, unknown>,
  next: { image_grid_pinpoints: readonly (readonly number[])[] } & Record<string, unknown>,
  pmod: Record<string, unknown>,
  common: Record<string, unknown>,
  hfVision: Record<string, unknown>,
): Record<string, unknown> {
  switch (o.kind) {
    case 'llama':
      return { architectures: ['LlamaForCausalLM'], model_type: 'llama', ...llm, ...common };
    case 'llava-1.5':
      return { architectures: ['LlavaLlamaForCausalLM'], model_type: 'llava_llama', ...llm, ...mm, ...common };
    case 'pmod-llava':
      return { architectures: ['PmodLlavaLlamaForCausalLM'], model_type: 'pmod_llava_llama', ...llm, ...mm, ...pmod, ...common };
    case 'pmod-llava-next':
      return { architectures: ['PmodLlavaLlamaForCausalLM'], model_type: 'pmod_llava_llama', ...llm, ...mm, ...next, ...pmod, ...common };
    case 'llava-hf':
      return { architectures: ['LlavaForConditionalGeneration'], model_type: 'llava', text_config: { model_type: 'llama', ...llm }, vision_config: hfVision, projector_hidden_act: 'gelu', vision_feature_layer: -2, vision_feature_select_strategy: 'default', image_token_index: 32000, ...common };
    case 'llava-next-hf':
      return {
        architectures: ['LlavaNextForConditionalGeneration'],
        model_type: 'llava_next',
        text_config: { model_type: 'llama', ...llm },
        vision_config: hfVision,
        projector_hidden_act: 'gelu',
        vision_feature_layer: -2,
        vision_feature_select_strategy: 'default',
        image_grid_pinpoints: next.image_grid_pinpoints,
        image_token_index: 32000,
        tie_word_embeddings: o.tieWordEmbeddings ?? false,
        ...common,
      };
  }
}

/**
 * Uniform numbers in [-1, 1) from xorshift32. (Not the project's Rng: its Math.imul runs about 40 times slower
 * inside jest's module sandbox, which made multi-MB fixtures take tens of seconds in tests.)
 */
function uniform(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2147483648 - 1;
  };
}

/** Random values scaled like a trained model's: Linear weights std 1/sqrt(fan_in), norms 1 +- noise, others small. */
function fixtureTensor(name: string, dtype: DType, shape: readonly number[], next: () => number): HostTensor {
  const t = makeTensor(dtype, shape);
  const isNorm = /norm\.weight$/.test(name);
  const std = isNorm ? 0.1 : shape.length >= 2 ? 1 / Math.sqrt(shape[shape.length - 1] ?? 1) : 0.1;
  const a = std * Math.sqrt(3); // uniform on [-a, a) has standard deviation std
  for (let i = 0; i < t.data.length; i++) t.data[i] = (isNorm ? 1 : 0) + a * next();
  roundInPlace(dtype, t.data);
  return t;
}

/** Every tensor of a CLIP vision checkpoint (tiny tower), names under `prefix`, post_layernorm included. */
export function visionTowerTensors(prefix: string, dtype: DType, next: () => number): [string, HostTensor][] {
  const clip = clipVisionFromHf(TINY_TOWER_CONFIG);
  const g = buildClipVisionTower(clip, { selectLayer: -1, prefix, weightDtype: dtype });
  const out: [string, HostTensor][] = graphWeights(g).map((w) => [w.attrs.name, fixtureTensor(w.attrs.name, dtype, w.attrs.shape.map((d) => (typeof d === 'number' ? d : 0)), next)]);
  // The last layer norm is in every CLIP checkpoint though LLaVA's features never use it.
  out.push([`${prefix}post_layernorm.weight`, fixtureTensor('post_layernorm.weight', dtype, [clip.hiddenSize], next)]);
  out.push([`${prefix}post_layernorm.bias`, fixtureTensor('post_layernorm.bias', dtype, [clip.hiddenSize], next)]);
  return out;
}

/** Writes the tiny CLIP tower as its own Hugging Face checkpoint (config.json, preprocessor_config.json, weights). */
export function writeVisionTower(dir: string, o: { dtype: 'f32' | 'f16' | 'bf16'; seed?: number }): string {
  mkdirSync(dir, { recursive: true });
  const tensors = visionTowerTensors('vision_model.', o.dtype, uniform((o.seed ?? 0) + 7));
  writeSafetensors(join(dir, SINGLE_FILE), tensors.map(([n, t]) => tensorEntry(n, t, o.dtype === 'f32' ? 'F32' : o.dtype === 'f16' ? 'F16' : 'BF16')), { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['CLIPVisionModel'], ...TINY_TOWER_CONFIG, torch_dtype: TORCH_DTYPE[o.dtype] }, null, 2));
  const size = TINY_TOWER_CONFIG.image_size;
  writeFileSync(
    join(dir, 'preprocessor_config.json'),
    JSON.stringify({ crop_size: { height: size, width: size }, do_center_crop: true, do_normalize: true, do_resize: true, image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], resample: 3, rescale_factor: 1 / 255, size: { shortest_edge: size } }, null, 2),
  );
  return dir;
}

/** Vision-side tensors a real checkpoint carries (a token CLIP tower, image_newline), under the layout's names. */
function visionTensors(kind: FixtureKind, spec: ModelSpec, dtype: DType, next: () => number, full: boolean): [string, HostTensor][] {
  if (kind === 'llama') return [];
  const rand = (shape: number[]): HostTensor => fixtureTensor('vision', dtype, shape, next);
  const hf = kind === 'llava-hf' || kind === 'llava-next-hf';
  const tower = hf ? 'vision_tower.vision_model' : 'model.vision_tower.vision_tower.vision_model';
  const mm = spec.vision?.mmHiddenSize ?? 32;
  // A full LLaVA-layout tower goes in its own directory (see writeCheckpoint); llava-hf embeds it.
  const out: [string, HostTensor][] = full
    ? hf
      ? visionTowerTensors(`${tower}.`, dtype, next)
      : []
    : [
        [`${tower}.embeddings.patch_embedding.weight`, rand([mm, 3, 14, 14])],
        [`${tower}.embeddings.class_embedding`, rand([mm])],
        [`${tower}.post_layernorm.weight`, rand([mm])],
      ];
  if (kind === 'pmod-llava-next' || kind === 'llava-next-hf') out.push([hf ? 'image_newline' : 'model.image_newline', rand([spec.llm.hiddenSize])]);
  return out;
}

export interface WrittenCheckpoint {
  readonly dir: string;
  readonly spec: ModelSpec;
  readonly config: Record<string, unknown>;
  /** Checkpoint tensor names -> values written (graph-bound tensors and vision-side extras). */
  readonly tensors: ReadonlyMap<string, HostTensor>;
  readonly files: readonly string[];
}

/** Writes a fixture checkpoint into `dir` (created if needed). Deterministic for a given seed. */
export function writeCheckpoint(dir: string, o: FixtureOptions): WrittenCheckpoint {
  mkdirSync(dir, { recursive: true });
  const config = fixtureConfig(o);
  const spec = modelFromHfConfig(config, join(dir, 'config.json'));
  const seed = o.seed ?? 0;
  const graphs = [buildLanguageModel(spec, { exportKV: true }), buildDecodeStep(spec), ...(spec.vision ? [buildProjector(spec)] : [])];
  const next = uniform(seed);
  const layout = checkpointLayout(String(config.model_type), spec.llm.tieWordEmbeddings);
  const tensors = new Map<string, HostTensor>();
  for (const g of graphs) {
    for (const w of graphWeights(g)) {
      const name = layout.candidates(w.attrs.name)[0] ?? w.attrs.name;
      if (tensors.has(name)) continue;
      const shape = w.attrs.shape.map((d) => (typeof d === 'number' ? d : 0));
      tensors.set(name, fixtureTensor(w.attrs.name, w.attrs.dtype, shape, next));
    }
  }
  const full = o.visionTower === 'full';
  for (const [name, t] of visionTensors(o.kind, spec, o.dtype, next, full)) tensors.set(name, t);
  if (full && spec.vision && !o.kind.endsWith('-hf')) writeVisionTower(join(dir, 'vision_tower'), { dtype: o.dtype, seed });
  const entries: TensorEntry[] = [...tensors].map(([name, t]) => tensorEntry(name, t, o.dtype === 'f32' ? 'F32' : o.dtype === 'f16' ? 'F16' : 'BF16'));
  const files = writeWeights(dir, entries, o.shards ?? 1);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ _from_model_config: true, bos_token_id: 1, eos_token_id: 2, pad_token_id: 0, max_length: 512, transformers_version: '4.37.2' }, null, 2));
  if (o.tokenizer !== false) writeTokenizerFiles(dir, { vocabSize: spec.llm.vocabSize, files: o.tokenizer ?? 'model' });
  return { dir, spec, config, tensors, files };
}

/** Splits the tensors into `shards` files of similar size (in order) and writes the index when sharded. */
function writeWeights(dir: string, entries: readonly TensorEntry[], shards: number): string[] {
  if (!Number.isInteger(shards) || shards < 1 || shards > entries.length) throw new RangeError(`shards must be an integer in [1, ${entries.length}], got ${shards}`);
  if (shards === 1) {
    writeSafetensors(join(dir, SINGLE_FILE), entries, { format: 'pt' });
    return [SINGLE_FILE];
  }
  const size = (e: TensorEntry): number => e.shape.reduce((a, b) => a * b, 1) * ST_DTYPE_BYTES[e.stDtype];
  const total = entries.reduce((a, e) => a + size(e), 0);
  const groups: TensorEntry[][] = Array.from({ length: shards }, () => []);
  let acc = 0;
  entries.forEach((e, i) => {
    // Every shard gets at least one tensor; otherwise cut by cumulative size.
    const left = entries.length - i;
    let g = Math.min(shards - 1, Math.floor((acc / total) * shards));
    const filled = groups.findIndex((x) => x.length === 0);
    if (filled >= 0 && shards - filled >= left) g = filled;
    groups[g]?.push(e);
    acc += size(e);
  });
  const pad = (n: number): string => String(n).padStart(5, '0');
  const names = groups.map((_, i) => `model-${pad(i + 1)}-of-${pad(shards)}.safetensors`);
  const weightMap: Record<string, string> = {};
  groups.forEach((g, i) => {
    const file = names[i] ?? '';
    writeSafetensors(join(dir, file), g, { format: 'pt' });
    for (const e of g) weightMap[e.name] = file;
  });
  writeFileSync(join(dir, INDEX_FILE), JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2));
  return [...names, INDEX_FILE];
}
