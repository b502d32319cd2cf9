/**
 * `modc run --checkpoint DIR --prompt TEXT [--image FILE]`: the vicuna_v1 chat answer, streamed to stdout as
 * tokens arrive, with LLaVA's image input. At the end, the speed on stderr (time to first token, tokens/s), the
 * token ids on request (--ids), or everything as one JSON object (--json).
 */
import { clipEncoder, IMAGE_TOKEN_ID, imageToVisionEmbeddings, InputError, llavaImageCrops, type LoadedCheckpoint, openVisionTower, readCheckpointConfig, readImageNewline, spliceImage } from '../../models/index.js';
import { chatPrompt, type HostTensor, IMAGE_PLACEHOLDER, loadImage, loadTokenizer, progressBar, statusLine, StreamDecoder, tokenizeWithImages } from '../index.js';
import { GenerationSession } from '../runtime/session.js';
import { Sampler } from '../runtime/sampling.js';
import { type CheckpointRunOptions, loadCheckpoint } from './checkpoint-run.js';
import type { CommandIO } from './main.js';

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

export interface PromptRunOptions extends CheckpointRunOptions {
  readonly prompt: string;
  readonly template: 'vicuna_v1' | 'none';
  readonly image?: string;
  readonly visionTower?: string;
  readonly maxImagePixels: number;
  /** Print the prompt's and the answer's token ids after the answer. */
  readonly showIds: boolean;
  /** Print one JSON object (answer, ids, speed) instead of streaming. */
  readonly json: boolean;
}

/**
 * Text as a terminal may show it: control characters (C0 but tab and newline, DEL, C1) and the bidirectional
 * overrides written as visible escapes, so generated text cannot move the cursor, retitle the window, ring the
 * bell or reorder what is displayed. Text to a pipe or file is left as generated.
 */
export function escapeControls(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

interface Speed {
  /** From the start of the prefill to the first generated token (includes compiling the prefill plan). */
  readonly timeToFirstTokenMs: number | undefined;
  /** Generated tokens after the first, per second of decoding. */
  readonly tokensPerSecond: number | undefined;
  readonly totalMs: number;
}

function speedLine(tokens: number, stop: string, promptTokens: number, s: Speed): string {
  if (s.timeToFirstTokenMs === undefined) return `no tokens generated (--max-new-tokens 0); prefill of ${promptTokens} tokens ${s.totalMs.toFixed(0)} ms`;
  const rate = s.tokensPerSecond !== undefined ? `, then ${s.tokensPerSecond.toFixed(1)} tokens/s` : '';
  return `${tokens} token${tokens === 1 ? '' : 's'} (stop: ${stop}): first token after ${s.timeToFirstTokenMs.toFixed(0)} ms (prefill of ${promptTokens} tokens)${rate}; ${(s.totalMs / 1000).toFixed(2)} s in all`;
}

/** `--prompt`: the chat answer, streamed to stdout as tokens arrive. With `--image`, LLaVA's image input. */
export async function runPrompt(o: PromptRunOptions, io: CommandIO): Promise<number> {
  if (o.prompt.includes(IMAGE_PLACEHOLDER) && o.image === undefined) throw new InputError('the prompt contains <image>: give the image with --image FILE');
  const tokenizer = loadTokenizer(o.dir);
  const ck = loadCheckpoint(o, io);
  try {
    return await answerPrompt(o, io, tokenizer, ck);
  } finally {
    ck.close();
  }
}

async function answerPrompt(o: PromptRunOptions, io: CommandIO, tokenizer: ReturnType<typeof loadTokenizer>, ck: LoadedCheckpoint): Promise<number> {
  if (tokenizer.vocabSize > ck.spec.llm.vocabSize)
    throw new InputError(`${tokenizer.source}: tokenizer has ${tokenizer.vocabSize} tokens, the model's vocabulary ${ck.spec.llm.vocabSize}`);
  // LLaVA puts the image before the question when the question does not place it: "<image>\n" + question.
  const question = o.image !== undefined && !o.prompt.includes(IMAGE_PLACEHOLDER) ? `${IMAGE_PLACEHOLDER}\n${o.prompt}` : o.prompt;
  const text = o.template === 'vicuna_v1' ? chatPrompt(question) : question;
  const ids = tokenizeWithImages(text, tokenizer);
  const vision = o.image !== undefined ? await imageEmbeddings(o, ck, o.image, o.visionTower, o.maxImagePixels, io) : undefined;
  const spliced = spliceImage(ck.spec, ids, vision, o.maxNewTokens);
  const eos = ck.generation.eosTokenIds.length ? ck.generation.eosTokenIds : tokenizer.eosId !== undefined ? [tokenizer.eosId] : [];
  const session = await GenerationSession.create(o.executor, ck, ck.weights);
  const stream = new StreamDecoder(tokenizer);
  const show = io.terminal ? escapeControls : (t: string): string => t;
  let answer = '';
  let first: number | undefined;
  let last = 0;
  const t0 = performance.now();
  const prefill = statusLine(io.progress, `prefill of ${spliced.length} tokens (the first run compiles the plan)`);
  try {
    const res = await session.generate(spliced.inputs, {
      maxNewTokens: o.maxNewTokens,
      sampler: new Sampler(o.sampling),
      eosTokenIds: eos,
      onToken: (id) => {
        last = performance.now();
        if (first === undefined) prefill.done();
        first ??= last;
        const piece = stream.push(id);
        answer += piece;
        if (piece && !o.json) io.write(show(piece));
      },
    });
    prefill.done();
    const rest = stream.finish();
    answer += rest;
    const n = res.tokens.length;
    const speed: Speed = {
      timeToFirstTokenMs: first === undefined ? undefined : first - t0,
      tokensPerSecond: first !== undefined && n > 1 && last > first ? ((n - 1) * 1000) / (last - first) : undefined,
      totalMs: performance.now() - t0,
    };
    if (o.json) {
      const summary = { model: ck.spec.name, answer, stop: res.stop, promptIds: ids, answerIds: res.tokens, promptTokens: spliced.length, visionTokens: spliced.visionTokens, ...speed };
      io.write(`${JSON.stringify(summary, null, 2)}\n`);
      return 0;
    }
    io.write(`${show(rest)}\n`);
    if (o.showIds) io.write(`prompt ids (${ids.length}${spliced.visionTokens ? `, ${IMAGE_TOKEN_ID} marks the ${spliced.visionTokens} vision tokens` : ''}): ${ids.join(' ')}\nanswer ids (${n}): ${res.tokens.join(' ')}\n`);
    io.progress.write(`${speedLine(n, res.stop, spliced.length, speed)}\n`);
  } finally {
    session.dispose();
  }
  return 0;
}
