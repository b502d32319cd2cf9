/**
 * Image sizes are checked from the header before anything is decoded: a decompression bomb above Pillow's limit
 * (178,956,970 pixels, adjustable) and an image without pixels are refused, naming the file and where the size is.
 */
import { deflateSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeImage, ImageError, loadImage, MAX_IMAGE_PIXELS } from '../../../src/io/image/index.js';
import { chunk, handPng } from '../../helpers/png.js';
import { tempDir } from '../../helpers/temp.js';

/** A real 20000x20000 1-bit grayscale PNG: 50 MB of zero scanlines deflate to about 50 KB. */
function bombPng(side: number): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr.set([1, 0, 0, 0, 0], 8);
  const raw = Buffer.alloc(side * (Math.ceil(side / 8) + 1));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

/** A JPEG whose frame header declares `width` x `height` (the scan after it is never reached). */
function jpegHeader(width: number, height: number): Uint8Array {
  const file = Buffer.from(jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(256, 128) }, 90).data);
  for (let at = 2; at + 9 < file.length; at += 2 + file.readUInt16BE(at + 2)) {
    if (file[at + 1] === 0xc0) {
      file.writeUInt16BE(height, at + 5);
      file.writeUInt16BE(width, at + 7);
      return file;
    }
  }
  throw new Error('no SOF0 marker in the encoded JPEG');
}

describe('the decompression-bomb limit', () => {
  it("is where Pillow raises DecompressionBombError: twice Image.MAX_IMAGE_PIXELS", () => {
    expect(MAX_IMAGE_PIXELS).toBe(2 * Math.floor((1024 * 1024 * 1024) / 4 / 3));
  });

  it('refuses a 50 KB PNG declaring 20000x20000 pixels before inflating it', () => {
    const bomb = bombPng(20_000);
    expect(bomb.length).toBeLessThan(100_000);
    const t0 = performance.now();
    expect(() => decodeImage(bomb, 'bomb.png')).toThrow(
      new ImageError('bomb.png: PNG header (IHDR, byte offset 16): image size 20000x20000 (400000000 pixels) exceeds the limit of 178956970 pixels, which guards against decompression bombs; raise the limit (maxPixels, modc --max-image-pixels) for an image you trust'),
    );
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('refuses a JPEG declaring 20000x20000 pixels, naming the frame header', () => {
    expect(() => decodeImage(jpegHeader(20_000, 20_000), 'bomb.jpg')).toThrow(/^bomb.jpg: JPEG frame header \(SOF, byte offset \d+\): image size 20000x20000 \(400000000 pixels\) exceeds the limit/);
  });

  it('can be lowered or raised per call', () => {
    const png = handPng(10, 10, 8, 2, Array.from({ length: 10 }, () => new Array<number>(30).fill(7)));
    expect(() => decodeImage(png, 'small.png', { maxPixels: 99 })).toThrow(/small.png: PNG header \(IHDR, byte offset 16\): image size 10x10 \(100 pixels\) exceeds the limit of 99 pixels/);
    expect(decodeImage(png, 'small.png', { maxPixels: 100 }).width).toBe(10);
    const jpg = jpeg.encode({ width: 16, height: 16, data: Buffer.alloc(1024, 50) }, 90).data;
    expect(() => decodeImage(jpg, 'j.jpg', { maxPixels: 255 })).toThrow(/j.jpg: JPEG frame header \(SOF, byte offset \d+\): image size 16x16 \(256 pixels\) exceeds the limit of 255 pixels/);
    expect(decodeImage(jpg, 'j.jpg', { maxPixels: 256 }).height).toBe(16);
  });
});

describe('the structure is checked before decoding, naming byte offsets', () => {
  it('refuses a PNG whose image data is too short for its declared size (deflate packs at most 1032:1)', () => {
    const png = Buffer.from(handPng(4, 4, 8, 2, Array.from({ length: 4 }, () => new Array<number>(12).fill(1))));
    const ihdr = Buffer.from(png.subarray(12, 29));
    ihdr.writeUInt32BE(5000, 4);
    ihdr.writeUInt32BE(5000, 8);
    const redeclared = Buffer.concat([png.subarray(0, 8), chunk('IHDR', ihdr.subarray(4)), png.subarray(33)]);
    expect(() => decodeImage(redeclared, 'short.png')).toThrow(/^short.png: corrupt PNG: \d+ bytes of image data \(IDAT from byte offset 33\) cannot hold a 5000x5000 image \(75005000 bytes inflated, at least 72680 compressed\)$/);
  });

  it('refuses bad IHDR fields by offset', () => {
    expect(() => decodeImage(handPng(2, 2, 7, 2, []), 'depth.png')).toThrow('depth.png: corrupt PNG: IHDR bit depth 7 is not allowed with colour type 2 (8, 16) (byte offset 24)');
    expect(() => decodeImage(handPng(2, 2, 8, 5, []), 'type.png')).toThrow('type.png: corrupt PNG: IHDR colour type 5 is not one of 0, 2, 3, 4, 6 (byte offset 25)');
  });

  it('refuses a JPEG whose coded data is too short for its declared size, and a broken marker chain', () => {
    expect(() => decodeImage(jpegHeader(2000, 2000), 'short.jpg')).toThrow(/^short.jpg: corrupt JPEG: the \d+ bytes from the scan at byte offset \d+ cannot hold a 2000x2000 image \(at least 7813 bytes of coded data\)$/);
    const broken = Buffer.from(jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(256, 9) }, 90).data);
    broken[2 + 2 + broken.readUInt16BE(4)] = 0x20;
    expect(() => decodeImage(broken, 'chain.jpg')).toThrow(/^chain.jpg: corrupt JPEG: expected a marker \(0xFF\) at byte offset \d+, found 0x20$/);
  });
});

describe('images without pixels', () => {
  it.each([
    [0, 5],
    [5, 0],
  ])('refuses a %dx%d PNG, naming the header', (w, h) => {
    const png = handPng(w, h, 8, 2, []);
    expect(() => decodeImage(png, 'empty.png')).toThrow(new ImageError(`empty.png: PNG header (IHDR, byte offset 16) declares a ${w}x${h} image; an image needs at least one pixel each way`));
  });

  it('refuses a JPEG with a zero width', () => {
    expect(() => decodeImage(jpegHeader(0, 8), 'zero.jpg')).toThrow(/^zero.jpg: JPEG frame header \(SOF, byte offset \d+\) declares a 0x8 image/);
  });
});

describe('image paths', () => {
  it('refuses a directory or a FIFO by name instead of EISDIR or a hang', () => {
    const dir = tempDir();
    expect(() => loadImage(dir)).toThrow(new ImageError(`${dir}: is a directory, expected a image file`));
    const fifo = join(dir, 'pipe.png');
    execFileSync('mkfifo', [fifo]);
    expect(() => loadImage(fifo)).toThrow(new ImageError(`${fifo}: is a FIFO (named pipe), expected a image file`));
  });
});
