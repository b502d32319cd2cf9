/**
 * `modc run --checkpoint DIR`: a Hugging Face checkpoint end to end. With `--prompt` (and `--image`), the vicuna_v1
 * chat answer is streamed to stdout; with `--inputs IN --out OUT`, token ids and vision rows from a safetensors file are run and
 * the logits, routing and greedy continuation are written to a safetensors file (for cross-checking other
 * implementations).
 */
import {
  clipEncoder,
  imageToVisionEmbeddings,
  InputError,
  llavaImageCrops,
  type LoadedCheckpoint,
  openCheckpoint,
  openVisionTower,
  readCheckpointConfig,
  readImageNewline,
  spliceImage,
} from '../../models/index.js';
import {
  chatPrompt,
  type HostTensor,
  IMAGE_PLACEHOLDER,
  loadImage,
  loadTokenizer,
  makeTensor,
  progressBar,
  StreamDecoder,
  tensorEntry,
  type TensorEntry,
  tokenizeWithImages,
  writeSafetensorsAsync,
} from '../index.js';
import { GenerationSession } from '../runtime/session.js';
import { Sampler, type SamplingOptions } from '../runtime/sampling.js';
import type { Executor } from '../runtime/executor.js';
import type { CommandIO } from './main.js';
import { UsageError } from './args.js';
import { checkGivenInputs, readInputsFile } from './inputs-file.js';

export interface CheckpointRunOptions {
  readonly dir: string;
  readonly executor: Executor;
  readonly maxNewTokens: number;
  readonly sampling: SamplingOptions;
  /** Draw the loading progress bar even when stderr is not a terminal. */
  readonly progress: boolean;
}

function load(o: CheckpointRunOptions, io: CommandIO): LoadedCheckpoint {
  return openCheckpoint(o.dir, { progress: (total) => progressBar(io.progress, total, 'loading weights', o.progress || io.progress.isTTY === true) });
}

/** The vision embeddings of one image: tower, crops (anyres), projector, image_newline. */
async function imageEmbeddings(o: CheckpointRunOptions, ck: LoadedCheckpoint, imagePath: string, towerDir: string | undefined, maxPixels: number, io: CommandIO): Promise<HostTensor> {
  const vision = ck.spec.vision;
  if (vision === undefined || ck.projector === undefined) throw new InputError(`model '${ck.spec.name}' has no vision side: --image needs a LLaVA checkpoint`);
  const image = loadImage(imagePath, { maxPixels });
  const { config } = readCheckpointConfig(ck.dir);
  const tower = openVisionTower(ck.dir, ck.spec, config, {
    ...(towerDir !== undefined ? { towerDir } : {}),
    progress: (total) => progressBar(io.progress, total, 'loading vision tower', o.progress || io.progress.isTTY === true),
  });
  const crops = llavaImageCrops(image, vision, tower.tower).crops.length;
  io.progress.write(`encoding ${imagePath} (${image.width}x${image.height}, ${crops} crop${crops === 1 ? '' : 's'}) with ${tower.source}\n`);
  const clip = await o.executor.prepare(tower.graph, tower.weights);
  const projector = await o.executor.prepare(ck.projector, ck.weights);
  try {
    const imageNewline = readImageNewline(ck.dir);
    return await imageToVisionEmbeddings(image, {
      vision,
      tower: tower.tower,
      encode: clipEncoder(clip),
      project: async (features) => {
        const out = (await projector.run({ image_features: features })).vision_embeds;
        if (out === undefined) throw new InputError('the projector graph has no vision_embeds output');
        return out;
      },
      ...(imageNewline ? { imageNewline } : {}),
    });
  } finally {
    clip.dispose();
    projector.dispose();
  }
}

