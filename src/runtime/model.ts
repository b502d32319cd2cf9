/**
 * The high-level API, in the manner of transformers.js pipelines: a loaded model takes a prompt (or chat
 * messages) and an image and streams the answer token by token; the result has the text, the tokens, why it
 * stopped, the routing of every MoD layer, time to first token and tokens per second. This file holds the part
 * that runs anywhere (a page or Node): the chat template, the tokenizer, the image encoder and the generator are
 * given by the loader (src/api/load-model.ts in Node; the exported TS module in a page).
 */
import type { HostTensor } from '../ir/index.js';
import type { TensorMap } from './executor.js';
import type { ChatMessage, ChatTemplate } from '../io/chat-template.js';
import type { RgbImage } from '../io/image/rgb.js';
import { IMAGE_PLACEHOLDER, tokenizeWithImages } from '../io/prompt.js';
import type { Tokenizer } from '../io/tokenizer/tokenizer.js';
import { StreamDecoder } from '../io/tokenizer/stream.js';
import { Sampler, type SamplingOptions } from './sampling.js';

/** What runs a prompt: an in-process GenerationSession or a compiled artifact's PlanSession. */
export interface Generator {
  generate(
    inputs: TensorMap,
    opts: { readonly maxNewTokens: number; readonly sampler: Sampler; readonly eosTokenIds: readonly number[]; readonly onToken?: (id: number, step: number) => void },
  ): Promise<{ readonly tokens: readonly number[]; readonly stop: 'eos' | 'length'; readonly prefill: { readonly outputs: Readonly<Record<string, HostTensor>> } }>;
}

/** The model inputs of a tokenised prompt (ids with one IMAGE_TOKEN_INDEX where the vision rows go). */
export type SpliceFn = (ids: readonly number[], vision: HostTensor | undefined, reserve: number) => { readonly inputs: TensorMap; readonly visionStart: number | undefined; readonly visionTokens: number };

export interface ModelParts {
  readonly name: string;
  readonly backend: string;
  readonly tokenizer: Pick<Tokenizer, 'encode' | 'decode' | 'bosId' | 'eosId'>;
  /** The text of the BOS token, stripped from a rendered template's start (the tokenizer adds BOS itself). */
  readonly bosText?: string;
  readonly chat: ChatTemplate;
  readonly eosTokenIds: readonly number[];
  readonly splice: SpliceFn;
  /** The generator for prompts of `visionTokens` vision rows (a compiled artifact has one per N_v). */
  readonly generator: (visionTokens: number) => Promise<Generator>;
  /** Vision embeddings [N_v, d] of an image, for models with a vision side. */
  readonly encodeImage?: (image: RgbImage) => Promise<HostTensor>;
  /** The image as the vision tower sees it (its first crop) and the tower's patches per side. */
  readonly imageView?: (image: RgbImage) => Promise<ImageView>;
  readonly dispose: () => Promise<void>;
}

/** Vision tokens 0 .. side^2 - 1 are the patches of `view`, row-major (routing heatmaps draw over it). */
export interface ImageView {
  readonly view: RgbImage;
  readonly side: number;
}

export interface GenerateRequest extends Partial<SamplingOptions> {
  /** A question (wrapped in the chat template) ... */
  readonly prompt?: string;
  /** ... or a whole conversation (the open assistant turn is added). */
  readonly messages?: readonly ChatMessage[];
  readonly image?: RgbImage;
  /** Default 64. */
  readonly maxNewTokens?: number;
  /** Tokenise the prompt as it is, without the chat template. */
  readonly raw?: boolean;
}

export interface GeneratedToken {
  readonly id: number;
  /** The text this token completed (possibly '' while a multi-byte character is incomplete). */
  readonly text: string;
  readonly index: number;
}

export interface GenerationResult {
  readonly text: string;
  readonly tokens: readonly number[];
  readonly stop: 'eos' | 'length';
  readonly promptTokens: number;
  readonly visionTokens: number;
  /** routing.layer{l}: kept vision-token indices (0 = the first vision token) of each MoD layer. */
  readonly routing: Readonly<Record<number, readonly number[]>>;
  /** From the call to the first token (tokenising, encoding the image, prefill). */
  readonly timeToFirstTokenMs: number;
  /** Tokens after the first, per second of decoding. */
  readonly tokensPerSecond: number;
  readonly totalMs: number;
}

/** The streamed tokens (iterate with `for await`) and the whole result once generation ends. */
export interface GenerationStream extends AsyncIterable<GeneratedToken> {
  readonly result: Promise<GenerationResult>;
}

export class ModelError extends Error {
  override name = 'ModelError';
}

export class Model {
  constructor(private readonly parts: ModelParts) {}

