/**
 * CLIP preprocessing on small synthetic images against values worked out by hand from PIL's and Hugging Face's
 * rules (bicubic weights as fractions, fixed-point taps, uint8 passes, float32 normalisation).
 */
import {
  bicubicKernel,
  bicubicTaps,
  bicubicTapsFloat,
  centerCrop,
  CLIP_336_PROCESSOR,
  clipGeometry,
  clipPreprocess,
  type ClipProcessorConfig,
  clipProcessorForSize,
  clipProcessorFromHf,
  cropImage,
  expandToSquare,
  ImageError,
  llavaPadColor,
  newImage,
  pasteImage,
  pixelAt,
  resizeBicubic,
  resizeOutputSize,
  type RgbImage,
} from '../../../src/io/image/index.js';

/** Builds an image from a per-pixel function. */
function imageOf(width: number, height: number, f: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(f(x, y), (y * width + x) * 3);
  return { width, height, data };
}

// 8 x 4 test image: a red ramp, a green ramp, and a blue checkerboard (its ringing exercises the clamps).
const IMG = imageOf(8, 4, (x, y) => [Math.min(255, 10 + 30 * x + 5 * y), 255 - 28 * x, (x + y) % 2 === 1 ? 255 : 0]);

/*
 * Keys cubic (a = -0.5) at the quarter points, exactly: K(0.25) = 111/128, K(0.75) = 29/128, K(1.25) = -9/128,
 * K(1.75) = -3/128. Halving a size (scale 2) stretches the kernel by 2 (support 4); output i is centred on input
 * coordinate 2i + 1, so the taps sit at distances +-0.25, +-0.75, +-1.25, +-1.75 (after dividing by 2), clipped to
 * the image and renormalised:
 *   8 -> 4: out0 = inputs 0..4 with [111, 111, 29, -9, -3] / 239;  out1 = 0..6 with [-9, 29, 111, 111, 29, -9, -3] / 259;
 *           out2 = 1..7 with [-3, -9, 29, 111, 111, 29, -9] / 259;  out3 = 3..7 with [-3, -9, 29, 111, 111] / 239.
 *   4 -> 2: out0 = 0..3 with [111, 111, 29, -9] / 242;              out1 = 0..3 with [-9, 29, 111, 111] / 242.
 */
const HAND_8_TO_4: [number, number[]][] = [
  [0, [111, 111, 29, -9, -3].map((v) => v / 239)],
  [0, [-9, 29, 111, 111, 29, -9, -3].map((v) => v / 259)],
  [1, [-3, -9, 29, 111, 111, 29, -9].map((v) => v / 259)],
  [3, [-3, -9, 29, 111, 111].map((v) => v / 239)],
];
const HAND_4_TO_2: [number, number[]][] = [
  [0, [111, 111, 29, -9].map((v) => v / 242)],
  [0, [-9, 29, 111, 111].map((v) => v / 242)],
];

/** PIL's fixed point: 22 fraction bits, rounded half away from zero. */
const fixed = (w: number): number => Math.trunc(w < 0 ? w * 4194304 - 0.5 : w * 4194304 + 0.5);

/** One uint8 pass by hand: (2^21 + sum(v * w_fixed)) >> 22, clamped. */
function pass(values: (k: number) => number, first: number, weights: number[]): number {
  let acc = 2 ** 21;
  weights.forEach((w, k) => (acc += values(first + k) * fixed(w)));
  return Math.min(255, Math.max(0, Math.floor(acc / 2 ** 22)));
}

/** Separable resize by hand with the given per-axis taps: horizontal first (uint8), then vertical (uint8). */
function handResize(img: RgbImage, hTaps: [number, number[]][] | undefined, vTaps: [number, number[]][] | undefined): number[][][] {
  const src = (x: number, y: number, c: number): number => img.data[(y * img.width + x) * 3 + c] ?? 0;
  const w = hTaps?.length ?? img.width;
  const mid = Array.from({ length: img.height }, (_, y) =>
    Array.from({ length: w }, (_, x) => [0, 1, 2].map((c) => (hTaps ? pass((k) => src(k, y, c), hTaps[x]?.[0] ?? 0, hTaps[x]?.[1] ?? []) : src(x, y, c)))),
  );
  if (!vTaps) return mid;
  return vTaps.map(([first, ws]) => Array.from({ length: w }, (_, x) => [0, 1, 2].map((c) => pass((k) => mid[k]?.[x]?.[c] ?? 0, first, ws))));
}

