/**
 * PNG decoding to RGB with the pixel values PIL's `Image.open(f).convert('RGB')` gives: alpha is dropped (never
 * composited), palettes and grayscale are expanded, low bit depths are scaled to 0..255, 16-bit colour keeps the
 * high byte, and 16-bit grayscale is clipped to 255 (PIL opens it as 32-bit integers and clips on conversion).
 */
import pngjs from 'pngjs';
import { checkImageSize, type ImageLimits } from './limits.js';
import { ImageError, type RgbImage } from './rgb.js';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as PNG chunks use) of `bytes`. */
function crc32(bytes: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = (crcTable[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function u32(bytes: Uint8Array, at: number): number {
  return (((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0)) >>> 0;
}

/**
 * Walks the chunk list, checking that every chunk fits in the file, that IHDR comes first (with a size that may be
 * decoded) and IEND last, and drops tRNS chunks: the decoder would otherwise zero the colour of pixels matching the
 * transparent colour, while PIL keeps their colour and only discards alpha.
 */
function withoutTransparency(bytes: Uint8Array, source: string, limits: ImageLimits): Uint8Array {
  const keep: [number, number][] = [[0, 8]];
  let at = 8;
  let first = true;
  for (;;) {
    if (at + 8 > bytes.length) throw new ImageError(`${source}: truncated PNG: chunk header at byte offset ${at} runs past the end of the file (${bytes.length} bytes)`);
    const len = u32(bytes, at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 12 + len;
    if (end > bytes.length) throw new ImageError(`${source}: truncated PNG: chunk '${type}' at byte offset ${at} needs ${len + 12} bytes, ${bytes.length - at} remain`);
    if (first && type !== 'IHDR') throw new ImageError(`${source}: corrupt PNG: first chunk at byte offset 8 is '${type}', expected 'IHDR'`);
    if (first) {
      if (len < 13) throw new ImageError(`${source}: corrupt PNG: IHDR at byte offset 8 has ${len} bytes, expected 13`);
      // A damaged header is reported as such (as PIL does) before its size is believed.
      if (crc32(bytes.subarray(12, 12 + 4 + len)) !== u32(bytes, 16 + len)) throw new ImageError(`${source}: corrupt PNG: bad CRC of the IHDR chunk at byte offset 8`);
      // Before anything is inflated: the declared size bounds the memory decoding takes.
      checkImageSize(u32(bytes, 16), u32(bytes, 20), source, 'PNG header (IHDR, byte offset 16)', limits);
    }
    first = false;
    if (type !== 'tRNS') keep.push([at, end]);
    at = end;
    if (type === 'IEND') break;
  }
  const out = new Uint8Array(keep.reduce((n, [a, b]) => n + b - a, 0));
  let o = 0;
  for (const [a, b] of keep) {
    out.set(bytes.subarray(a, b), o);
    o += b - a;
  }
  return out;
}

/** Decodes a PNG file's bytes to RGB; `source` names the file in errors. */
export function decodePng(bytes: Uint8Array, source: string, limits: ImageLimits = {}): RgbImage {
  if (!isPng(bytes)) throw new ImageError(`${source}: not a PNG file (bad signature)`);
  const clean = withoutTransparency(bytes, source, limits);
  let png: ReturnType<typeof pngjs.PNG.sync.read>;
  try {
    png = pngjs.PNG.sync.read(Buffer.from(clean.buffer, clean.byteOffset, clean.byteLength), { skipRescale: true, checkCRC: true });
  } catch (e) {
    throw new ImageError(`${source}: corrupt PNG: ${(e as Error).message}`);
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
