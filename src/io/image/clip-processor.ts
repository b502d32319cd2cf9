/**
 * Hugging Face `CLIPImageProcessor` as LLaVA configures it: resize (shortest edge, PIL bicubic), centre crop,
 * rescale by 1/255, normalise with the CLIP mean and std, channel-first float32; plus LLaVA-1.5's `expand2square`
 * padding. Reads `preprocessor_config.json`.
 */
import { type HostTensor, makeTensor } from '../../ir/index.js';
import { resizeBicubic } from './resample.js';
import { cropImage, ImageError, newImage, pasteImage, type Rgb, type RgbImage } from './rgb.js';
import { showValue } from '../json.js';

/** How `do_resize` sizes the image: the shortest edge to `edge` (aspect kept), or an exact height x width. */
export type ResizeRule = { readonly kind: 'shortestEdge'; readonly edge: number } | { readonly kind: 'exact'; readonly height: number; readonly width: number };

export interface ClipProcessorConfig {
  readonly doResize: boolean;
  readonly resize: ResizeRule;
  readonly doCenterCrop: boolean;
  readonly cropHeight: number;
  readonly cropWidth: number;
  readonly doRescale: boolean;
  readonly rescaleFactor: number;
  readonly doNormalize: boolean;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
}

export const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** `openai/clip-vit-large-patch14-336`'s preprocessor_config.json: shortest edge 336, crop 336x336. */
export const CLIP_336_PROCESSOR: ClipProcessorConfig = clipProcessorForSize(336);

/** The CLIP processor with the standard OpenAI statistics for a square input of `size` pixels. */
export function clipProcessorForSize(size: number): ClipProcessorConfig {
  return {
    doResize: true,
    resize: { kind: 'shortestEdge', edge: size },
    doCenterCrop: true,
    cropHeight: size,
    cropWidth: size,
    doRescale: true,
    rescaleFactor: 1 / 255,
    doNormalize: true,
    imageMean: OPENAI_CLIP_MEAN,
    imageStd: OPENAI_CLIP_STD,
  };
}

type Json = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

function bool(cfg: Json, key: string, fallback: boolean, source: string): boolean {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new ImageError(`${source}: field '${key}' must be a boolean, got ${showValue(v)}`);
  return v;
}

function triple(cfg: Json, key: string, fallback: readonly [number, number, number], source: string): readonly [number, number, number] {
  const v = cfg[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && Number.isFinite(v)) return [v, v, v];
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    throw new ImageError(`${source}: field '${key}' must be a number or a list of 3 numbers, got ${showValue(v)}`);
  return [v[0] as number, v[1] as number, v[2] as number];
}

/**
 * Reads a `preprocessor_config.json` object. Integer `size` means the shortest edge (and integer `crop_size` a
 * square), as Hugging Face reads the old CLIPFeatureExtractor files; missing fields take CLIPImageProcessor's
 * defaults. Only BICUBIC resampling (`resample: 3`) is supported.
 */
export function clipProcessorFromHf(json: unknown, source = 'preprocessor_config.json'): ClipProcessorConfig {
  if (!isObj(json)) throw new ImageError(`${source}: the top-level value must be a JSON object`);
  const resample = json.resample ?? 3;
  if (resample !== 3) throw new ImageError(`${source}: resample ${showValue(resample)} is not supported (3 = BICUBIC)`);
  const size = json.size ?? { shortest_edge: 224 };
  let resize: ResizeRule;
  if (isPosInt(size)) resize = { kind: 'shortestEdge', edge: size };
  else if (isObj(size) && isPosInt(size.shortest_edge)) resize = { kind: 'shortestEdge', edge: size.shortest_edge };
  else if (isObj(size) && isPosInt(size.height) && isPosInt(size.width)) resize = { kind: 'exact', height: size.height, width: size.width };
  else throw new ImageError(`${source}: field 'size' must be an integer, {shortest_edge} or {height, width}, got ${showValue(size)}`);
  const crop = json.crop_size ?? { height: 224, width: 224 };
  let cropHeight: number;
  let cropWidth: number;
  if (isPosInt(crop)) [cropHeight, cropWidth] = [crop, crop];
  else if (isObj(crop) && isPosInt(crop.height) && isPosInt(crop.width)) [cropHeight, cropWidth] = [crop.height, crop.width];
  else throw new ImageError(`${source}: field 'crop_size' must be an integer or {height, width}, got ${showValue(crop)}`);
  const factor = json.rescale_factor ?? 1 / 255;
  if (typeof factor !== 'number' || !Number.isFinite(factor)) throw new ImageError(`${source}: field 'rescale_factor' must be a number, got ${showValue(factor)}`);
  const imageStd = triple(json, 'image_std', OPENAI_CLIP_STD, source);
  if (imageStd.some((s) => s === 0)) throw new ImageError(`${source}: field 'image_std' has a zero entry`);
  return {
    doResize: bool(json, 'do_resize', true, source),
    resize,
    doCenterCrop: bool(json, 'do_center_crop', true, source),
    cropHeight,
    cropWidth,
    doRescale: bool(json, 'do_rescale', true, source),
    rescaleFactor: factor,
    doNormalize: bool(json, 'do_normalize', true, source),
    imageMean: triple(json, 'image_mean', OPENAI_CLIP_MEAN, source),
    imageStd,
  };
}

