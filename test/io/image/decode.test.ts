/**
 * PNG and JPEG decoding to RGB with PIL's `convert('RGB')` rules, on small images written in the test (pngjs and
 * jpeg-js encoders, or hand-built PNG chunks for formats the encoder cannot write), and errors naming the file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { decodeImage, ImageError, loadImage, resizeBicubic } from '../../../src/io/image/index.js';
import { chunk, handPng, pngFromRgba } from '../../helpers/png.js';
import { tempDir } from '../../helpers/temp.js';

const rgbOf = (rgba: number[]): number[] => rgba.filter((_, i) => i % 4 !== 3);

describe('PNG decoding', () => {
  // 3 x 2 pixels: distinct colours, alpha 255, 128, 0, ...
  const RGBA = [10, 20, 30, 255, 200, 100, 50, 128, 0, 255, 7, 0, 90, 80, 70, 255, 1, 2, 3, 0, 250, 240, 230, 64];

  it('drops alpha without compositing (RGBA, 8 bit)', () => {
    const img = decodeImage(pngFromRgba(3, 2, RGBA, { colorType: 6 }), 'rgba.png');
    expect([img.width, img.height]).toEqual([3, 2]);
    expect(Array.from(img.data)).toEqual(rgbOf(RGBA));
  });

  it('reads RGB, grayscale and grayscale+alpha', () => {
    // Opaque input: the encoder composites translucent pixels onto white when it writes a format without alpha.
    const opaque = RGBA.map((v, i) => (i % 4 === 3 ? 255 : v));
    expect(Array.from(decodeImage(pngFromRgba(3, 2, opaque, { colorType: 2 }), 'rgb.png').data)).toEqual(rgbOf(opaque));
    const grayRgba = [0, 0, 0, 255, 77, 77, 77, 10, 255, 255, 255, 0, 1, 1, 1, 255, 128, 128, 128, 255, 254, 254, 254, 255];
    expect(Array.from(decodeImage(pngFromRgba(3, 2, grayRgba, { colorType: 4 }), 'ga.png').data)).toEqual(rgbOf(grayRgba));
    const grayOpaque = grayRgba.map((v, i) => (i % 4 === 3 ? 255 : v));
    expect(Array.from(decodeImage(pngFromRgba(3, 2, grayOpaque, { colorType: 0 }), 'g.png').data)).toEqual(rgbOf(grayOpaque));
  });

  it('keeps the high byte of 16-bit colour samples', () => {
    const rgb16 = [[0x12, 0x34, 0xff, 0xff, 0x00, 0x80]]; // one pixel 0x1234, 0xffff, 0x0080
    expect(Array.from(decodeImage(handPng(1, 1, 16, 2, rgb16), 'rgb16.png').data)).toEqual([0x12, 0xff, 0x00]);
    const rgba16 = [[0xab, 0xcd, 0x01, 0xff, 0x7f, 0x00, 0x00, 0x00]]; // alpha 0 is dropped, not composited
    expect(Array.from(decodeImage(handPng(1, 1, 16, 6, rgba16), 'rgba16.png').data)).toEqual([0xab, 0x01, 0x7f]);
    const ga16 = [[0x80, 0xff, 0x00, 0x01]];
    expect(Array.from(decodeImage(handPng(1, 1, 16, 4, ga16), 'ga16.png').data)).toEqual([0x80, 0x80, 0x80]);
  });

  it('clips 16-bit grayscale to 255, as PIL converts its 32-bit integer mode', () => {
    const rows = [[0x00, 0x05, 0x00, 0xc8, 0x01, 0x00, 0xff, 0xff]]; // 5, 200, 256, 65535
    expect(Array.from(decodeImage(handPng(4, 1, 16, 0, rows), 'g16.png').data)).toEqual([5, 5, 5, 200, 200, 200, 255, 255, 255, 255, 255, 255]);
  });

  it('scales 1, 2 and 4-bit grayscale to 0..255', () => {
    // 1 bit: 1 0 1 -> 255 0 255; 2 bit: 0 1 2 3 -> 0 85 170 255; 4 bit: 15 1 -> 255 17.
    const tri = (vs: number[]): number[] => vs.flatMap((v) => [v, v, v]);
    expect(Array.from(decodeImage(handPng(3, 1, 1, 0, [[0b10100000]]), 'g1.png').data)).toEqual(tri([255, 0, 255]));
    expect(Array.from(decodeImage(handPng(4, 1, 2, 0, [[0b00011011]]), 'g2.png').data)).toEqual(tri([0, 85, 170, 255]));
    expect(Array.from(decodeImage(handPng(2, 1, 4, 0, [[0xf1]]), 'g4.png').data)).toEqual(tri([255, 17]));
  });

  it('expands palettes and ignores their transparency', () => {
    const plte = chunk('PLTE', Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 8, 7]));
    const trns = chunk('tRNS', Uint8Array.from([0, 0, 0, 0]));
    const img = decodeImage(handPng(4, 1, 8, 3, [[3, 0, 1, 2]], [plte, trns]), 'p8.png');
    expect(Array.from(img.data)).toEqual([9, 8, 7, 255, 0, 0, 0, 255, 0, 0, 0, 255]);
    const img2 = decodeImage(handPng(4, 1, 2, 3, [[0b11000110]], [plte]), 'p2.png'); // indices 3 0 1 2
    expect(Array.from(img2.data)).toEqual(Array.from(img.data));
  });

  it('keeps the colour of pixels matching an RGB tRNS key', () => {
    const trns = chunk('tRNS', Uint8Array.from([0, 10, 0, 20, 0, 30]));
    const img = decodeImage(handPng(2, 1, 8, 2, [[10, 20, 30, 1, 2, 3]], [trns]), 'key.png');
    expect(Array.from(img.data)).toEqual([10, 20, 30, 1, 2, 3]);
  });

  it('names the file and the byte offset of a truncated or corrupt PNG', () => {
    const good = pngFromRgba(3, 2, RGBA, { colorType: 6 });
    expect(() => decodeImage(good.subarray(0, 50), 'cut.png')).toThrow(ImageError);
    expect(() => decodeImage(good.subarray(0, 50), 'cut.png')).toThrow(/^cut.png: truncated PNG: chunk 'IDAT' at byte offset 33 needs \d+ bytes, 17 remain$/);
    expect(() => decodeImage(good.subarray(0, 40), 'hdr.png')).toThrow('hdr.png: truncated PNG: chunk header at byte offset 33 runs past the end of the file (40 bytes)');
    const badCrc = Uint8Array.from(good);
    badCrc[20] = (badCrc[20] ?? 0) ^ 0xff; // inside IHDR
    expect(() => decodeImage(badCrc, 'crc.png')).toThrow(/^crc.png: corrupt PNG: /);
    const noIhdr = Buffer.concat([Buffer.from(good.subarray(0, 8)), chunk('IDAT', new Uint8Array(3))]);
    expect(() => decodeImage(noIhdr, 'order.png')).toThrow("order.png: corrupt PNG: first chunk at byte offset 8 is 'IDAT', expected 'IHDR'");
  });
});

describe('JPEG decoding', () => {
  it('decodes a baseline JPEG written by jpeg-js close to its source', () => {
    const [w, h] = [16, 8];
    const rgba: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba.push(40 + 8 * x, 200 - 10 * y, 90, 255);
    const file = jpeg.encode({ width: w, height: h, data: Buffer.from(rgba) }, 100).data;
    const img = decodeImage(file, 'ramp.jpg');
    expect([img.width, img.height, img.data.length]).toEqual([w, h, w * h * 3]);
    const want = rgbOf(rgba);
    const maxDiff = Math.max(...Array.from(img.data, (v, i) => Math.abs(v - (want[i] ?? 0))));
    expect(maxDiff).toBeLessThanOrEqual(3);
  });

  it('names the file of a truncated or corrupt JPEG and refuses CMYK', () => {
    const file = jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(256, 128) }, 90).data;
    expect(() => decodeImage(file.subarray(0, file.length - 40), 'cut.jpg')).toThrow(/^cut.jpg: corrupt JPEG: /);
    // A 4-component frame header (SOF0 with Nf = 4) is reported before decoding.
    const sof = Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x14, 8, 0, 8, 0, 8, 4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0]);
    expect(() => decodeImage(sof, 'cmyk.jpg')).toThrow('cmyk.jpg: CMYK/YCCK JPEG (4 components) is not supported; convert it to RGB first');
  });
});

describe('image files', () => {
  const dir = tempDir('modc-image-');

  it('loads PNG and JPEG files by signature and names the path in every error', () => {
    const png = join(dir, 'a.jpg'); // the extension is ignored
    writeFileSync(png, pngFromRgba(1, 1, [1, 2, 3, 4], { colorType: 6 }));
    expect(Array.from(loadImage(png).data)).toEqual([1, 2, 3]);
    const txt = join(dir, 'notes.png');
    writeFileSync(txt, 'hello world');
    expect(() => loadImage(txt)).toThrow(`${txt}: unsupported image format (first bytes 68 65 6c 6c 6f 20 77 6f); PNG and JPEG are supported`);
    const empty = join(dir, 'empty.png');
    writeFileSync(empty, '');
    expect(() => loadImage(empty)).toThrow(`${empty}: empty file`);
    expect(() => loadImage(join(dir, 'missing.png'))).toThrow(`${join(dir, 'missing.png')}: cannot open the image file: no such file`);
    const cut = join(dir, 'cut.png');
    writeFileSync(cut, pngFromRgba(4, 4, new Array<number>(64).fill(9), { colorType: 6 }).subarray(0, 45));
    expect(() => loadImage(cut)).toThrow(new RegExp(`^${cut}: truncated PNG`));
  });
});

describe('bicubic resize against Pillow', () => {
  interface Case {
    width: number;
    height: number;
    src: string;
    outWidth: number;
    outHeight: number;
    out: string;
  }
  const golden = JSON.parse(readFileSync(new URL('../../fixtures/pil-bicubic.json', import.meta.url), 'utf8')) as { generator: string; cases: Case[] };

  it(`matches ${golden.generator} byte for byte`, () => {
    expect(golden.cases.length).toBeGreaterThan(10);
    for (const c of golden.cases) {
      const src = { width: c.width, height: c.height, data: Uint8Array.from(Buffer.from(c.src, 'base64')) };
      const got = resizeBicubic(src, c.outWidth, c.outHeight);
      expect({ size: `${c.width}x${c.height} -> ${c.outWidth}x${c.outHeight}`, data: Buffer.from(got.data).toString('base64') }).toEqual({
        size: `${c.width}x${c.height} -> ${c.outWidth}x${c.outHeight}`,
        data: c.out,
      });
    }
  });
});
