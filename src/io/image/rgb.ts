/**
 * 8-bit RGB images as plain data, and the few PIL geometry operations LLaVA's preprocessing uses (new, crop, paste),
 * with PIL's semantics: a crop box may extend past the image and the outside reads as black.
 */

/** An 8-bit RGB image: `data` holds width * height * 3 bytes, row-major, channels interleaved (PIL mode "RGB"). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export type Rgb = readonly [number, number, number];

/** A bad image file or an impossible image operation; the message names the file or the operation. */
export class ImageError extends Error {
  override name = 'ImageError';
}

function checkSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ImageError(`${what}: image size must be positive integers, got ${width}x${height}`);
}

function checkColor(c: Rgb, what: string): void {
  if (c.length !== 3 || c.some((v) => !Number.isInteger(v) || v < 0 || v > 255))
    throw new ImageError(`${what}: colour must be three integers in [0, 255], got [${c.join(', ')}]`);
}

/** Wraps raw RGB bytes, checking that their length fits the size. */
export function rgbImage(width: number, height: number, data: Uint8Array): RgbImage {
  checkSize(width, height, 'rgbImage');
  if (data.length !== width * height * 3) throw new ImageError(`rgbImage: ${width}x${height} RGB needs ${width * height * 3} bytes, got ${data.length}`);
  return { width, height, data };
}

/** PIL `Image.new('RGB', (width, height), color)`. */
export function newImage(width: number, height: number, color: Rgb = [0, 0, 0]): RgbImage {
  checkSize(width, height, 'newImage');
  checkColor(color, 'newImage');
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = color[0];
    data[i + 1] = color[1];
    data[i + 2] = color[2];
  }
  return { width, height, data };
}

/** The RGB triple at (x, y). */
export function pixelAt(img: RgbImage, x: number, y: number): [number, number, number] {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) throw new ImageError(`pixelAt: (${x}, ${y}) is outside the ${img.width}x${img.height} image`);
  const o = (y * img.width + x) * 3;
  return [img.data[o] ?? 0, img.data[o + 1] ?? 0, img.data[o + 2] ?? 0];
}

/**
 * Copies `src` onto a copy of `dst` with its top-left corner at (x, y), clipped to `dst` (PIL `paste` of an RGB
 * image without a mask). Offsets may be negative.
 */
export function pasteImage(dst: RgbImage, src: RgbImage, x: number, y: number): RgbImage {
  if (!Number.isInteger(x) || !Number.isInteger(y)) throw new ImageError(`pasteImage: offset (${x}, ${y}) must be integers`);
  const out = new Uint8Array(dst.data);
  const x0 = Math.max(0, x);
  const x1 = Math.min(dst.width, x + src.width);
  if (x1 <= x0) return { width: dst.width, height: dst.height, data: out };
  for (let row = Math.max(0, y); row < Math.min(dst.height, y + src.height); row++) {
    const from = ((row - y) * src.width + (x0 - x)) * 3;
    out.set(src.data.subarray(from, from + (x1 - x0) * 3), (row * dst.width + x0) * 3);
  }
  return { width: dst.width, height: dst.height, data: out };
}

/** PIL `crop((left, top, left + width, top + height))`: the box may extend past the image; outside is black. */
export function cropImage(img: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  checkSize(width, height, 'cropImage');
  if (!Number.isInteger(left) || !Number.isInteger(top)) throw new ImageError(`cropImage: offset (${left}, ${top}) must be integers`);
  return pasteImage(newImage(width, height), img, -left, -top);
}
