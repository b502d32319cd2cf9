/**
 * Opening a Hugging Face checkpoint directory as a runnable model: config.json -> ModelSpec, the checkpoint's
 * tensor layout (LLaVA / p-MoD names, or llava-hf's `language_model.` / `multi_modal_projector.` names), the
 * prefill, decode and projector graphs in the checkpoint's dtype, validated binding and streamed weight loading,
 * and the generation defaults of generation_config.json.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BindingPlan,
  type CheckpointLayout,
  checkpointFloatDtype,
  type DType,
  type Graph,
  prefixed,
  readJsonFile,
  planBinding,
  type Progress,
  SafetensorsStore,
  weightSpecs,
} from '../src/index.js';
import { CheckpointStore } from './checkpoint-store.js';
import { ConfigError, modelFromHfConfig, type ModelSpec } from './config.js';
import { buildDecodeStep } from './decode.js';
import { buildLanguageModel } from './llama.js';
import { buildProjector } from './projector.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Tensors that belong to the vision side or are derived, whatever the layout. */
function sharedElsewhere(name: string): string | undefined {
  if (/(^|\.)vision_tower\./.test(name)) return 'vision tower (CLIP), run by the vision side';
  if (/^(model\.)?image_newline$/.test(name)) return 'LLaVA-NeXT image_newline, used when the anyres vision tokens are assembled';
  if (/\.rotary_emb\.inv_freq$/.test(name)) return 'RoPE inverse frequencies, recomputed from rope_theta';
  return undefined;
}

/** The checkpoint layout of a model_type, given whether the LM head is tied to the embeddings. */
export function checkpointLayout(modelType: string, tied: boolean): CheckpointLayout {
  const tiedHead = (name: string): string | undefined => (tied && /(^|\.)lm_head\.weight$/.test(name) ? 'tied to the token embeddings (tie_word_embeddings)' : undefined);
  if (modelType === 'llava' || modelType === 'llava_next') {
    // transformers' LlavaForConditionalGeneration: `language_model.model.*` before v4.52, `model.language_model.*` after.
    return {
      candidates: (name) => {
        const proj = /^model\.mm_projector\.(\d+)\.(weight|bias)$/.exec(name);
        if (proj) {
          const linear = `linear_${Number(proj[1]) / 2 + 1}.${proj[2] ?? ''}`;
          return [`multi_modal_projector.${linear}`, `model.multi_modal_projector.${linear}`];
        }
        if (name === 'lm_head.weight') return ['language_model.lm_head.weight', 'lm_head.weight'];
        if (name.startsWith('model.')) return [`language_model.${name}`, `model.language_model.${name.slice('model.'.length)}`];
        return [name];
      },
      usedElsewhere: (name) => sharedElsewhere(name) ?? tiedHead(name),
    };
  }
  return { candidates: (name) => [name], usedElsewhere: (name) => sharedElsewhere(name) ?? tiedHead(name) };
}

export interface GenerationDefaults {
  /** Token ids that end generation (generation_config.json, else config.json). */
  readonly eosTokenIds: readonly number[];
  readonly bosTokenId: number | undefined;
}

/** A checkpoint's model, graphs and binding, from its config and tensor headers alone. */
export interface CheckpointInfo {
  readonly dir: string;
  readonly modelType: string;
  readonly spec: ModelSpec;
  /** The graphs' weight dtype: the checkpoint's float dtype (f32 if it mixes 16-bit formats). */
  readonly weightDtype: DType;
  /** Prefill graph of generation: logits of the last position, routing, and the KV cache written into state. */
  readonly prefill: Graph;
  /** The same with the logits of every position (`--inputs/--out`). */
  readonly prefillAllLogits: Graph;
  readonly decode: Graph;
  /** The multimodal projector, for models with a vision side. */
  readonly projector: Graph | undefined;
  readonly plan: BindingPlan;
  readonly layout: CheckpointLayout;
  readonly generation: GenerationDefaults;
}

export interface LoadedCheckpoint extends CheckpointInfo {
  /**
   * The bound weights, read when a backend uploads them (nothing is held on the host); `close()` closes the files
   * once the model's graphs are prepared or done with.
   */
  readonly weights: CheckpointStore;
  close(): void;
}

function readJson(path: string): Json {
  const v = readJsonFile(path, prefixed(ConfigError), { what: 'config file' });
  if (!isObj(v)) throw new ConfigError(`${path}: expected a JSON object`);
  return v;
}

function tokenIds(v: unknown, what: string, source: string): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = Array.isArray(v) ? v : [v];
  if (!list.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0)) throw new ConfigError(`${source}: '${what}' must be a token id or a list of token ids, got ${JSON.stringify(v)}`);
  return list as number[];
}

