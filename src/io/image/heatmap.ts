/**
 * The routing heatmap of a p-MoD forward pass, as pixels: for each MoD layer, the image as the vision tower saw
 * it with the patches the layer kept shown bright and the rest dimmed, a label with the layer and its capacity
 * k_l, and a bar of kept tokens against the dense layer's N_v. Pure (an RgbImage out): the CLI writes it as PNG,
 * a page can put it on a canvas. Labels use a built-in 3x5 pixel font, so nothing depends on system fonts.
 */
import type { HostTensor } from '../../ir/index.js';
import type { ClipProcessorConfig } from './clip-processor.js';
import { newImage, type Rgb, type RgbImage, rgbImage } from './rgb.js';
import { resizeBicubic } from './resample.js';

/** One MoD layer's routing: R_l, k_l and the kept vision-token indices (0 = the first vision token). */
export interface HeatmapLayer {
  readonly layer: number;
  readonly ratio: number;
  readonly capacity: number;
  readonly kept: readonly number[];
}

export interface HeatmapOptions {
  /** The image as the tower saw it (square, side S pixels). */
  readonly view: RgbImage;
  /** Patches per side of the tower's grid: vision tokens 0 .. side^2 - 1 are its patches, row-major. */
  readonly side: number;
  /** N_v, every vision token the dense layer keeps (for anyres it includes tokens beyond this view's grid). */
  readonly visionTokens: number;
  readonly layers: readonly HeatmapLayer[];
  /** Pixels of each panel's image (default 192). */
  readonly panel?: number;
  /** Panels per row (default 4). */
  readonly columns?: number;
}

/** The pixels of a preprocessed crop f32 [3, H, W] (undoing the CLIP normalisation): what the tower saw. */
export function cropPixels(crop: HostTensor, cfg: ClipProcessorConfig): RgbImage {
  const [c, h, w] = crop.shape;
  if (crop.shape.length !== 3 || c !== 3 || h === undefined || w === undefined) throw new RangeError(`a crop is f32 [3, H, W], got [${crop.shape.join(', ')}]`);
  const plane = h * w;
  const out = new Uint8Array(3 * plane);
  for (let ch = 0; ch < 3; ch++) {
    const mean = cfg.doNormalize ? (cfg.imageMean[ch] ?? 0) : 0;
    const std = cfg.doNormalize ? (cfg.imageStd[ch] ?? 1) : 1;
    const scale = cfg.doRescale ? cfg.rescaleFactor : 1;
    for (let p = 0; p < plane; p++) out[3 * p + ch] = Math.max(0, Math.min(255, Math.round(((crop.data[ch * plane + p] ?? 0) * std + mean) / scale)));
  }
  return rgbImage(w, h, out);
}

/** A layer's kept mask over the view's grid (tokens beyond side^2 are ignored here). */
export function keptMask(kept: readonly number[], side: number): boolean[] {
  const mask = new Array<boolean>(side * side).fill(false);
  for (const i of kept) if (i >= 0 && i < mask.length) mask[i] = true;
  return mask;
}

// 3x5 glyphs, rows top to bottom, 3 bits each (4 = left column).
const GLYPHS: Readonly<Record<string, readonly number[]>> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 1, 1, 1], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  L: [4, 4, 4, 4, 7], K: [5, 5, 6, 5, 5], N: [5, 7, 7, 7, 5], V: [5, 5, 5, 5, 2], R: [6, 5, 6, 5, 5], '=': [0, 7, 0, 7, 0], '/': [1, 1, 2, 4, 4], '.': [0, 0, 0, 0, 2],
  ' ': [0, 0, 0, 0, 0], ':': [0, 2, 0, 2, 0], '%': [5, 1, 2, 4, 5], '-': [0, 0, 7, 0, 0],
};

function set(img: RgbImage, x: number, y: number, c: Rgb): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const o = 3 * (y * img.width + x);
  img.data[o] = c[0];
  img.data[o + 1] = c[1];
  img.data[o + 2] = c[2];
}

function fill(img: RgbImage, x0: number, y0: number, w: number, h: number, c: Rgb): void {
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) set(img, x, y, c);
}

/** Draws `text` with the 3x5 font at `scale` pixels per font pixel; unknown characters are blank. */
export function drawText(img: RgbImage, text: string, x: number, y: number, scale: number, c: Rgb): void {
  [...text].forEach((ch, i) => {
    const g = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()] ?? GLYPHS[' '] ?? [];
    g.forEach((bits, row) => {
      for (let col = 0; col < 3; col++) if (bits & (4 >> col)) fill(img, x + (4 * i + col) * scale, y + row * scale, scale, scale, c);
    });
  });
}

const BACKGROUND: Rgb = [250, 250, 250];
const INK: Rgb = [20, 20, 20];
const KEPT_BAR: Rgb = [232, 120, 20];
const DENSE_BAR: Rgb = [205, 205, 205];

/** One panel: label, image with the layer's kept patches (all patches when `kept` is undefined), bar. */
function panel(out: RgbImage, view: RgbImage, side: number, x0: number, y0: number, label: string, kept: boolean[] | undefined, bar: number): void {
  const size = view.width;
  drawText(out, label, x0, y0 + 2, 2, INK);
  const top = y0 + 16;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const cell = Math.min(side - 1, Math.floor((y * side) / size)) * side + Math.min(side - 1, Math.floor((x * side) / size));
      const o = 3 * (y * size + x);
      const on = kept === undefined || kept[cell] === true;
      // Dropped patches: a quarter of their brightness, pulled towards grey so dark images still show them.
      const k = on ? 1 : 0.25;
      const base = on ? 0 : 40;
      set(out, x0 + x, top + y, [base + k * (view.data[o] ?? 0), base + k * (view.data[o + 1] ?? 0), base + k * (view.data[o + 2] ?? 0)]);
    }
  // Patch borders, so single kept patches stand out.
  for (let i = 1; i < side; i++) {
    const p = Math.round((i * size) / side);
    for (let t = 0; t < size; t++) {
      set(out, x0 + p, top + t, [255, 255, 255]);
      set(out, x0 + t, top + p, [255, 255, 255]);
    }
  }
  fill(out, x0, top + size + 4, size, 8, DENSE_BAR);
  fill(out, x0, top + size + 4, Math.round(size * Math.max(0, Math.min(1, bar))), 8, KEPT_BAR);
}

/** The heatmap: the input panel first, then one panel per MoD layer, `columns` per row. */
export function renderHeatmap(o: HeatmapOptions): RgbImage {
  const size = o.panel ?? 192;
  const columns = o.columns ?? 4;
  const view = resizeBicubic(o.view, size, size);
  const n = o.layers.length + 1;
  const cellW = size + 16;
  const cellH = size + 16 + 16;
  const rows = Math.ceil(n / columns);
  const out = newImage(Math.min(n, columns) * cellW + 16, rows * cellH + 16, BACKGROUND);
  const at = (i: number): [number, number] => [16 + (i % columns) * cellW, 16 + Math.floor(i / columns) * cellH];
  const [x, y] = at(0);
  panel(out, view, o.side, x, y, `NV=${o.visionTokens}`, undefined, 1);
  o.layers.forEach((l, i) => {
    const [px, py] = at(i + 1);
    panel(out, view, o.side, px, py, `L${l.layer} K=${l.kept.length}/${o.visionTokens}`, keptMask(l.kept, o.side), o.visionTokens ? l.kept.length / o.visionTokens : 0);
  });
  return out;
}
