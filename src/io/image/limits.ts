/**
 * The size checks every image passes before it is decoded, from the dimensions in its header: at least one pixel
 * each way, and at most Pillow's decompression-bomb limit (a 50 KB PNG can declare 20000x20000 pixels and decode
 * to 1.2 GB of RGB). The limit can be raised (or lowered) per call, as Pillow's Image.MAX_IMAGE_PIXELS can.
 */
import { ImageError } from './rgb.js';

/**
 * Where Pillow raises DecompressionBombError: twice Image.MAX_IMAGE_PIXELS (int(1024 * 1024 * 1024 // 4 // 3) =
 * 89,478,485, above which it only warns). Refusing here rather than warning: a warning nobody reads protects nothing.
 */
export const MAX_IMAGE_PIXELS = 178_956_970;

export interface ImageLimits {
  /** Largest width * height decoded (default MAX_IMAGE_PIXELS). */
  readonly maxPixels?: number;
}

/** Throws ImageError naming the file (and where the size was read) unless width x height may be decoded. */
export function checkImageSize(width: number, height: number, source: string, where: string, limits: ImageLimits = {}): void {
  if (width < 1 || height < 1) throw new ImageError(`${source}: ${where} declares a ${width}x${height} image; an image needs at least one pixel each way`);
  const max = limits.maxPixels ?? MAX_IMAGE_PIXELS;
  const pixels = width * height;
  if (pixels > max)
    throw new ImageError(`${source}: ${where}: image size ${width}x${height} (${pixels} pixels) exceeds the limit of ${max} pixels, which guards against decompression bombs; raise the limit (maxPixels, modc --max-image-pixels) for an image you trust`);
}
