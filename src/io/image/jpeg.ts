/**
 * JPEG decoding to RGB (baseline and progressive, grayscale or YCbCr) with jpeg-js. Truncated or corrupt data is an
 * error, as in PIL. Pixel values can differ from PIL's libjpeg-turbo by a few levels: jpeg-js has its own integer
 * IDCT and upsamples chroma by replication, where libjpeg-turbo uses "fancy" (triangular) upsampling.
 */
import jpeg from 'jpeg-js';
import { checkImageSize, type ImageLimits, MAX_IMAGE_PIXELS } from './limits.js';
import { ImageError, type RgbImage } from './rgb.js';

export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

interface Frame {
  readonly components: number;
  readonly height: number;
  readonly width: number;
  /** Byte offset of the SOFn marker. */
  readonly offset: number;
}

/** The first SOFn marker's frame header (components, size), or undefined if none is found. */
function frameHeader(bytes: Uint8Array): Frame | undefined {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return undefined;
    const marker = bytes[at + 1] ?? 0;
    if (marker === 0xff) {
      at++;
      continue;
    }
    const len = ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    const u16 = (i: number): number => ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
    if (isSof) return { components: bytes[at + 9] ?? 0, height: u16(at + 5), width: u16(at + 7), offset: at };
    if (marker === 0xda) return undefined;
    at += 2 + len;
  }
  return undefined;
}

/** Decodes a JPEG file's bytes to RGB; `source` names the file in errors. */
export function decodeJpeg(bytes: Uint8Array, source: string, limits: ImageLimits = {}): RgbImage {
  if (!isJpeg(bytes)) throw new ImageError(`${source}: not a JPEG file (no SOI marker)`);
  const frame = frameHeader(bytes);
  // Before any scan is decoded: the declared size bounds the memory decoding takes.
  if (frame !== undefined) checkImageSize(frame.width, frame.height, source, `JPEG frame header (SOF, byte offset ${frame.offset})`, limits);
  // PIL converts CMYK / YCCK with its own formulas; rather than guess them, refuse.
  if (frame?.components === 4) throw new ImageError(`${source}: CMYK/YCCK JPEG (4 components) is not supported; convert it to RGB first`);
  const maxPixels = limits.maxPixels ?? MAX_IMAGE_PIXELS;
  let img: { width: number; height: number; data: Uint8Array };
  try {
    // jpeg-js's own limits (100 MP, 512 MB by default) follow ours: about 16 bytes per pixel while decoding.
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((maxPixels * 16) / 2 ** 20) + 64 });
  } catch (e) {
    throw new ImageError(`${source}: corrupt JPEG: ${(e as Error).message}`);
  }
  if (img.width < 1 || img.height < 1 || img.data.length !== img.width * img.height * 3)
    throw new ImageError(`${source}: corrupt JPEG: decoded ${img.data.length} bytes for ${img.width}x${img.height} RGB`);
  return { width: img.width, height: img.height, data: img.data };
}
