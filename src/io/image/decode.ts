/** Image files to RGB: the format is recognised by its signature, not by the file name. */
import { prefixed, readRegularFile } from '../files.js';
import { decodeJpeg, isJpeg } from './jpeg.js';
import type { ImageLimits } from './limits.js';
import { decodePng, isPng } from './png.js';
import { ImageError, type RgbImage } from './rgb.js';

/** Decodes PNG or JPEG bytes; `source` (usually the file path) names the image in errors. */
export function decodeImage(bytes: Uint8Array, source = '<image>', limits: ImageLimits = {}): RgbImage {
  if (bytes.length === 0) throw new ImageError(`${source}: empty file: no image signature at byte offset 0`);
  if (isPng(bytes)) return decodePng(bytes, source, limits);
  if (isJpeg(bytes)) return decodeJpeg(bytes, source, limits);
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new ImageError(`${source}: unsupported image format (first bytes ${head}); PNG and JPEG are supported`);
}

/** Reads and decodes an image file (PIL `Image.open(path).convert('RGB')`). */
export function loadImage(path: string, limits: ImageLimits = {}): RgbImage {
  return decodeImage(readRegularFile(path, prefixed(ImageError), { what: 'image file' }), path, limits);
}
