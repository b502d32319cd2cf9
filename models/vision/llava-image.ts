/**
 * From a decoded image to LLaVA's vision embeddings [N_v, d], in the order the language model receives them:
 * LLaVA-1.5 ('pad' / 'square': one 336x336 crop, 576 rows) and LLaVA-NeXT ('anyres' with 'spatial_unpad': the
 * base image's rows, then the unpadded tile grid row by row, each grid row followed by `image_newline`), following
 * llava/mm_utils.py and llava/model/llava_arch.py of p-MoD. The vision tower and the projector are callbacks, so any
 * executor can run them.
 */
import {
  clipPreprocess,
  type ClipProcessorConfig,
  CLIP_336_PROCESSOR,
  clipProcessorForSize,
  divideToPatches,
  expandToSquare,
  type HostTensor,
  type ImageSize,
  llavaPadColor,
  makeTensor,
  type Pinpoint,
  type PreparedGraph,
  resizeAndPadImage,
  resizeBicubic,
  type RgbImage,
  selectBestResolution,
  unpadRegion,
} from '../../src/index.js';
import { ConfigError, type VisionConfig } from '../config.js';
import { CLIP_VIT_L14_336, type ClipVisionConfig, numPatches, patchesPerSide, TINY_CLIP } from './clip-config.js';
import { CLIP_INPUT, CLIP_OUTPUT } from './clip.js';

/** Runs the vision tower on one preprocessed crop f32 [3, S, S]; returns its patch features f32 [P, C]. */
export type EncodeFn = (pixels: HostTensor) => Promise<HostTensor>;
/** Runs the projector on feature rows f32 [N, C]; returns f32 [N, d]. Row i of the result depends on row i only. */
export type ProjectFn = (features: HostTensor) => Promise<HostTensor>;

/** The tower and processor configurations of a LLaVA model's `mm_vision_tower`. */
export interface VisionTower {
  readonly clip: ClipVisionConfig;
  readonly processor: ClipProcessorConfig;
}

/** The tower a zoo model names; other towers are read with `clipVisionFromHf` / `clipProcessorFromHf`. */
export function visionTowerFor(vision: VisionConfig): VisionTower {
  if (vision.visionTower === CLIP_VIT_L14_336.name) return { clip: CLIP_VIT_L14_336, processor: CLIP_336_PROCESSOR };
  if (vision.visionTower === TINY_CLIP.name) return { clip: TINY_CLIP, processor: clipProcessorForSize(TINY_CLIP.imageSize) };
  throw new ConfigError(
    `vision tower '${vision.visionTower}' is not built in (${CLIP_VIT_L14_336.name}, ${TINY_CLIP.name}); read its config.json with clipVisionFromHf and its preprocessor_config.json with clipProcessorFromHf`,
  );
}

/** The anyres tile grid: `cols` x `rows` tiles of the tower's input size. */
export interface TileGrid {
  readonly cols: number;
  readonly rows: number;
}

/** Preprocessed crops of one image, in the order LLaVA encodes them. */
export interface LlavaImageCrops {
  /** f32 [3, S, S] each: the single crop, or (anyres) the base image then the tiles in row-major order. */
  readonly crops: HostTensor[];
  /** Present for anyres: the chosen grid. */
  readonly grid?: TileGrid;
  /** Size of the original image (anyres unpads with it). */
  readonly imageSize: ImageSize;
}

function checkTower(tower: VisionTower): void {
  const { clip, processor } = tower;
  if (processor.cropHeight !== clip.imageSize || processor.cropWidth !== clip.imageSize)
    throw new ConfigError(`image processor crops ${processor.cropWidth}x${processor.cropHeight} but vision tower '${clip.name}' takes ${clip.imageSize}x${clip.imageSize}`);
}

/** LLaVA reads `image_grid_pinpoints` pairs as (width, height); each side must be a whole number of tiles. */
function anyresGrid(size: ImageSize, vision: VisionConfig, tower: VisionTower): { best: Pinpoint; grid: TileGrid } {
  const tile = tower.clip.imageSize;
  if (vision.gridPinpoints.length === 0) throw new ConfigError(`image_aspect_ratio '${vision.imageAspectRatio}' needs image_grid_pinpoints, none given`);
  for (const [w, h] of vision.gridPinpoints)
    if (w % tile !== 0 || h % tile !== 0) throw new ConfigError(`image_grid_pinpoints entry [${w}, ${h}] is not a multiple of the ${tile}-pixel tile`);
  const best = selectBestResolution(size, vision.gridPinpoints);
  return { best, grid: { cols: best[0] / tile, rows: best[1] / tile } };
}

