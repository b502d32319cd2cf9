/**
 * The structure of a PNG file, checked before any image data is inflated, every problem named by its byte offset:
 * each chunk fits in the file and has a valid type and CRC, IHDR comes first with a size that may be decoded and a
 * valid bit depth / colour type / method combination, a palette image has PLTE, there is image data, IEND ends it.
 */
import { checkImageSize, type ImageLimits } from './limits.js';
import { ImageError } from './rgb.js';

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO 3309, as PNG chunks use) of `bytes`. */
function crc32(bytes: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = (crcTable[(c ^ b) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function u32(bytes: Uint8Array, at: number): number {
  return (((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0)) >>> 0;
}

export interface PngChunk {
  readonly type: string;
  /** Byte offset of the chunk's length field; [start, end) spans length, type, data and CRC. */
  readonly start: number;
  readonly end: number;
}

/** Bit depths each colour type allows (PNG specification, table 11.1). */
const DEPTHS: Readonly<Record<number, readonly number[]>> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

function checkHeader(bytes: Uint8Array, len: number, source: string, limits: ImageLimits): void {
  const bad = (offset: number, msg: string): never => {
    throw new ImageError(`${source}: corrupt PNG: IHDR ${msg} (byte offset ${offset})`);
  };
  if (len !== 13) bad(8, `has ${len} bytes, expected 13`);
  // Before anything is inflated: the declared size bounds the memory decoding takes.
  checkImageSize(u32(bytes, 16), u32(bytes, 20), source, 'PNG header (IHDR, byte offset 16)', limits);
  const [depth, colorType, compression, filter, interlace] = [24, 25, 26, 27, 28].map((i) => bytes[i] ?? 0) as [number, number, number, number, number];
  const depths = DEPTHS[colorType];
  if (depths === undefined) bad(25, `colour type ${colorType} is not one of 0, 2, 3, 4, 6`);
  else if (!depths.includes(depth)) bad(24, `bit depth ${depth} is not allowed with colour type ${colorType} (${depths.join(', ')})`);
  if (compression !== 0) bad(26, `compression method ${compression} is not 0`);
  if (filter !== 0) bad(27, `filter method ${filter} is not 0`);
  if (interlace > 1) bad(28, `interlace method ${interlace} is not 0 or 1`);
}

/** Walks and checks the chunks of a PNG file (signature already checked); returns them in order. */
export function pngChunks(bytes: Uint8Array, source: string, limits: ImageLimits): PngChunk[] {
  const chunks: PngChunk[] = [];
  for (let at = 8; ; ) {
    if (at + 8 > bytes.length) throw new ImageError(`${source}: truncated PNG: chunk header at byte offset ${at} runs past the end of the file (${bytes.length} bytes)`);
    const len = u32(bytes, at);
    const typeBytes = bytes.subarray(at + 4, at + 8);
    const type = String.fromCharCode(...typeBytes);
    if (!typeBytes.every((c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122))) throw new ImageError(`${source}: corrupt PNG: chunk at byte offset ${at} has type bytes ${Array.from(typeBytes, (c) => c.toString(16).padStart(2, '0')).join(' ')}, not four letters`);
    const end = at + 12 + len;
    if (end > bytes.length) throw new ImageError(`${source}: truncated PNG: chunk '${type}' at byte offset ${at} needs ${len + 12} bytes, ${bytes.length - at} remain`);
    // A damaged chunk is reported as such (as PIL does) before anything in it is believed.
    if (crc32(bytes.subarray(at + 4, at + 8 + len)) !== u32(bytes, at + 8 + len)) throw new ImageError(`${source}: corrupt PNG: bad CRC of chunk '${type}' at byte offset ${at}`);
    if (chunks.length === 0) {
      if (type !== 'IHDR') throw new ImageError(`${source}: corrupt PNG: first chunk at byte offset 8 is '${type}', expected 'IHDR'`);
      checkHeader(bytes, len, source, limits);
    } else if (type === 'IHDR') throw new ImageError(`${source}: corrupt PNG: a second IHDR chunk at byte offset ${at}`);
    chunks.push({ type, start: at, end });
    at = end;
    if (type === 'IEND') break;
  }
  if (!chunks.some((c) => c.type === 'IDAT')) throw new ImageError(`${source}: corrupt PNG: no image data (IDAT chunk) before IEND at byte offset ${chunks[chunks.length - 1]?.start ?? 8}`);
  // Deflate compresses at most 1032:1 (a 258-byte match in two bits): fewer IDAT bytes than that ratio allows
  // cannot hold the declared image, and inflating them would only allocate.
  const coded = chunks.reduce((n, c) => n + (c.type === 'IDAT' ? c.end - c.start - 12 : 0), 0);
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[bytes[25] ?? 0] ?? 1;
  const raw = u32(bytes, 20) * (1 + Math.ceil((u32(bytes, 16) * channels * (bytes[24] ?? 8)) / 8));
  if (coded * 1032 < raw)
    throw new ImageError(`${source}: corrupt PNG: ${coded} bytes of image data (IDAT from byte offset ${chunks.find((c) => c.type === 'IDAT')?.start ?? 8}) cannot hold a ${u32(bytes, 16)}x${u32(bytes, 20)} image (${raw} bytes inflated, at least ${Math.ceil(raw / 1032)} compressed)`);
  if (bytes[25] === 3 && !chunks.some((c) => c.type === 'PLTE')) throw new ImageError(`${source}: corrupt PNG: a palette image (colour type 3, byte offset 25) without a PLTE chunk`);
  return chunks;
}