/** `--prompt`: the chat answer, streamed to stdout as tokens arrive. With `--image`, LLaVA's image input. */
export async function runPrompt(o: CheckpointRunOptions & { prompt: string; template: 'vicuna_v1' | 'none'; image?: string; visionTower?: string; maxImagePixels: number }, io: CommandIO): Promise<number> {
  if (o.prompt.includes(IMAGE_PLACEHOLDER) && o.image === undefined) throw new InputError('the prompt contains <image>: give the image with --image FILE');
  if (o.visionTower !== undefined && o.image === undefined) throw new UsageError('--vision-tower goes with --image');
  const tokenizer = loadTokenizer(o.dir);
  const ck = load(o, io);
  if (tokenizer.vocabSize > ck.spec.llm.vocabSize)
    throw new InputError(`${tokenizer.source}: tokenizer has ${tokenizer.vocabSize} tokens, the model's vocabulary ${ck.spec.llm.vocabSize}`);
  // LLaVA puts the image before the question when the question does not place it: "<image>\n" + question.
  const question = o.image !== undefined && !o.prompt.includes(IMAGE_PLACEHOLDER) ? `${IMAGE_PLACEHOLDER}\n${o.prompt}` : o.prompt;
  const text = o.template === 'vicuna_v1' ? chatPrompt(question) : question;
  const ids = tokenizeWithImages(text, tokenizer);
  const vision = o.image !== undefined ? await imageEmbeddings(o, ck, o.image, o.visionTower, o.maxImagePixels, io) : undefined;
  const { inputs } = spliceImage(ck.spec, ids, vision, o.maxNewTokens);
  const eos = ck.generation.eosTokenIds.length ? ck.generation.eosTokenIds : tokenizer.eosId !== undefined ? [tokenizer.eosId] : [];
  const session = await GenerationSession.create(o.executor, ck, ck.weights);
  const stream = new StreamDecoder(tokenizer);
  try {
    await session.generate(inputs, {
      maxNewTokens: o.maxNewTokens,
      sampler: new Sampler(o.sampling),
      eosTokenIds: eos,
      onToken: (id) => {
        const s = stream.push(id);
        if (s) io.write(s);
      },
    });
    const rest = stream.finish();
    io.write(`${rest}\n`);
  } finally {
    session.dispose();
  }
  return 0;
}

/**
 * `--inputs IN --out OUT`. OUT holds `logits` f32[S, vocab] (every prefill position), `routing.layer{l}` i32[k_l]
 * (kept vision-token indices of each MoD layer, ascending, counted from the first vision token) and, when
 * maxNewTokens N > 0, `generated_ids` i32[M] and `generated_logits` f32[M, vocab] (greedy); M = N unless an EOS
 * token was chosen first, in which case M < N rows end with that EOS token (metadata `stop` says which).
 */
export async function runInputs(o: CheckpointRunOptions & { inputs: string; out: string }, io: CommandIO, out: (s: string) => void): Promise<number> {
  const given = readInputsFile(o.inputs);
  const ck = load(o, io);
  checkGivenInputs(o.inputs, given, ck.spec, ck.projector !== undefined, o.maxNewTokens);
  const session = await GenerationSession.create(o.executor, ck, ck.weights);
  try {
    let vision = given.visionEmbeds;
    if (given.imageFeatures && ck.projector) {
      const feats: HostTensor = { ...given.imageFeatures, dtype: 'f32' };
      const projector = await o.executor.prepare(ck.projector, ck.weights);
      vision = (await projector.run({ image_features: feats })).vision_embeds;
      projector.dispose();
    }
    const spliced = spliceImage(ck.spec, given.ids, vision, o.maxNewTokens);
    const res = await session.generate(spliced.inputs, { maxNewTokens: o.maxNewTokens, sampler: new Sampler({ temperature: 0 }), eosTokenIds: ck.generation.eosTokenIds });
    const entries: TensorEntry[] = [tensorEntry('logits', res.prefill.logits)];
    const start = spliced.visionStart ?? 0;
    const routed = Object.keys(res.prefill.outputs)
      .filter((n) => /^routing\.layer\d+$/.test(n))
      .sort((a, b) => Number(a.slice(13)) - Number(b.slice(13)));
    for (const name of routed) {
      const kept = res.prefill.outputs[name];
      if (kept) entries.push(tensorEntry(name, makeTensor('i32', kept.shape, Array.from(kept.data, (p) => p - start))));
    }
    const vocab = ck.spec.llm.vocabSize;
    if (o.maxNewTokens > 0) {
      entries.push(tensorEntry('generated_ids', makeTensor('i32', [res.tokens.length], res.tokens)));
      const rows = new Float32Array(res.tokens.length * vocab);
      res.logits.forEach((r, i) => rows.set(r, i * vocab));
      entries.push(tensorEntry('generated_logits', { dtype: 'f32', shape: [res.tokens.length, vocab], data: rows }));
    }
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
    out(`wrote ${o.out}: logits [${res.prefill.logits.shape.join(', ')}], routing of ${routed.length} MoD layers${gen}`);
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
