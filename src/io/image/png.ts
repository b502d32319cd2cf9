/**
 * PNG decoding to RGB with the pixel values PIL's `Image.open(f).convert('RGB')` gives: alpha is dropped (never
 * composited), palettes and grayscale are expanded, low bit depths are scaled to 0..255, 16-bit colour keeps the
 * high byte, and 16-bit grayscale is clipped to 255 (PIL opens it as 32-bit integers and clips on conversion).
 */
import pngjs from 'pngjs';
import type { ImageLimits } from './limits.js';
import { pngChunks, type PngChunk } from './png-chunks.js';
import { ImageError, type RgbImage } from './rgb.js';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * The file without its tRNS chunks: the decoder would otherwise zero the colour of pixels matching the transparent
 * colour, while PIL keeps their colour and only discards alpha.
 */
function withoutTransparency(bytes: Uint8Array, chunks: readonly PngChunk[]): Uint8Array {
  const keep = [{ start: 0, end: 8 }, ...chunks.filter((c) => c.type !== 'tRNS')];
  const out = new Uint8Array(keep.reduce((n, c) => n + c.end - c.start, 0));
  let o = 0;
  for (const c of keep) {
    out.set(bytes.subarray(c.start, c.end), o);
    o += c.end - c.start;
  }
  return out;
}

/** Decodes a PNG file's bytes to RGB; `source` names the file in errors. */
export function decodePng(bytes: Uint8Array, source: string, limits: ImageLimits = {}): RgbImage {
  if (!isPng(bytes)) throw new ImageError(`${source}: not a PNG file (bad signature)`);
  const chunks = pngChunks(bytes, source, limits);
  const clean = withoutTransparency(bytes, chunks);
  let png: ReturnType<typeof pngjs.PNG.sync.read>;
  try {
    png = pngjs.PNG.sync.read(Buffer.from(clean.buffer, clean.byteOffset, clean.byteLength), { skipRescale: true, checkCRC: true });
  } catch (e) {
    // The structure is checked: what remains is the compressed image data (or a chunk pngjs reads, like PLTE).
    const idat = chunks.find((c) => c.type === 'IDAT')?.start ?? 8;
    throw new ImageError(`${source}: corrupt PNG: ${(e as Error).message} (in the image data of the IDAT chunks from byte offset ${idat})`);
  }
  const { width, height, depth } = png;
  // The type declarations omit 3 (palette), which the decoder does report.
  const colorType: number = png.colorType;
  // With skipRescale the samples keep their bit depth (a Uint16Array for 16-bit), always expanded to RGBA.
  const px: ArrayLike<number> = png.data;
  if (px.length !== width * height * 4) throw new ImageError(`${source}: corrupt PNG: decoded ${px.length} samples for ${width}x${height} RGBA`);
  const gray = colorType === 0 || colorType === 4;
  let map: (v: number) => number;
  if (colorType === 3 || depth === 8) map = (v) => v;
  else if (depth < 8) {
    const max = (1 << depth) - 1;
    map = (v) => (v * 255) / max;
  } else if (colorType === 0) map = (v) => Math.min(v, 255);
  else map = (v) => v >> 8;
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < out.length; i += 4, j += 3) {
    const r = map(px[i] ?? 0);
    out[j] = r;
    out[j + 1] = gray ? r : map(px[i + 1] ?? 0);
    out[j + 2] = gray ? r : map(px[i + 2] ?? 0);
  }
  return { width, height, data: out };
}