const flat = (rows: number[][][]): number[] => rows.flat(2);

describe('PIL bicubic resampling', () => {
  it('uses the Keys kernel with a = -0.5', () => {
    expect([0, 0.25, 0.75, 1, 1.25, 1.75, 2, -0.25].map((x) => bicubicKernel(x) + 0)).toEqual([1, 111 / 128, 29 / 128, 0, -9 / 128, -3 / 128, 0, 111 / 128]);
  });

  it('computes the hand-derived taps for halving', () => {
    const got = (n: number, m: number): [number, number[]][] => bicubicTapsFloat(n, m).map((t) => [t.first, Array.from(t.weights)]);
    expect(got(8, 4)).toEqual(HAND_8_TO_4);
    expect(got(4, 2)).toEqual(HAND_4_TO_2);
    expect(bicubicTaps(8, 4)[0]?.weights).toEqual(Int32Array.from([1947982, 1947982, 508932, -157945, -52648]));
    expect(bicubicTaps(8, 4)[0]?.weights).toEqual(Int32Array.from(HAND_8_TO_4[0]?.[1].map(fixed) ?? []));
  });

  it('is the identity at scale 1 and upsampling interpolates between neighbours', () => {
    bicubicTapsFloat(5, 5).forEach((t, i) => {
      const w = Array.from(t.weights);
      expect(w[i - t.first]).toBe(1);
      expect(w.reduce((a, v) => a + Math.abs(v), 0)).toBe(1);
    });
    // 2 -> 4: centres at 0.25, 0.75, 1.25, 1.75 of the input; output 1 is K(0.25) / K(0.75) from pixels 0 / 1.
    const up = bicubicTapsFloat(2, 4)[1];
    expect(up?.first).toBe(0);
    const k = [bicubicKernel(-0.25), bicubicKernel(0.75)];
    const s = (k[0] ?? 0) + (k[1] ?? 0);
    expect(Array.from(up?.weights ?? [])).toEqual([(k[0] ?? 0) / s, (k[1] ?? 0) / s]);
  });

  it('resizes 8x4 -> 4x2 to the hand-computed uint8 values (horizontal pass, then vertical)', () => {
    const want = handResize(IMG, HAND_8_TO_4, HAND_4_TO_2);
    const got = resizeBicubic(IMG, 4, 2);
    expect([got.width, got.height]).toEqual([4, 2]);
    expect(Array.from(got.data)).toEqual(flat(want));
    // Red at column 0 after the horizontal pass is 10 + 5y + 30 * (111*1 + 29*2 - 9*3 - 3*4) / 239 = 26.32 + 5y.
    expect(handResize(IMG, HAND_8_TO_4, undefined).map((row) => row[0]?.[0])).toEqual([26, 31, 36, 41]);
    expect(Array.from(resizeBicubic(IMG, 4, 4).data)).toEqual(flat(handResize(IMG, HAND_8_TO_4, undefined)));
  });

  it('clamps the overshoot of an upsampled step to [0, 255]', () => {
    /*
     * 4 -> 8 (scale 0.5, support 2, no stretch): centres 0.25, 0.75, ..., 3.75; taps at j + 0.5 - centre:
     *   out0 [111, -9] / 102, out1 [111, 29, -3] / 137, out2 [29, 111, -9] / 131, out3 [-9, 111, 29, -3] / 128, and mirrored.
     * On the step 0 0 255 255: out1 = 255 * -3/137 < 0 and out2 = 255 * -9/131 < 0 clamp to 0; out3 = 255 * 26/128 = 51.8;
     * out4 = 255 * 102/128 = 203.2; out5 = 255 * 140/131 and out6 = 255 * 140/137 exceed 255 and clamp.
     */
    expect(bicubicTapsFloat(4, 8).slice(0, 4).map((t) => [t.first, Array.from(t.weights)])).toEqual([
      [0, [111 / 102, -9 / 102]],
      [0, [111 / 137, 29 / 137, -3 / 137]],
      [0, [29 / 131, 111 / 131, -9 / 131]],
      [0, [-9 / 128, 111 / 128, 29 / 128, -3 / 128]],
    ]);
    const step = imageOf(4, 1, (x) => (x < 2 ? [0, 0, 0] : [255, 255, 255]));
    expect(Array.from(resizeBicubic(step, 8, 1).data).filter((_, i) => i % 3 === 0)).toEqual([0, 0, 0, 52, 203, 255, 255, 255]);
  });

  it('rounds to uint8 between the passes (a float pipeline would differ)', () => {
    const mid = handResize(IMG, HAND_8_TO_4, undefined);
    const vertical = resizeBicubic({ width: 4, height: 4, data: Uint8Array.from(flat(mid)) }, 4, 2);
    expect(Array.from(resizeBicubic(IMG, 4, 2).data)).toEqual(Array.from(vertical.data));
  });

  it('returns a copy for a same-size resize and rejects bad sizes', () => {
    const same = resizeBicubic(IMG, 8, 4);
    expect(same.data).toEqual(IMG.data);
    expect(same.data).not.toBe(IMG.data);
    expect(() => resizeBicubic(IMG, 0, 3)).toThrow(new ImageError('resizeBicubic: target size must be positive integers, got 0x3'));
  });
});

