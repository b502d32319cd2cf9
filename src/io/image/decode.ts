/** Image files to RGB: the format is recognised by its signature, not by the file name. */
import { readFileSync } from 'node:fs';
import { decodeJpeg, isJpeg } from './jpeg.js';
import { decodePng, isPng } from './png.js';
import { ImageError, type RgbImage } from './rgb.js';

/** Decodes PNG or JPEG bytes; `source` (usually the file path) names the image in errors. */
export function decodeImage(bytes: Uint8Array, source = '<image>'): RgbImage {
  if (bytes.length === 0) throw new ImageError(`${source}: empty file`);
  if (isPng(bytes)) return decodePng(bytes, source);
  if (isJpeg(bytes)) return decodeJpeg(bytes, source);
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ImageError(`${source}: unsupported image format (first bytes ${head}); PNG and JPEG are supported`);
}

/** Reads and decodes an image file (PIL `Image.open(path).convert('RGB')`). */
export function loadImage(path: string): RgbImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageError(`${path}: cannot read image: ${(e as Error).message}`);
  }
  return decodeImage(bytes, path);
}
