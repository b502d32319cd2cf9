/**
 * LLaVA-NeXT "anyres" geometry (llava/mm_utils.py and llava_arch.py): choosing the grid resolution, resizing and
 * padding the image onto it, cutting it into tiles, and the region of the tiled feature map that `unpad_image`
 * keeps. All arithmetic is float64 with Python's int() truncation, floor division and ceil, as the original.
 */
import { resizeBicubic } from './resample.js';
import { cropImage, ImageError, newImage, pasteImage, type RgbImage } from './rgb.js';

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** A candidate resolution as LLaVA reads `image_grid_pinpoints`: (width, height). */
export type Pinpoint = readonly [width: number, height: number];

function checkSize(s: ImageSize, what: string): void {
  if (!Number.isInteger(s.width) || !Number.isInteger(s.height) || s.width < 1 || s.height < 1)
    throw new ImageError(`${what}: image size must be positive integers, got ${s.width}x${s.height}`);
}

/**
 * `select_best_resolution`: the candidate that keeps the most of the image's pixels after fitting it inside
 * (effective resolution = min(downscaled area, original area), downscaled sides truncated), then, among equals,
 * the one that wastes the least area; remaining ties go to the earlier candidate.
 */
export function selectBestResolution(size: ImageSize, candidates: readonly Pinpoint[]): Pinpoint {
  checkSize(size, 'selectBestResolution');
  if (candidates.length === 0) throw new ImageError('selectBestResolution: no candidate resolutions (image_grid_pinpoints is empty)');
  let best: Pinpoint | undefined;
  let bestEffective = 0;
  let bestWasted = Number.POSITIVE_INFINITY;
  for (const cand of candidates) {
    const [w, h] = cand;
    if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw new ImageError(`selectBestResolution: bad candidate resolution [${w}, ${h}]`);
    const scale = Math.min(w / size.width, h / size.height);
    const dw = Math.trunc(size.width * scale);
    const dh = Math.trunc(size.height * scale);
    const effective = Math.min(dw * dh, size.width * size.height);
    const wasted = w * h - effective;
    if (effective > bestEffective || (effective === bestEffective && wasted < bestWasted)) {
      bestEffective = effective;
      bestWasted = wasted;
      best = cand;
    }
  }
  if (best === undefined) throw new ImageError(`selectBestResolution: no candidate fits a ${size.width}x${size.height} image`);
  return best;
}

/** The size `resize_and_pad_image` scales the image to before padding (aspect kept, long side ceil'd, clamped). */
export function fitInside(size: ImageSize, target: Pinpoint): ImageSize {
  checkSize(size, 'fitInside');
  const [tw, th] = target;
  const sw = tw / size.width;
  const sh = th / size.height;
  if (sw < sh) return { width: tw, height: Math.min(Math.ceil(size.height * sw), th) };
  return { width: Math.min(Math.ceil(size.width * sh), tw), height: th };
}

/** `resize_and_pad_image`: bicubic resize to `fitInside`, pasted centred (floor offsets) on black. */
export function resizeAndPadImage(img: RgbImage, target: Pinpoint): RgbImage {
  const fit = fitInside(img, target);
  const resized = resizeBicubic(img, fit.width, fit.height);
  const [tw, th] = target;
  return pasteImage(newImage(tw, th), resized, Math.floor((tw - fit.width) / 2), Math.floor((th - fit.height) / 2));
}

/** `divide_to_patches`: `tile` x `tile` crops in row-major order (edge tiles padded with black, as PIL crops). */
export function divideToPatches(img: RgbImage, tile: number): RgbImage[] {
  if (!Number.isInteger(tile) || tile < 1) throw new ImageError(`divideToPatches: tile size must be a positive integer, got ${tile}`);
  const out: RgbImage[] = [];
  for (let y = 0; y < img.height; y += tile) for (let x = 0; x < img.width; x += tile) out.push(cropImage(img, x, y, tile, tile));
  return out;
}

/** Half-open row and column ranges of a feature map. */
export interface FeatureRegion {
  readonly rowStart: number;
  readonly rowEnd: number;
  readonly colStart: number;
  readonly colEnd: number;
}

/**
 * The part of a `height` x `width` feature map that `unpad_image` keeps for an image of `original` size: the map
 * is scaled so the image fits, and the padding (`(current - int(original * scale)) // 2` on each side) removed from
 * the axis that was padded.
 */
export function unpadRegion(height: number, width: number, original: ImageSize): FeatureRegion {
  checkSize(original, 'unpadRegion');
  checkSize({ width, height }, 'unpadRegion feature map');
  const originalAspect = original.width / original.height;
  const currentAspect = width / height;
  if (originalAspect > currentAspect) {
    const newHeight = Math.trunc(original.height * (width / original.width));
    const pad = Math.floor((height - newHeight) / 2);
    return { rowStart: pad, rowEnd: height - pad, colStart: 0, colEnd: width };
  }
  const newWidth = Math.trunc(original.width * (height / original.height));
  const pad = Math.floor((width - newWidth) / 2);
  return { rowStart: 0, rowEnd: height, colStart: pad, colEnd: width - pad };
}
