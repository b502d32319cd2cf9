/**
 * `modc run --checkpoint DIR`: a Hugging Face checkpoint end to end. With `--prompt` (and `--image`), the chat answer
 * (run-prompt.ts); with `--inputs IN --out OUT`, token ids and vision rows from a safetensors file are run and the
 * logits, routing and greedy continuation are written to a safetensors file (for cross-checking other
 * implementations). Options that do not apply to the mode are refused.
 */
import { type LoadedCheckpoint, spliceImage } from '../../models/index.js';
import { checkOutputFile, FileError, type HostTensor, prefixed, statusLine, writeSafetensorsAsync } from '../index.js';
import { runOutputEntries } from './output-entries.js';
import { MAX_IMAGE_PIXELS } from '../io/image/index.js';
import { GenerationSession } from '../runtime/session.js';
import { Sampler, type SamplingOptions } from '../runtime/sampling.js';
import { choiceOpt, flag, floatOpt, intOpt, type Parsed, refuseOptions, strOpt, UsageError } from './args.js';
import { createExecutor } from './backends.js';
import type { BackendOptions } from '../backends/registry.js';
import { checkCheckpointDir, type CheckpointRunOptions, loadCheckpoint } from './checkpoint-run.js';
import { checkGivenInputs, readInputsFile } from './inputs-file.js';
import type { CommandIO } from './main.js';
import { runPrompt } from './run-prompt.js';

/** Options each checkpoint mode takes (besides --checkpoint, --backend, --progress, --max-new-tokens). */
const PROMPT_OPTIONS = ['prompt', 'image', 'max-image-pixels', 'vision-tower', 'template', 'temperature', 'top-p', 'top-k', 'seed', 'ids', 'json'];
const INPUTS_OPTIONS = ['inputs', 'out'];
const COMMON = ['checkpoint', 'backend', 'progress', 'max-new-tokens', 'cache-dir', 'no-cache', 'verbose'];

/** Why an option does not apply, where a generic message would not say what to do instead. */
const WHY: Readonly<Record<string, string>> = {
  'vision-tokens': 'the image gives the vision tokens',
  'text-tokens': 'the prompt gives the text tokens',
  dtype: "the checkpoint's tensors give the dtype",
  'max-weight-gib': 'it limits random weights',
  image: 'give image_features or vision_embeds in the --inputs file',
  temperature: 'an --inputs run is greedy',
  'top-p': 'an --inputs run is greedy',
  'top-k': 'an --inputs run is greedy',
  seed: 'an --inputs run is greedy',
  json: 'the --out file holds the results',
};

