/**
 * PNG and JPEG headers: small images of several kinds with corrupted bytes (mostly in the headers: signature,
 * IHDR, SOF, marker lengths), declared sizes set to 0, huge or bomb-sized, and truncation; decoded (then the pixels
 * must match the size) or refused with ImageError naming the file and the byte offset, header or chunk.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import jpeg from 'jpeg-js';
import { ImageError, loadImage } from '../../../src/io/image/index.js';
import { handPng, pngFromRgba } from '../../helpers/png.js';
import { corrupt, type Corruption, corruptions, type FuzzTarget, LOCATION } from '../harness.js';

const rgba = (w: number, h: number): number[] => Array.from({ length: w * h * 4 }, (_, i) => (i * 53) % 256);
const IMAGES: readonly Uint8Array[] = [
  pngFromRgba(5, 3, rgba(5, 3), { colorType: 6 }),
  pngFromRgba(4, 4, rgba(4, 4), { colorType: 2 }),
  pngFromRgba(3, 2, rgba(3, 2), { colorType: 0 }),
  handPng(4, 2, 2, 3, [[0x1b], [0xe4]], []),
  jpeg.encode({ width: 16, height: 8, data: Buffer.from(rgba(16, 8)) }, 80).data,
  jpeg.encode({ width: 9, height: 9, data: Buffer.from(rgba(9, 9)) }, 95).data,
];

export interface ImageCase {
  readonly image: number;
  /** Positions fold into the first `window` bytes, where the headers are. */
  readonly window: number;
  readonly bytes: readonly Corruption[];
  /** A declared size written over the header's. */
  readonly size: readonly [number, number] | null;
}

/** Writes width/height over the PNG IHDR or the first JPEG SOF (whichever the image has). */
function declare(bytes: Uint8Array, [w, h]: readonly [number, number]): Uint8Array {
  const b = Buffer.from(bytes);
  if (b[0] === 0x89) {
    b.writeUInt32BE(w >>> 0, 16);
    b.writeUInt32BE(h >>> 0, 20);
    return b;
  }
  for (let at = 2; at + 9 < b.length; at += 2 + b.readUInt16BE(at + 2)) {
    const m = b[at + 1] ?? 0;
    if (m >= 0xc0 && m <= 0xc2) {
      b.writeUInt16BE(h & 0xffff, at + 5);
      b.writeUInt16BE(w & 0xffff, at + 7);
      break;
    }
  }
  return b;
}

const dim = fc.oneof(fc.constantFrom(0, 1, 2, 65535, 20000, 2 ** 31, 2 ** 32 - 1), fc.nat(70000));

export const imageTarget: FuzzTarget<ImageCase> = {
  name: 'PNG/JPEG headers',
  cases: fc.record({ image: fc.nat(IMAGES.length - 1), window: fc.constantFrom(8, 40, 200, 1 << 20), bytes: corruptions, size: fc.option(fc.tuple(dim, dim), { freq: 3 }) }),
  errors: [ImageError],
  file: (_c, dir) => join(dir, 'image'),
  located: (m) => LOCATION.test(m) || /first bytes|header|chunk/.test(m),
  run(c, dir) {
    const base = IMAGES[c.image] ?? new Uint8Array(0);
    const sized = c.size === null ? base : declare(base, c.size);
    const folded = c.bytes.map((k) => ({ ...k, at: k.at % c.window }));
    const file = join(dir, 'image');
    writeFileSync(file, corrupt(sized, folded));
    const img = loadImage(file);
    if (img.width < 1 || img.height < 1 || img.data.length !== img.width * img.height * 3) throw new Error(`${file}: decoded ${img.data.length} bytes for ${img.width}x${img.height}`);
  },
};
