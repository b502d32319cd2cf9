/**
 * PIL-compatible bicubic resizing of 8-bit RGB images (`Image.resize(size, Image.BICUBIC)`), so preprocessing
 * produces the same bytes as LLaVA's Python pipeline.
 *
 * The behaviour reproduced (Pillow's separable convolution resampler):
 * - kernel: Keys cubic with a = -0.5 on |x| < 2;
 * - on downscaling by s = in / out > 1 the kernel is stretched by s (support 2s, argument divided by s), which
 *   antialiases; on upscaling it is used as is;
 * - output pixel i samples around centre (i + 0.5) * s over input pixels [floor-ish(centre - support + 0.5),
 *   (centre + support + 0.5)) clamped to the image; the weights are normalised to sum 1, then converted to
 *   fixed point with 22 fraction bits (round half away from zero);
 * - the horizontal pass runs first, then the vertical pass; each accumulates in integers starting from 2^21
 *   (so the shift rounds half up), shifts right by 22 and clamps to [0, 255]: the intermediate image is uint8;
 * - a pass whose size does not change is skipped, and a same-size resize returns a copy.
 * All coefficient arithmetic is float64, as in C, so results match byte for byte.
 */
import { ImageError, type RgbImage } from './rgb.js';

const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Keys cubic convolution kernel with a = -0.5 (the one PIL calls BICUBIC). */
export function bicubicKernel(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** The taps of one output pixel: the first input index and the fixed-point weights of consecutive inputs. */
export interface ResampleTaps {
  readonly first: number;
  readonly weights: Int32Array;
}

/** Float weights before fixed-point conversion, for tests and for documentation of the rule. */
export interface ResampleTapsFloat {
  readonly first: number;
  readonly weights: Float64Array;
}

/** The normalised float weights PIL computes for resampling `inSize` pixels to `outSize` along one axis. */
export function bicubicTapsFloat(inSize: number, outSize: number): ResampleTapsFloat[] {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 2 * filterScale;
  const inv = 1 / filterScale;
  const taps: ResampleTapsFloat[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    // C truncates toward zero here; values below zero are clamped to 0 right after, so trunc == PIL.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    const w = new Float64Array(Math.max(xmax, 0));
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const v = bicubicKernel((x + xmin - center + 0.5) * inv);
      w[x] = v;
      sum += v;
    }
    if (sum !== 0) for (let x = 0; x < xmax; x++) w[x] = (w[x] ?? 0) / sum;
    taps.push({ first: xmin, weights: w });
  }
  return taps;
}

/** The fixed-point (22 fraction bits) weights used by the 8-bit passes. */
export function bicubicTaps(inSize: number, outSize: number): ResampleTaps[] {
  return bicubicTapsFloat(inSize, outSize).map(({ first, weights }) => ({
    first,
    weights: Int32Array.from(weights, (v) => Math.trunc(v < 0 ? -0.5 + v * ONE : 0.5 + v * ONE)),
  }));
}

function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS; // arithmetic shift: floor, as C's >> on int here
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function horizontalPass(img: RgbImage, outWidth: number): RgbImage {
  const taps = bicubicTaps(img.width, outWidth);
  const out = new Uint8Array(outWidth * img.height * 3);
  const src = img.data;
  for (let y = 0; y < img.height; y++) {
    const row = y * img.width * 3;
    for (let x = 0; x < outWidth; x++) {
      const t = taps[x];
      if (t === undefined) continue;
      let r = HALF;
      let g = HALF;
      let b = HALF;
      for (let k = 0; k < t.weights.length; k++) {
        const w = t.weights[k] ?? 0;
        const o = row + (t.first + k) * 3;
        r += (src[o] ?? 0) * w;
        g += (src[o + 1] ?? 0) * w;
        b += (src[o + 2] ?? 0) * w;
      }
      const oo = (y * outWidth + x) * 3;
      out[oo] = clip8(r);
      out[oo + 1] = clip8(g);
      out[oo + 2] = clip8(b);
    }
  }
  return { width: outWidth, height: img.height, data: out };
}

function verticalPass(img: RgbImage, outHeight: number): RgbImage {
  const taps = bicubicTaps(img.height, outHeight);
  const stride = img.width * 3;
  const out = new Uint8Array(outHeight * stride);
  const src = img.data;
  for (let y = 0; y < outHeight; y++) {
    const t = taps[y];
    if (t === undefined) continue;
    for (let c = 0; c < stride; c++) {
      let acc = HALF;
      for (let k = 0; k < t.weights.length; k++) acc += (src[(t.first + k) * stride + c] ?? 0) * (t.weights[k] ?? 0);
      out[y * stride + c] = clip8(acc);
    }
  }
  return { width: img.width, height: outHeight, data: out };
}

/** PIL `img.resize((width, height), Image.BICUBIC)` on an RGB image, byte for byte. */
export function resizeBicubic(img: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ImageError(`resizeBicubic: target size must be positive integers, got ${width}x${height}`);
  let cur = img;
  if (width !== cur.width) cur = horizontalPass(cur, width);
  if (height !== cur.height) cur = verticalPass(cur, height);
  return cur === img ? { width: img.width, height: img.height, data: new Uint8Array(img.data) } : cur;
}