/** Token ids that end generation and the BOS id: generation_config.json, else config.json. */
export function generationDefaults(dir: string, config: Json): GenerationDefaults {
  const genPath = join(dir, 'generation_config.json');
  const gen = existsSync(genPath) ? readJson(genPath) : {};
  const text = isObj(config.text_config) ? config.text_config : {};
  const cfgPath = join(dir, 'config.json');
  const eos = tokenIds(gen.eos_token_id, 'eos_token_id', genPath) ?? tokenIds(config.eos_token_id, 'eos_token_id', cfgPath) ?? tokenIds(text.eos_token_id, 'text_config.eos_token_id', cfgPath) ?? [];
  const bos = tokenIds(gen.bos_token_id, 'bos_token_id', genPath) ?? tokenIds(config.bos_token_id, 'bos_token_id', cfgPath) ?? tokenIds(text.bos_token_id, 'text_config.bos_token_id', cfgPath);
  return { eosTokenIds: eos, bosTokenId: bos?.[0] };
}

export interface OpenCheckpointOptions {
  /** A progress reporter over the bytes to load (see progressBar in src/io). */
  progress?: (totalBytes: number) => Progress;
}

/** The model of a checkpoint directory without its weights: spec and config (for help, reports, validation). */
export function readCheckpointConfig(dir: string): { spec: ModelSpec; config: Json; modelType: string } {
  if (!existsSync(dir)) throw new ConfigError(`${dir}: no such checkpoint directory`);
  const cfgPath = join(dir, 'config.json');
  if (!existsSync(cfgPath)) throw new ConfigError(`${dir}: no config.json (a Hugging Face checkpoint directory holds config.json and *.safetensors)`);
  const config = readJson(cfgPath);
  const spec = modelFromHfConfig(config, cfgPath);
  return { spec, config, modelType: String(config.model_type) };
}

function graphsFor(spec: ModelSpec, wdt: DType): { prefill: Graph; prefillAllLogits: Graph; decode: Graph; projector: Graph | undefined } {
  return {
    prefill: buildLanguageModel(spec, { weightDtype: wdt, kvState: true, lastLogits: true, exportRouting: true }),
    prefillAllLogits: buildLanguageModel(spec, { weightDtype: wdt, kvState: true, exportRouting: true }),
    decode: buildDecodeStep(spec, { weightDtype: wdt }),
    projector: spec.vision ? buildProjector(spec, { weightDtype: wdt }) : undefined,
  };
}

/**
 * A checkpoint's model from its config and tensor headers: the graphs in the tensors' dtype and the validated
 * binding of every graph weight (one CheckpointError lists every missing, unexpected and mis-shaped tensor).
 * Nothing is read beyond the headers.
 */
export function inspectCheckpoint(dir: string, tensors: SafetensorsStore, read: ReturnType<typeof readCheckpointConfig> = readCheckpointConfig(dir)): CheckpointInfo {
  const { spec: declared, config, modelType } = read;
  const layout = checkpointLayout(modelType, declared.llm.tieWordEmbeddings);
  // The graphs follow the tensors' dtype, whatever torch_dtype claims.
  const provisional = graphsFor(declared, declared.llm.weightDtype);
  const provisionalSpecs = weightSpecs([provisional.prefill, provisional.decode, ...(provisional.projector ? [provisional.projector] : [])]);
  const wdt = checkpointFloatDtype(tensors, provisionalSpecs, layout) ?? declared.llm.weightDtype;
  const spec: ModelSpec = { ...declared, llm: { ...declared.llm, weightDtype: wdt } };
  const graphs = wdt === declared.llm.weightDtype ? provisional : graphsFor(spec, wdt);
  const specs = weightSpecs([graphs.prefill, graphs.decode, ...(graphs.projector ? [graphs.projector] : [])]);
  const plan = planBinding(dir, tensors, specs, layout);
  return { dir, modelType, spec, weightDtype: wdt, ...graphs, plan, layout, generation: generationDefaults(dir, config) };
}

/**
 * Opens a checkpoint: inspects it (see inspectCheckpoint); weights are read when a backend uploads them (the
 * progress reporter follows those reads) and the files stay open until `close()`.
 */
export function openCheckpoint(dir: string, opts: OpenCheckpointOptions = {}): LoadedCheckpoint {
  // The config first: a directory that is not a checkpoint is reported as such before its tensors are looked for.
  const config = readCheckpointConfig(dir);
  const tensors = SafetensorsStore.fromDir(dir);
  try {
    const info = inspectCheckpoint(dir, tensors, config);
    const weights = new CheckpointStore(tensors, info.plan, opts.progress?.(info.plan.storedBytes));
    return { ...info, weights, close: () => weights.close() };
  } catch (e) {
    tensors.close();
    throw e;
  }
}
