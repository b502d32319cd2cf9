/**
 * The `--inputs` file of `modc run --checkpoint`: a safetensors file with input_ids and optionally image_features or
 * vision_embeds, read and checked against the model before anything runs. Every message names the file and the
 * tensor.
 */
import { IMAGE_TOKEN_ID, InputError, type ModelSpec } from '../../models/index.js';
import { type HostTensor, isFloat, SafetensorsFile } from '../index.js';

export interface GivenInputs {
  readonly ids: number[];
  readonly imageFeatures?: HostTensor;
  readonly visionEmbeds?: HostTensor;
}

const KNOWN = new Set(['input_ids', 'image_features', 'vision_embeds']);

/** Reads the file: input_ids int32/int64 [S'], and at most one of image_features / vision_embeds (float [N_v, w]). */
export function readInputsFile(path: string): GivenInputs {
  const f = SafetensorsFile.open(path);
  try {
    const extra = f.names().filter((n) => !KNOWN.has(n));
    const [first, ...more] = extra;
    if (first !== undefined)
      throw new InputError(`${path}: tensor '${first}'${more.length ? ` (and ${more.map((n) => `'${n}'`).join(', ')})` : ''} is not an input: expected input_ids and one of image_features / vision_embeds`);
    if (!f.has('input_ids')) throw new InputError(`${path}: no 'input_ids' tensor`);
    const st = f.info('input_ids');
    if ((st.stDtype !== 'I32' && st.stDtype !== 'I64') || st.shape.length !== 1) throw new InputError(`${path}: tensor 'input_ids' must be an int32 (or int64) vector, got ${st.stDtype} [${st.shape.join(', ')}]`);
    const idsT = f.get('input_ids');
    const floatInput = (name: string): HostTensor | undefined => {
      if (!f.has(name)) return undefined;
      const info = f.info(name);
      if (info.shape.length !== 2 || !isFloat(f.get(name).dtype)) throw new InputError(`${path}: tensor '${name}' must be a float matrix [N_v, width], got ${info.stDtype} [${info.shape.join(', ')}]`);
      return f.get(name);
    };
    const imageFeatures = floatInput('image_features');
    const visionEmbeds = floatInput('vision_embeds');
    if (imageFeatures && visionEmbeds) throw new InputError(`${path}: give tensor 'image_features' or 'vision_embeds', not both`);
    return { ids: Array.from(idsT.data), ...(imageFeatures ? { imageFeatures } : {}), ...(visionEmbeds ? { visionEmbeds } : {}) };
  } finally {
    f.close();
  }
}

/**
 * Checks the inputs against the model before the projector or the model runs: vision rows of the right width for
 * the model's projector (or hidden size), one image position when there are vision rows, ids in the vocabulary, and
 * a sequence (with `reserve` new tokens) that fits the model's positions.
 */
export function checkGivenInputs(path: string, given: GivenInputs, spec: ModelSpec, hasProjector: boolean, reserve: number): void {
  const fail = (msg: string): never => {
    throw new InputError(`${path}: ${msg}`);
  };
  const rows = given.imageFeatures ?? given.visionEmbeds;
  if (given.imageFeatures) {
    const mm = spec.vision?.mmHiddenSize;
    if (!hasProjector || mm === undefined) fail(`tensor 'image_features' given, but model '${spec.name}' has no projector`);
    if (given.imageFeatures.shape[1] !== mm) fail(`tensor 'image_features' must be [N_v, ${mm}] (mm_hidden_size), got [${given.imageFeatures.shape.join(', ')}]`);
  } else if (given.visionEmbeds && given.visionEmbeds.shape[1] !== spec.llm.hiddenSize) {
    fail(`tensor 'vision_embeds' must be [N_v, ${spec.llm.hiddenSize}] (the model's hidden size), got [${given.visionEmbeds.shape.join(', ')}]`);
  }
  const vocab = spec.llm.vocabSize;
  const images: number[] = [];
  given.ids.forEach((id, i) => {
    if (id === IMAGE_TOKEN_ID) images.push(i);
    else if (id < 0 || id >= vocab) fail(`tensor 'input_ids' element ${i} = ${id} is outside the vocabulary [0, ${vocab})`);
  });
  if (images.length > 1) fail(`tensor 'input_ids' holds ${images.length} image positions (${IMAGE_TOKEN_ID}) at elements ${images.slice(0, 8).join(', ')}; one image is supported`);
  if (rows !== undefined && images.length === 0) fail(`vision rows given but tensor 'input_ids' has no image position (${IMAGE_TOKEN_ID})`);
  if (rows === undefined && images.length === 1) fail(`tensor 'input_ids' has an image position (${IMAGE_TOKEN_ID}) at element ${images[0]} but no image_features or vision_embeds were given`);
  const length = given.ids.length - images.length + (rows?.shape[0] ?? 0);
  if (length < 1) fail(`tensor 'input_ids' holds no tokens`);
  if (length + reserve > spec.llm.maxPositions)
    fail(`the sequence of ${length} tokens${reserve ? ` plus ${reserve} new tokens` : ''} exceeds max_position_embeddings ${spec.llm.maxPositions} (tensor 'input_ids' and the vision rows)`);
}