function aspectMode(vision: VisionConfig): 'pad' | 'square' | 'anyres' {
  const a = vision.imageAspectRatio;
  if (a === 'pad' || a === 'square' || a === 'anyres') {
    if (a === 'anyres' && vision.patchMergeType !== 'spatial_unpad')
      throw new ConfigError(`image_aspect_ratio 'anyres' is implemented with mm_patch_merge_type 'spatial_unpad' (as in p-MoD), got '${vision.patchMergeType}'`);
    return a;
  }
  throw new ConfigError(`image_aspect_ratio '${a}' is not supported (pad | square | anyres)`);
}

/**
 * LLaVA's `process_images` for one image. 'pad': `expand2square` on the processor's mean colour, then the CLIP
 * processor. 'square': the CLIP processor (shortest edge, centre crop). 'anyres': the image resized (aspect kept)
 * and black-padded onto the best grid resolution and cut into tiles; the base crop is the whole image squashed
 * to shortest_edge x shortest_edge; every crop then goes through the CLIP processor (a no-op resize and crop).
 */
export function llavaImageCrops(image: RgbImage, vision: VisionConfig, tower: VisionTower = visionTowerFor(vision)): LlavaImageCrops {
  checkTower(tower);
  const { processor } = tower;
  const imageSize = { width: image.width, height: image.height };
  const mode = aspectMode(vision);
  if (mode === 'pad') return { crops: [clipPreprocess(expandToSquare(image, llavaPadColor(processor)), processor)], imageSize };
  if (mode === 'square') return { crops: [clipPreprocess(image, processor)], imageSize };
  if (processor.resize.kind !== 'shortestEdge') throw new ConfigError("anyres needs an image processor that resizes by 'shortest_edge'");
  const edge = processor.resize.edge;
  const { best, grid } = anyresGrid(imageSize, vision, tower);
  const tiles = divideToPatches(resizeAndPadImage(image, best), processor.cropHeight);
  const base = resizeBicubic(image, edge, edge);
  return { crops: [base, ...tiles].map((c) => clipPreprocess(c, processor)), grid, imageSize };
}

/**
 * N_v for an image of the given size, without running anything: 576 for LLaVA-1.5 (patch features of one crop);
 * for anyres, the base crop's P rows plus h * (w + 1) for the h x w unpadded grid with one newline per row.
 */
export function visionTokenCount(size: ImageSize, vision: VisionConfig, tower: VisionTower = visionTowerFor(vision)): number {
  checkTower(tower);
  const p = numPatches(tower.clip);
  if (aspectMode(vision) !== 'anyres') return p;
  const { grid } = anyresGrid(size, vision, tower);
  const side = patchesPerSide(tower.clip);
  const r = unpadRegion(grid.rows * side, grid.cols * side, size);
  return p + (r.rowEnd - r.rowStart) * (r.colEnd - r.colStart + 1);
}

function checkFeatures(t: HostTensor, rows: number, what: string): number {
  const [n, c] = t.shape;
  if (t.shape.length !== 2 || n !== rows || c === undefined || c < 1) throw new ConfigError(`${what}: expected [${rows}, C] features, got [${t.shape.join(', ')}]`);
  return c;
}

/**
 * LLaVA-NeXT's spatial_unpad arrangement of tile features (before projection; the projector is per row): the
 * tiles' patch grids laid out as one (rows * s) x (cols * s) map, cut to `unpadRegion` of the original size, read
 * row-major. Returns the kept rows [h * w, C] and the kept map's height and width.
 */
export function unpaddedTileFeatures(tiles: readonly HostTensor[], grid: TileGrid, side: number, imageSize: ImageSize): { features: HostTensor; height: number; width: number } {
  if (tiles.length !== grid.rows * grid.cols) throw new ConfigError(`anyres: ${tiles.length} tile feature maps for a ${grid.cols}x${grid.rows} grid`);
  const widths = new Set(tiles.map((t, i) => checkFeatures(t, side * side, `tile ${i}`)));
  const [c = 0] = widths;
  if (widths.size > 1) throw new ConfigError(`anyres: tile feature widths differ: ${[...widths].join(', ')}`);
  const r = unpadRegion(grid.rows * side, grid.cols * side, imageSize);
  const [height, width] = [r.rowEnd - r.rowStart, r.colEnd - r.colStart];
  const out = new Float32Array(height * width * c);
  let o = 0;
  for (let y = r.rowStart; y < r.rowEnd; y++) {
    for (let x = r.colStart; x < r.colEnd; x++) {
      const tile = tiles[Math.floor(y / side) * grid.cols + Math.floor(x / side)];
      if (tile === undefined) throw new ConfigError(`anyres: no tile for feature (${y}, ${x})`);
      const row = ((y % side) * side + (x % side)) * c;
      out.set(tile.data.subarray(row, row + c), o);
      o += c;
    }
  }
  return { features: makeTensor('f32', [height * width, c], out), height, width };
}