function samplingOptions(p: Parsed): SamplingOptions {
  const temperature = floatOpt(p, 'temperature', 0);
  const topP = floatOpt(p, 'top-p', 1);
  if (temperature < 0) throw new UsageError(`--temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new UsageError(`--top-p must be in (0, 1], got ${topP}`);
  // Greedy decoding draws nothing: the sampler's options would be silently ignored.
  if (temperature === 0) refuseOptions(p, ['top-p', 'top-k', 'seed'], 'greedy decoding: give --temperature T > 0 to sample', true);
  return { temperature, topP, topK: intOpt(p, 'top-k', 0), seed: intOpt(p, 'seed', 0) };
}

/** Runs a checkpoint in the mode the options choose. */
export async function runCheckpoint(p: Parsed, backend: string, io: CommandIO, out: (s: string) => void, backendOpts: BackendOptions = {}): Promise<number> {
  const dir = strOpt(p, 'checkpoint') ?? '';
  if (p.positionals.length) throw new UsageError(`--checkpoint takes no model argument, got '${p.positionals.join(' ')}'`);
  const prompt = strOpt(p, 'prompt');
  const inputs = strOpt(p, 'inputs');
  const outPath = strOpt(p, 'out');
  requireOne(prompt, inputs, outPath);
  const mode = inputs !== undefined ? INPUTS_OPTIONS : PROMPT_OPTIONS;
  refuseOptions(p, [...COMMON, ...mode], inputs !== undefined ? 'with --inputs' : 'with --prompt', false, WHY);
  const image = strOpt(p, 'image');
  if (image === undefined) refuseOptions(p, ['vision-tower', 'max-image-pixels'], 'without --image', true);
  const sampling = inputs !== undefined ? { temperature: 0 } : samplingOptions(p);
  // Before anything is loaded or computed: a bad --out, or no checkpoint at all, would otherwise fail late.
  if (outPath !== undefined) checkOutputFile(outPath, prefixed(FileError));
  checkCheckpointDir(dir);
  const executor = await createExecutor(backend, backendOpts);
  try {
    const common = { dir, executor, sampling, progress: flag(p, 'progress') };
    if (inputs !== undefined && outPath !== undefined) return await runInputs({ ...common, maxNewTokens: intOpt(p, 'max-new-tokens', 0), inputs, out: outPath }, io, out);
    const visionTower = strOpt(p, 'vision-tower');
    return await runPrompt(
      {
        ...common,
        maxNewTokens: intOpt(p, 'max-new-tokens', 64),
        prompt: prompt ?? '',
        template: choiceOpt(p, 'template', ['vicuna_v1', 'none'] as const, 'vicuna_v1'),
        maxImagePixels: intOpt(p, 'max-image-pixels', MAX_IMAGE_PIXELS, 1),
        showIds: flag(p, 'ids'),
        json: flag(p, 'json'),
        ...(image !== undefined ? { image } : {}),
        ...(visionTower !== undefined ? { visionTower } : {}),
      },
      io,
    );
  } finally {
    await executor.dispose();
  }
}

/**
 * `--inputs IN --out OUT`. OUT holds `logits` f32[S, vocab] (every prefill position), `routing.layer{l}` i32[k_l]
 * (kept vision-token indices of each MoD layer, ascending, counted from the first vision token) and, when
 * maxNewTokens N > 0, `generated_ids` i32[M] and `generated_logits` f32[M, vocab] (greedy); M = N unless an EOS
 * token was chosen first, in which case M < N rows end with that EOS token (metadata `stop` says which).
 */
export async function runInputs(o: CheckpointRunOptions & { inputs: string; out: string }, io: CommandIO, out: (s: string) => void): Promise<number> {
  const given = readInputsFile(o.inputs);
  const ck = loadCheckpoint(o, io);
  try {
    return await runGivenInputs(o, io, out, given, ck);
  } finally {
    ck.close();
  }
}

async function runGivenInputs(o: CheckpointRunOptions & { inputs: string; out: string }, io: CommandIO, out: (s: string) => void, given: ReturnType<typeof readInputsFile>, ck: LoadedCheckpoint): Promise<number> {
  checkGivenInputs(o.inputs, given, ck.spec, ck.projector !== undefined, o.maxNewTokens);
  const session = await GenerationSession.create(o.executor, { prefill: ck.prefillAllLogits, decode: ck.decode }, ck.weights);
  try {
    let vision = given.visionEmbeds;
    if (given.imageFeatures && ck.projector) {
      const feats: HostTensor = { ...given.imageFeatures, dtype: 'f32' };
      const projector = await o.executor.prepare(ck.projector, ck.weights);
      vision = (await projector.run({ image_features: feats })).vision_embeds;
      projector.dispose();
    }
    const spliced = spliceImage(ck.spec, given.ids, vision, o.maxNewTokens);
    const running = statusLine(io.progress, `running ${spliced.length} tokens${o.maxNewTokens ? ` and ${o.maxNewTokens} new ones` : ''} (the first run compiles the plan)`);
    const res = await session.generate(spliced.inputs, { maxNewTokens: o.maxNewTokens, sampler: new Sampler({ temperature: 0 }), eosTokenIds: ck.generation.eosTokenIds, onToken: (_id, step) => running.update(`token ${step + 1}`) });
    running.done();
    const entries = runOutputEntries({
      logits: res.prefill.logits, outputs: res.prefill.outputs, visionStart: spliced.visionStart ?? 0,
      tokens: res.tokens, tokenLogits: res.logits, vocab: ck.spec.llm.vocabSize, maxNewTokens: o.maxNewTokens,
    });
    await writeSafetensorsAsync(o.out, entries, {
      format: 'modc',
      model_type: ck.modelType,
      sequence_length: String(spliced.length),
      vision_tokens: String(spliced.visionTokens),
      vision_start: spliced.visionStart === undefined ? '' : String(spliced.visionStart),
      max_new_tokens: String(o.maxNewTokens),
      generated: String(res.tokens.length),
      stop: o.maxNewTokens > 0 ? res.stop : '',
    });
    const gen = o.maxNewTokens > 0 ? `, ${res.tokens.length} generated tokens${res.stop === 'eos' ? ' (stopped at EOS)' : ''}` : '';
    out(`wrote ${o.out}: logits [${res.prefill.logits.shape.join(', ')}], routing of ${entries.filter((e) => e.name.startsWith('routing.')).length} MoD layers${gen}`);
  } finally {
    session.dispose();
  }
  return 0;
}

export function requireOne(prompt: string | undefined, inputs: string | undefined, outPath: string | undefined): void {
  if (prompt !== undefined && inputs !== undefined) throw new UsageError('give --prompt or --inputs, not both');
  if (prompt === undefined && inputs === undefined) throw new UsageError('--checkpoint needs --prompt TEXT or --inputs IN.safetensors --out OUT.safetensors');
  if (inputs !== undefined && outPath === undefined) throw new UsageError('--inputs needs --out OUT.safetensors');
  if (inputs === undefined && outPath !== undefined) throw new UsageError('--out goes with --inputs');
}
