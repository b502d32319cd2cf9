/**
 * Image -> vision embeddings: the crops LLaVA encodes, the order of the rows it feeds the language model (checked
 * with tagged features at full LLaVA-NeXT size), and the whole tiny pipeline against the independent CLIP.
 */
import {
  buildClipVisionTower,
  clipEncoder,
  type EncodeFn,
  imageToVisionEmbeddings,
  llavaImageCrops,
  type ProjectFn,
  TINY_CLIP,
  type VisionConfig,
  visionTokenCount,
  visionTowerFor,
  zooModel,
} from '../../../models/index.js';
import { referenceExecutor } from '../../../src/backends/reference/index.js';
import { type HostTensor, makeTensor, type MapStore } from '../../../src/ir/index.js';
import {
  clipPreprocess,
  clipProcessorForSize,
  cropImage,
  expandToSquare,
  newImage,
  resizeAndPadImage,
  resizeBicubic,
  type RgbImage,
} from '../../../src/io/image/index.js';
import { randomWeights, Rng } from '../../../src/runtime/random.js';
import { naiveClipHiddenStates } from '../../helpers/naive-clip.js';

const NEXT = zooModel('llava-next-7b').vision as VisionConfig;
const LLAVA15 = zooModel('llava-1.5-7b').vision as VisionConfig;

function patternImage(width: number, height: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set([(x * 7 + y) % 256, (y * 5) % 256, rng.int(256)], (y * width + x) * 3);
  return { width, height, data };
}

const same = (a: HostTensor, b: HostTensor): void => {
  expect(a.shape).toEqual(b.shape);
  expect(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength))).toBe(true);
};

describe('LLaVA crops', () => {
  it("'pad' encodes one crop: expand2square on the mean colour, then the CLIP processor", () => {
    const img = patternImage(50, 20, 1);
    const { crops, grid } = llavaImageCrops(img, LLAVA15);
    expect(grid).toBeUndefined();
    expect(crops).toHaveLength(1);
    same(crops[0] as HostTensor, clipPreprocess(expandToSquare(img, [122, 116, 104]), visionTowerFor(LLAVA15).processor));
    expect(crops[0]?.shape).toEqual([3, 336, 336]);
  });

  it("'anyres' encodes the squashed base image, then the tiles of the padded image row by row", () => {
    const img = patternImage(1000, 500, 2);
    const { crops, grid } = llavaImageCrops(img, NEXT);
    expect(grid).toEqual({ cols: 2, rows: 1 });
    expect(crops).toHaveLength(3);
    const proc = visionTowerFor(NEXT).processor;
    same(crops[0] as HostTensor, clipPreprocess(resizeBicubic(img, 336, 336), proc));
    const padded = resizeAndPadImage(img, [672, 336]);
    same(crops[1] as HostTensor, clipPreprocess(cropImage(padded, 0, 0, 336, 336), proc));
    same(crops[2] as HostTensor, clipPreprocess(cropImage(padded, 336, 0, 336, 336), proc));
  });

  it('pads the tiles with black, centred (tiny tower, 16-pixel tiles)', () => {
    const tiny: VisionConfig = { ...NEXT, visionTower: 'tiny-clip', gridPinpoints: [[16, 32], [32, 16], [32, 32]] };
    const img = newImage(16, 16, [200, 100, 50]);
    const { crops, grid } = llavaImageCrops(img, tiny);
    expect(grid).toEqual({ cols: 1, rows: 2 }); // (16, 32): tie with (32, 16), first wins
    const proc = clipProcessorForSize(16);
    // The 16x16 image is pasted at y = (32 - 16) // 2 = 8: tile 0 is black above row 8, tile 1 below row 8.
    const band = (top: number): RgbImage => {
      const t = newImage(16, 16);
      return { ...t, data: t.data.map((_, i) => (Math.floor(i / 48) >= top ? [200, 100, 50][i % 3] ?? 0 : 0)) };
    };
    const below = (t: RgbImage): RgbImage => ({ ...t, data: t.data.map((_, i) => (Math.floor(i / 48) < 8 ? [200, 100, 50][i % 3] ?? 0 : 0)) });
    same(crops[1] as HostTensor, clipPreprocess(band(8), proc));
    same(crops[2] as HostTensor, clipPreprocess(below(newImage(16, 16)), proc));
  });
});