/**
 * The (height, width) `do_resize` produces: for the shortest-edge rule the short side becomes `edge` and the long
 * side `int(edge * long / short)` (truncated, as Hugging Face computes it).
 */
export function resizeOutputSize(width: number, height: number, rule: ResizeRule): { width: number; height: number } {
  if (rule.kind === 'exact') return { width: rule.width, height: rule.height };
  const [short, long] = width <= height ? [width, height] : [height, width];
  const newLong = Math.trunc((rule.edge * long) / short);
  return width <= height ? { width: rule.edge, height: newLong } : { width: newLong, height: rule.edge };
}

/**
 * Hugging Face's centre crop: offsets `(size - crop) // 2` (floor); when the image is smaller than the crop it is
 * zero-padded around, which the same floor offsets express as a crop box reaching outside the image.
 */
export function centerCrop(img: RgbImage, cropWidth: number, cropHeight: number): RgbImage {
  return cropImage(img, Math.floor((img.width - cropWidth) / 2), Math.floor((img.height - cropHeight) / 2), cropWidth, cropHeight);
}

/** The uint8 image after the processor's geometric steps (resize, centre crop), before rescale and normalise. */
export function clipGeometry(img: RgbImage, cfg: ClipProcessorConfig): RgbImage {
  let cur = img;
  if (cfg.doResize) {
    const { width, height } = resizeOutputSize(cur.width, cur.height, cfg.resize);
    cur = resizeBicubic(cur, width, height);
  }
  if (cfg.doCenterCrop) cur = centerCrop(cur, cfg.cropWidth, cfg.cropHeight);
  return cur;
}

/**
 * Rescale and normalise to channel-first float32 [3, H, W] exactly as numpy does it: `u8 * factor` in float64
 * rounded to float32, then `(v - mean) / std` in float32 with mean and std rounded to float32.
 */
export function clipNormalize(img: RgbImage, cfg: ClipProcessorConfig): HostTensor {
  const { width, height, data } = img;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(cfg.imageMean[c] ?? 0);
    const std = Math.fround(cfg.imageStd[c] ?? 1);
    // A byte has 256 values: map each once.
    const table = new Float32Array(256);
    for (let u = 0; u < 256; u++) {
      let v = u;
      if (cfg.doRescale) v = Math.fround(v * cfg.rescaleFactor);
      if (cfg.doNormalize) v = Math.fround(Math.fround(v - mean) / std);
      table[u] = v;
    }
    for (let p = 0; p < plane; p++) out[c * plane + p] = table[data[p * 3 + c] ?? 0] ?? 0;
  }
  return makeTensor('f32', [3, height, width], out);
}

/** `CLIPImageProcessor.preprocess(image)['pixel_values'][0]`: f32 [3, cropHeight, cropWidth]. */
export function clipPreprocess(img: RgbImage, cfg: ClipProcessorConfig): HostTensor {
  return clipNormalize(clipGeometry(img, cfg), cfg);
}

/** LLaVA's pad colour: `tuple(int(x * 255) for x in image_mean)` (truncated: (122, 116, 104) for CLIP). */
export function llavaPadColor(cfg: ClipProcessorConfig): Rgb {
  const [r, g, b] = cfg.imageMean.map((m) => Math.min(255, Math.max(0, Math.trunc(m * 255))));
  return [r ?? 0, g ?? 0, b ?? 0];
}

/** LLaVA's `expand2square`: the image centred (offset `(long - short) // 2`) on a square of `background`. */
export function expandToSquare(img: RgbImage, background: Rgb): RgbImage {
  if (img.width === img.height) return img;
  const side = Math.max(img.width, img.height);
  const x = img.width > img.height ? 0 : Math.floor((img.height - img.width) / 2);
  const y = img.width > img.height ? Math.floor((img.width - img.height) / 2) : 0;
  return pasteImage(newImage(side, side, background), img, x, y);
}