  get name(): string {
    return this.parts.name;
  }

  get backend(): string {
    return this.parts.backend;
  }

  /** The image as the vision tower sees it, with its patch grid (undefined for models without a vision side). */
  imageView(image: RgbImage): Promise<ImageView | undefined> {
    return this.parts.imageView?.(image) ?? Promise.resolve(undefined);
  }

  /** The prompt text for a request (the chat template's rendering, or the prompt itself with `raw`). */
  promptText(req: GenerateRequest): string {
    if ((req.prompt === undefined) === (req.messages === undefined)) throw new ModelError('give a prompt or messages (one of them)');
    if (req.raw) {
      if (req.prompt === undefined) throw new ModelError('raw takes a prompt, not messages');
      return req.image !== undefined && !req.prompt.includes(IMAGE_PLACEHOLDER) ? `${IMAGE_PLACEHOLDER}\n${req.prompt}` : req.prompt;
    }
    const image = req.image !== undefined;
    const messages: readonly ChatMessage[] =
      req.messages ?? [{ role: 'user', content: image && !(req.prompt ?? '').includes(IMAGE_PLACEHOLDER) ? [{ type: 'image' }, { type: 'text', text: req.prompt ?? '' }] : (req.prompt ?? '') }];
    const text = this.parts.chat.render(messages);
    const bos = this.parts.bosText;
    return bos !== undefined && bos !== '' && text.startsWith(bos) ? text.slice(bos.length) : text;
  }

  /** Streams the answer; `result` resolves with the whole of it (and rejects if generation fails). */
  generate(req: GenerateRequest): GenerationStream {
    const queue: GeneratedToken[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    const notify = (): void => {
      wake?.();
      wake = undefined;
    };
    const result = this.run(req, (t) => {
      queue.push(t);
      notify();
    }).finally(() => {
      finished = true;
      notify();
    });
    // The stream ends with the result; an error surfaces through both.
    result.catch(() => undefined);
    return {
      result,
      async *[Symbol.asyncIterator]() {
        for (;;) {
          const t = queue.shift();
          if (t !== undefined) {
            yield t;
            continue;
          }
          if (finished) {
            await result;
            return;
          }
          await new Promise<void>((r) => (wake = r));
        }
      },
    };
  }

  private async run(req: GenerateRequest, emit: (t: GeneratedToken) => void): Promise<GenerationResult> {
    const t0 = performance.now();
    const maxNewTokens = req.maxNewTokens ?? 64;
    const text = this.promptText(req);
    let vision: HostTensor | undefined;
    if (req.image !== undefined) {
      if (this.parts.encodeImage === undefined) throw new ModelError(`model '${this.parts.name}' takes no images here (no vision side, or no vision tower loaded)`);
      vision = await this.parts.encodeImage(req.image);
    }
    const ids = tokenizeWithImages(text, this.parts.tokenizer);
    const spliced = this.parts.splice(ids, vision, maxNewTokens);
    const generator = await this.parts.generator(spliced.visionTokens);
    const stream = new StreamDecoder(this.parts.tokenizer);
    let first = Number.NaN;
    let last = Number.NaN;
    let out = '';
    const sampling: SamplingOptions = { temperature: req.temperature ?? 0, topP: req.topP ?? 1, topK: req.topK ?? 0, seed: req.seed ?? 0 };
    const res = await generator.generate(spliced.inputs, {
      maxNewTokens,
      sampler: new Sampler(sampling),
      eosTokenIds: this.parts.eosTokenIds,
      onToken: (id, index) => {
        last = performance.now();
        if (index === 0) first = last;
        const piece = this.parts.eosTokenIds.includes(id) ? '' : stream.push(id);
        out += piece;
        emit({ id, text: piece, index });
      },
    });
    const rest = stream.finish();
    out += rest;
    const routing: Record<number, number[]> = {};
    const start = spliced.visionStart ?? 0;
    for (const [name, t] of Object.entries(res.prefill.outputs)) {
      const m = /^routing\.layer(\d+)$/.exec(name);
      if (m?.[1] !== undefined) routing[Number(m[1])] = Array.from(t.data, (p) => p - start);
    }
    const end = performance.now();
    const n = res.tokens.length;
    return {
      text: out,
      tokens: res.tokens,
      stop: res.stop,
      promptTokens: ids.length,
      visionTokens: spliced.visionTokens,
      routing,
      timeToFirstTokenMs: n > 0 ? first - t0 : end - t0,
      tokensPerSecond: n > 1 && last > first ? (n - 1) / ((last - first) / 1000) : 0,
      totalMs: end - t0,
    };
  }

  dispose(): Promise<void> {
    return this.parts.dispose();
  }
}