describe('vision embedding order (LLaVA-NeXT size, tagged features)', () => {
  /** Feature row r of the k-th encoded crop is [k, r, 0, 0]; the projector appends a marker column. */
  function tagged(): { encode: EncodeFn; project: ProjectFn; calls: number[] } {
    let k = 0;
    const calls: number[] = [];
    const encode: EncodeFn = (pixels) => {
      expect(pixels.shape).toEqual([3, 336, 336]);
      const f = makeTensor('f32', [576, 4]);
      for (let r = 0; r < 576; r++) f.data.set([k, r], r * 4);
      k++;
      return Promise.resolve(f);
    };
    const project: ProjectFn = (f) => {
      const n = f.shape[0] ?? 0;
      calls.push(n);
      const out = makeTensor('f32', [n, 5]);
      for (let i = 0; i < n; i++) out.data.set([...f.data.subarray(i * 4, i * 4 + 4), 1], i * 5);
      return Promise.resolve(out);
    };
    return { encode, project, calls };
  }
  const NEWLINE = makeTensor('f32', [5], [-1, -1, -1, -1, -1]);

  /** LLaVA's order, written out: base rows, then map rows y in [r0, r1), cols x in [c0, c1), a newline after each row. */
  function expectedRows(cols: number, region: [number, number, number, number]): number[][] {
    const rows: number[][] = [];
    for (let r = 0; r < 576; r++) rows.push([0, r, 0, 0, 1]);
    const [r0, r1, c0, c1] = region;
    for (let y = r0; y < r1; y++) {
      for (let x = c0; x < c1; x++) rows.push([1 + Math.floor(y / 24) * cols + Math.floor(x / 24), (y % 24) * 24 + (x % 24), 0, 0, 1]);
      rows.push([-1, -1, -1, -1, -1]);
    }
    return rows;
  }

  const cases: [number, number, number, [number, number, number, number]][] = [
    [336, 336, 1, [12, 36, 0, 24]],
    [672, 672, 2, [0, 48, 0, 48]],
    [1000, 500, 2, [0, 24, 0, 48]],
    [2000, 300, 3, [7, 17, 0, 72]],
    [300, 2000, 1, [0, 72, 7, 17]],
  ];
  it.each(cases)('%i x %i', async (w, h, cols, region) => {
    const { encode, project, calls } = tagged();
    const out = await imageToVisionEmbeddings(patternImage(w, h, 3), { vision: NEXT, encode, project, imageNewline: NEWLINE });
    const want = expectedRows(cols, region);
    expect(out.shape).toEqual([want.length, 5]);
    expect(out.shape[0]).toBe(visionTokenCount({ width: w, height: h }, NEXT));
    // First differing row (jest's deep equality is slow on arrays of this size).
    const flatWant = want.flat();
    const firstBad = flatWant.findIndex((v, i) => out.data[i] !== v);
    expect(firstBad === -1 ? 'all rows match' : `row ${Math.floor(firstBad / 5)}: got [${Array.from(out.data.subarray(firstBad - (firstBad % 5), firstBad - (firstBad % 5) + 5)).join(', ')}]`).toBe('all rows match');
    // One projector call on the base rows plus the kept grid rows (newlines are not projected).
    expect(calls).toEqual([576 + (region[1] - region[0]) * (region[3] - region[2])]);
  });

  it('LLaVA-1.5 gives the 576 projected rows of its single crop', async () => {
    const { encode, project } = tagged();
    const out = await imageToVisionEmbeddings(patternImage(40, 90, 4), { vision: LLAVA15, encode, project });
    expect(out.shape).toEqual([576, 5]);
    expect(Array.from(out.data.subarray(5 * 575, 5 * 576))).toEqual([0, 575, 0, 0, 1]);
  });

  it('checks the callbacks and the newline', async () => {
    const { encode, project } = tagged();
    const img = patternImage(20, 20, 5);
    await expect(imageToVisionEmbeddings(img, { vision: NEXT, encode, project })).rejects.toThrow(/needs the image_newline tensor/);
    await expect(imageToVisionEmbeddings(img, { vision: NEXT, encode, project, imageNewline: makeTensor('f32', [4]) })).rejects.toThrow('image_newline must be [5] to match the projector output, got [4]');
    const short: EncodeFn = () => Promise.resolve(makeTensor('f32', [577, 4]));
    await expect(imageToVisionEmbeddings(img, { vision: LLAVA15, encode: short, project })).rejects.toThrow('vision tower output for crop 0: expected [576, C] features, got [577, 4]');
    const bad: ProjectFn = () => Promise.resolve(makeTensor('f32', [3, 5]));
    await expect(imageToVisionEmbeddings(img, { vision: LLAVA15, encode, project: bad })).rejects.toThrow('projector output: expected [576, d], got [3, 5]');
    let calls = 0;
    const ragged: EncodeFn = () => Promise.resolve(makeTensor('f32', [576, calls++ === 0 ? 4 : 3]));
    await expect(imageToVisionEmbeddings(img, { vision: NEXT, encode: ragged, project, imageNewline: NEWLINE })).rejects.toThrow('vision tower output for crop 1: 3 features per row, crop 0 had 4');
    const mismatch = { clip: TINY_CLIP, processor: clipProcessorForSize(20) };
    expect(() => llavaImageCrops(img, LLAVA15, mismatch)).toThrow("image processor crops 20x20 but vision tower 'tiny-clip' takes 16x16");
  });
});

