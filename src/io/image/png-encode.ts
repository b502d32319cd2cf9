/** PNG encoding of an RgbImage through pngjs (pure JavaScript, no native dependency). */
import pngjs from 'pngjs';
import type { RgbImage } from './rgb.js';

export function encodePng(img: RgbImage): Uint8Array {
  const png = new pngjs.PNG({ width: img.width, height: img.height, colorType: 2, inputColorType: 2, inputHasAlpha: false });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return new Uint8Array(pngjs.PNG.sync.write(png, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 8 }));
}