export interface VisionEmbeddingOptions {
  readonly vision: VisionConfig;
  /** Tower and processor (default: `visionTowerFor(vision)`). */
  readonly tower?: VisionTower;
  readonly encode: EncodeFn;
  readonly project: ProjectFn;
  /** `model.image_newline` [d]: required for anyres. */
  readonly imageNewline?: HostTensor;
}

/**
 * The vision embeddings f32 [N_v, d] of one image, rows in LLaVA's order; N_v equals `visionTokenCount`.
 * The tower must return patch features only (selectFeature 'patch', P = (S / patch)^2 rows per crop).
 */
export async function imageToVisionEmbeddings(image: RgbImage, opts: VisionEmbeddingOptions): Promise<HostTensor> {
  const tower = opts.tower ?? visionTowerFor(opts.vision);
  const plan = llavaImageCrops(image, opts.vision, tower);
  const p = numPatches(tower.clip);
  const feats: HostTensor[] = [];
  for (const [i, crop] of plan.crops.entries()) {
    const f = await opts.encode(crop);
    const c = checkFeatures(f, p, `vision tower output for crop ${i}`);
    if (i > 0 && c !== feats[0]?.shape[1]) throw new ConfigError(`vision tower output for crop ${i}: ${c} features per row, crop 0 had ${feats[0]?.shape[1] ?? 0}`);
    feats.push(f);
  }
  const [base, ...tiles] = feats;
  if (base === undefined) throw new ConfigError('no crops to encode');
  if (plan.grid === undefined) return checkProjected(await opts.project(base), p);

  const side = patchesPerSide(tower.clip);
  const grid = unpaddedTileFeatures(tiles, plan.grid, side, plan.imageSize);
  const c = base.shape[1] ?? 0;
  const joined = new Float32Array((p + grid.height * grid.width) * c);
  joined.set(base.data.subarray(0, p * c));
  joined.set(grid.features.data, p * c);
  const projected = checkProjected(await opts.project(makeTensor('f32', [p + grid.height * grid.width, c], joined)), p + grid.height * grid.width);
  const d = projected.shape[1] ?? 0;
  const newline = opts.imageNewline;
  if (newline === undefined) throw new ConfigError("anyres with 'spatial_unpad' needs the image_newline tensor (model.image_newline)");
  if (newline.shape.length !== 1 || newline.shape[0] !== d) throw new ConfigError(`image_newline must be [${d}] to match the projector output, got [${newline.shape.join(', ')}]`);
  const out = new Float32Array((p + grid.height * (grid.width + 1)) * d);
  out.set(projected.data.subarray(0, p * d));
  let o = p * d;
  for (let y = 0; y < grid.height; y++) {
    const from = (p + y * grid.width) * d;
    out.set(projected.data.subarray(from, from + grid.width * d), o);
    o += grid.width * d;
    out.set(newline.data.subarray(0, d), o);
    o += d;
  }
  return makeTensor('f32', [out.length / d, d], out);
}

function checkProjected(t: HostTensor, rows: number): HostTensor {
  if (t.shape.length !== 2 || t.shape[0] !== rows || (t.shape[1] ?? 0) < 1) throw new ConfigError(`projector output: expected [${rows}, d], got [${t.shape.join(', ')}]`);
  if (t.dtype === 'f32') return t;
  return makeTensor('f32', t.shape, t.data);
}

/** An EncodeFn over a prepared tower graph (from `buildClipVisionTower`) on any executor. */
export function clipEncoder(tower: PreparedGraph): EncodeFn {
  return async (pixels) => {
    const out = await tower.run({ [CLIP_INPUT]: pixels });
    const f = out[CLIP_OUTPUT];
    if (f === undefined) throw new ConfigError(`vision tower graph '${tower.graph.name}' has no '${CLIP_OUTPUT}' output`);
    return f;
  };
}