describe('tiny LLaVA vision pipeline end to end (reference backend vs independent CLIP)', () => {
  const TINY_PAD: VisionConfig = { ...LLAVA15, visionTower: 'tiny-clip', mmHiddenSize: 32 };
  const TINY_NEXT: VisionConfig = { ...NEXT, visionTower: 'tiny-clip', mmHiddenSize: 32, gridPinpoints: [[16, 32], [32, 16], [32, 32]] };
  const graph = buildClipVisionTower(TINY_CLIP, { selectLayer: -2 });
  const weights: MapStore = randomWeights(buildClipVisionTower(TINY_CLIP, { selectLayer: -1 }), 21);
  const d = 24;
  const rng = new Rng(9);
  const proj = Array.from({ length: d * 32 }, () => rng.normal() / Math.sqrt(32));
  const newline = makeTensor('f32', [d], Array.from({ length: d }, () => rng.normal()));
  const linear = (row: readonly number[]): number[] => Array.from({ length: d }, (_, o) => row.reduce((a, v, i) => a + v * (proj[o * 32 + i] ?? 0), 0));
  const project: ProjectFn = (f) => {
    const n = f.shape[0] ?? 0;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(...linear(Array.from(f.data.subarray(i * 32, (i + 1) * 32))));
    return Promise.resolve(makeTensor('f32', [n, d], out));
  };
  /** hidden_states[-2] without CLS, by the independent implementation. */
  const naiveFeatures = (crop: HostTensor): number[][] => {
    const states = naiveClipHiddenStates(crop.data, weights, { ...TINY_CLIP }, 'vision_model.');
    return (states[TINY_CLIP.numLayers - 1] ?? []).slice(1);
  };
  const maxDiff = (a: ArrayLike<number>, b: readonly number[]): number => {
    expect(a.length).toBe(b.length);
    return Math.max(...b.map((v, i) => Math.abs((a[i] ?? 0) - v)));
  };

  it("'pad': 16 rows = projection of the selected CLIP features of the padded image", async () => {
    const encode = clipEncoder(await referenceExecutor().prepare(graph, weights));
    const img = patternImage(23, 11, 6);
    const out = await imageToVisionEmbeddings(img, { vision: TINY_PAD, encode, project });
    expect(out.shape).toEqual([16, d]);
    expect(visionTokenCount(img, TINY_PAD)).toBe(16);
    const crop = llavaImageCrops(img, TINY_PAD).crops[0] as HostTensor;
    expect(maxDiff(out.data, naiveFeatures(crop).flatMap(linear))).toBeLessThan(5e-5);
  });

  it("'anyres': base rows, then the unpadded 2 x 8 grid with a newline per row (N_v = 16 + 2 * 9)", async () => {
    const encode = clipEncoder(await referenceExecutor().prepare(graph, weights));
    // 40x12 -> (32, 16): 2 x 1 tiles, a 4 x 8 feature map; int(12 * 8/40) = 2 rows kept, pad (4 - 2) // 2 = 1.
    const img = patternImage(40, 12, 7);
    const out = await imageToVisionEmbeddings(img, { vision: TINY_NEXT, encode, project, imageNewline: newline });
    expect(visionTokenCount(img, TINY_NEXT)).toBe(34);
    expect(out.shape).toEqual([34, d]);
    const { crops } = llavaImageCrops(img, TINY_NEXT);
    expect(crops).toHaveLength(3);
    const [base, left, right] = crops.map(naiveFeatures) as [number[][], number[][], number[][]];
    const want: number[] = base.flatMap(linear);
    for (const y of [1, 2]) {
      for (let x = 0; x < 8; x++) want.push(...linear((x < 4 ? left : right)[y * 4 + (x % 4)] ?? []));
      want.push(...Array.from(newline.data));
    }
    expect(maxDiff(out.data, want)).toBeLessThan(5e-5);
  });
});