describe('CLIP image processor', () => {
  const tiny: ClipProcessorConfig = clipProcessorForSize(2);
  const MEAN = [0.48145466, 0.4578275, 0.40821073];
  const STD = [0.26862954, 0.26130258, 0.27577711];
  const norm = (u8: number, c: number): number => {
    const f = Math.fround;
    return f(f(f(u8 * (1 / 255)) - f(MEAN[c] ?? 0)) / f(STD[c] ?? 1));
  };

  it('sizes the short side to the edge and truncates the long side', () => {
    expect(resizeOutputSize(8, 4, { kind: 'shortestEdge', edge: 2 })).toEqual({ width: 4, height: 2 });
    expect(resizeOutputSize(7, 5, { kind: 'shortestEdge', edge: 3 })).toEqual({ width: 4, height: 3 }); // int(3 * 7 / 5) = 4
    expect(resizeOutputSize(500, 1000, { kind: 'shortestEdge', edge: 336 })).toEqual({ width: 336, height: 672 });
    expect(resizeOutputSize(1000, 333, { kind: 'shortestEdge', edge: 336 })).toEqual({ width: 1009, height: 336 }); // 1009.009...
  });

  it('crops at floor((size - crop) / 2), padding with black when the image is smaller', () => {
    const img = imageOf(5, 3, (x, y) => [x, y, 7]);
    const c = centerCrop(img, 2, 2);
    expect(pixelAt(c, 0, 0)).toEqual([1, 0, 7]); // left = (5 - 2) // 2 = 1, top = (3 - 2) // 2 = 0
    const padded = centerCrop(img, 8, 4); // left = (5 - 8) // 2 = -2: image placed at x = 2 (ceil(3 / 2)), y = 1
    expect(pixelAt(padded, 1, 1)).toEqual([0, 0, 0]);
    expect(pixelAt(padded, 2, 1)).toEqual([0, 0, 7]);
    expect(pixelAt(padded, 6, 3)).toEqual([4, 2, 7]);
  });

  it('resizes 8x4 to 4x2, crops columns 1..2 and normalises in float32 exactly as numpy', () => {
    const resized = handResize(IMG, HAND_8_TO_4, HAND_4_TO_2);
    const cropped = resized.map((row) => row.slice(1, 3));
    const geo = clipGeometry(IMG, tiny);
    expect([geo.width, geo.height]).toEqual([2, 2]);
    expect(Array.from(geo.data)).toEqual(flat(cropped));
    const px = clipPreprocess(IMG, tiny);
    expect(px.shape).toEqual([3, 2, 2]);
    const want = [0, 1, 2].flatMap((c) => cropped.flatMap((row) => row.map((p) => norm(p[c] ?? 0, c))));
    expect(Array.from(px.data)).toEqual(want);
  });

  it('maps 0 and 255 to the known CLIP extremes', () => {
    const px = clipPreprocess(imageOf(2, 2, (x) => (x === 0 ? [0, 0, 0] : [255, 255, 255])), tiny);
    expect(px.data[0]).toBeCloseTo(-1.7922625, 6);
    expect(px.data[1]).toBeCloseTo(1.9303361, 6);
    expect(px.data[4]).toBeCloseTo(-1.7520971, 6);
    expect(px.data[9]).toBeCloseTo(2.145897, 6);
  });

  it("pads to a square with LLaVA's truncated mean colour, centred with floor offsets", () => {
    expect(llavaPadColor(CLIP_336_PROCESSOR)).toEqual([122, 116, 104]);
    const wide = imageOf(4, 2, (x, y) => [x * 60, y * 100, 200]);
    const sq = expandToSquare(wide, [122, 116, 104]);
    expect([sq.width, sq.height]).toEqual([4, 4]);
    expect(pixelAt(sq, 3, 0)).toEqual([122, 116, 104]); // offset (4 - 2) // 2 = 1
    expect(pixelAt(sq, 2, 1)).toEqual([120, 0, 200]);
    expect(pixelAt(sq, 2, 2)).toEqual([120, 100, 200]);
    expect(pixelAt(sq, 0, 3)).toEqual([122, 116, 104]);
    const tall = expandToSquare(imageOf(2, 5, () => [1, 2, 3]), [9, 9, 9]);
    expect([pixelAt(tall, 0, 0), pixelAt(tall, 1, 0), pixelAt(tall, 2, 4), pixelAt(tall, 3, 4)]).toEqual([[9, 9, 9], [1, 2, 3], [1, 2, 3], [9, 9, 9]]); // (5 - 2) // 2 = 1
    // Then the processor: 4x4 -> 2x2 with the 4 -> 2 taps on both axes; the crop is the identity.
    const geo = clipGeometry(sq, tiny);
    expect(Array.from(geo.data)).toEqual(flat(handResize(sq, HAND_4_TO_2, HAND_4_TO_2)));
  });

  it('reads preprocessor_config.json in the old and new formats', () => {
    const old = clipProcessorFromHf({ crop_size: 336, do_center_crop: true, do_normalize: true, do_resize: true, feature_extractor_type: 'CLIPFeatureExtractor', image_mean: MEAN, image_std: STD, resample: 3, size: 336 });
    expect(old).toEqual(CLIP_336_PROCESSOR);
    const neu = clipProcessorFromHf({ size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, do_rescale: true, rescale_factor: 0.00392156862745098 });
    expect(neu.resize).toEqual({ kind: 'shortestEdge', edge: 224 });
    expect(neu.rescaleFactor).toBe(1 / 255);
    expect(() => clipProcessorFromHf({ resample: 2 }, 'p.json')).toThrow(new ImageError('p.json: resample 2 is not supported (3 = BICUBIC)'));
    expect(() => clipProcessorFromHf({ size: 'big' }, 'p.json')).toThrow(/p.json: field 'size' must be an integer/);
    expect(() => clipProcessorFromHf({ image_mean: [1, 2] }, 'p.json')).toThrow(/p.json: field 'image_mean' must be a number or a list of 3 numbers/);
    expect(() => clipProcessorFromHf({ image_std: [1, 0, 1] }, 'p.json')).toThrow(/p.json: field 'image_std' has a zero entry/);
    expect(() => clipProcessorFromHf([], 'p.json')).toThrow(/p.json: the top-level value must be a JSON object/);
  });
});

describe('PIL geometry helpers', () => {
  it('paste clips to the destination and crop reads outside as black', () => {
    const dst = newImage(3, 2, [5, 5, 5]);
    const out = pasteImage(dst, newImage(2, 2, [9, 8, 7]), 2, -1);
    expect([pixelAt(out, 2, 0), pixelAt(out, 1, 0), pixelAt(out, 2, 1)]).toEqual([[9, 8, 7], [5, 5, 5], [5, 5, 5]]);
    expect(pixelAt(dst, 2, 0)).toEqual([5, 5, 5]);
    const c = cropImage(dst, 2, 1, 2, 2);
    expect([pixelAt(c, 0, 0), pixelAt(c, 1, 0), pixelAt(c, 0, 1)]).toEqual([[5, 5, 5], [0, 0, 0], [0, 0, 0]]);
    expect(() => newImage(2, 2, [256, 0, 0])).toThrow(/colour must be three integers in \[0, 255\]/);
  });
});
