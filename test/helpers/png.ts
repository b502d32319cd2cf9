/** PNG files for image tests: written by pngjs, or built chunk by chunk for what the encoder cannot write. */
import { crc32, deflateSync } from 'node:zlib';
import pngjs from 'pngjs';

/** A PNG written by pngjs from RGBA input. */
export function pngFromRgba(width: number, height: number, rgba: number[], opts: { colorType: 0 | 2 | 4 | 6 }): Uint8Array {
  const png = new pngjs.PNG({ width, height });
  png.data = Buffer.from(rgba);
  return pngjs.PNG.sync.write(png, { colorType: opts.colorType, bitDepth: 8, inputColorType: 6, inputHasAlpha: true });
}

export function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG built chunk by chunk: raw scanlines (filter byte 0 is added), optional PLTE / tRNS. */
export function handPng(width: number, height: number, depth: number, colorType: number, rows: number[][], extra: Buffer[] = []): Uint8Array {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const raw = Buffer.concat(rows.map((r) => Buffer.from([0, ...r])));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), ...extra, chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

