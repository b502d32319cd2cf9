/** Builds the graph inputs of a LLaVA language model from token ids and vision embeddings. */
import { type HostTensor, makeTensor } from '../src/ir/index.js';
import { Rng } from '../src/runtime/random.js';
import { hasVisionInput, type ModelSpec } from './config.js';

export interface LlavaInputs {
  readonly input_ids: HostTensor;
  readonly vision_embeds?: HostTensor;
  readonly vision_positions?: HostTensor;
}

/**
 * The sequence [prefix text][N_v vision rows][suffix text] as graph inputs. `textIds` are the T text token ids;
 * the vision block starts after the first `prefix` of them. Vision slots in input_ids hold 0 (overwritten).
 */
export function llavaInputs(spec: ModelSpec, textIds: readonly number[], visionEmbeds: HostTensor | undefined, prefix: number): Record<string, HostTensor> {
  const nv = visionEmbeds?.shape[0] ?? 0;
  if (prefix < 0 || prefix > textIds.length) throw new RangeError(`vision block offset ${prefix} is outside [0, ${textIds.length}]`);
  const ids = [...textIds.slice(0, prefix), ...new Array<number>(nv).fill(0), ...textIds.slice(prefix)];
  const out: Record<string, HostTensor> = { input_ids: makeTensor('i32', [ids.length], ids) };
  if (hasVisionInput(spec)) {
    out.vision_embeds = visionEmbeds ?? makeTensor('f32', [0, spec.llm.hiddenSize]);
    out.vision_positions = makeTensor('i32', [nv], Array.from({ length: nv }, (_, i) => prefix + i));
  } else if (nv > 0) throw new RangeError(`model '${spec.name}' has no vision input but ${nv} vision rows were given`);
  return out;
}

/** Random text ids and vision embeddings (unit-scale rows), seeded: the `modc run` demo input. */
export function randomLlavaInputs(spec: ModelSpec, textTokens: number, visionTokens: number, seed: number): Record<string, HostTensor> {
  const rng = new Rng(seed ^ 0x5eed);
  const ids = Array.from({ length: textTokens }, () => rng.int(spec.llm.vocabSize));
  const d = spec.llm.hiddenSize;
  const vis = makeTensor('f32', [visionTokens, d]);
  for (let i = 0; i < vis.data.length; i++) vis.data[i] = rng.normal();
  return llavaInputs(spec, ids, visionTokens > 0 ? vis : undefined, Math.min(textTokens, Math.ceil(textTokens / 4)));
}

/** LLaVA's IMAGE_TOKEN_INDEX: the placeholder id tokenizer_image_token puts where the image goes. */
export const IMAGE_TOKEN_ID = -200;

/** A token sequence or vision input that cannot be run; names the position or tensor concerned. */
export class InputError extends Error {
  override name = 'InputError';
}

export interface SplicedInputs {
  /** Prefill graph inputs (input_ids, and for vision models vision_embeds / vision_positions). */
  readonly inputs: Record<string, HostTensor>;
  /** Sequence length S = S' - 1 + N_v (S' without an image). */
  readonly length: number;
  /** Sequence index of the first vision token, if there is an image. */
  readonly visionStart: number | undefined;
  readonly visionTokens: number;
}

/**
 * Replaces the one IMAGE_TOKEN_ID in `ids` by the N_v rows of `visionEmbeds` [N_v, d] (positions 0..S-1 follow
 * the spliced sequence), as LLaVA's prepare_inputs_labels_for_multimodal does for one image.
 */
export function spliceImage(spec: ModelSpec, ids: readonly number[], visionEmbeds: HostTensor | undefined, reserve = 0): SplicedInputs {
  const vocab = spec.llm.vocabSize;
  const images = ids.flatMap((id, i) => (id === IMAGE_TOKEN_ID ? [i] : []));
  if (images.length > 1) throw new InputError(`input_ids holds ${images.length} image positions (${IMAGE_TOKEN_ID}) at ${images.join(', ')}; one image is supported`);
  const at = images[0];
  ids.forEach((id, i) => {
    if (id !== IMAGE_TOKEN_ID && (!Number.isInteger(id) || id < 0 || id >= vocab)) throw new InputError(`input_ids[${i}] = ${id} is outside the vocabulary [0, ${vocab})`);
  });
  if (at !== undefined && visionEmbeds === undefined) throw new InputError(`input_ids has an image position (${IMAGE_TOKEN_ID}) at ${at} but no vision input was given`);
  if (at === undefined && visionEmbeds !== undefined) throw new InputError(`vision input given but input_ids has no image position (${IMAGE_TOKEN_ID})`);
  if (visionEmbeds !== undefined && !hasVisionInput(spec)) throw new InputError(`model '${spec.name}' takes no vision input`);
  const d = spec.llm.hiddenSize;
  if (visionEmbeds !== undefined && (visionEmbeds.shape.length !== 2 || visionEmbeds.shape[1] !== d))
    throw new InputError(`vision embeddings must be [N_v, ${d}] (the model's hidden size), got [${visionEmbeds.shape.join(', ')}]`);
  const nv = visionEmbeds?.shape[0] ?? 0;
  const text = ids.filter((id) => id !== IMAGE_TOKEN_ID);
  const length = text.length + nv;
  if (length < 1) throw new InputError('empty sequence: input_ids holds no tokens');
  if (length + reserve > spec.llm.maxPositions)
    throw new InputError(`sequence of ${length} tokens${reserve ? ` plus ${reserve} new tokens` : ''} exceeds max_position_embeddings ${spec.llm.maxPositions}`);
  const prefix = at ?? text.length;
  const embeds = visionEmbeds && visionEmbeds.dtype !== 'f32' ? { ...visionEmbeds, dtype: 'f32' as const } : visionEmbeds;
  return { inputs: llavaInputs(spec, text, embeds, prefix), length, visionStart: at, visionTokens: nv };
}
