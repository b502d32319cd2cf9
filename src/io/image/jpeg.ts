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
  readonly marker: number;
  readonly components: number;
  readonly height: number;
  readonly width: number;
  /** Byte offset of the SOFn marker. */
  readonly offset: number;
}

/** SOF0-SOF2: baseline, extended and progressive Huffman coding, what jpeg-js decodes. */
const DECODABLE_SOF = new Set([0xc0, 0xc1, 0xc2]);
const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

/** What the frame header must allow before anything is decoded: a size, a coding process and colours we read. */
function checkFrame(frame: Frame, source: string, limits: ImageLimits): void {
  const sof = `JPEG frame header (SOF, byte offset ${frame.offset})`;
  // The declared size bounds the memory decoding takes.
  checkImageSize(frame.width, frame.height, source, sof, limits);
  if (!DECODABLE_SOF.has(frame.marker))
    throw new ImageError(`${source}: ${sof}: coding process 0xFF${hex(frame.marker)} is not supported (baseline, extended and progressive Huffman JPEG are)`);
  // PIL converts CMYK / YCCK with its own formulas; rather than guess them, refuse.
  if (frame.components === 4) throw new ImageError(`${source}: CMYK/YCCK JPEG (4 components) is not supported; convert it to RGB first`);
}

/**
 * Walks the marker segments up to the first scan, checking each lies in the file and the frame header as soon as
 * it is read; returns the frame and the offset of the scan (SOS). Every problem is named by its byte offset.
 */
function markers(bytes: Uint8Array, source: string, limits: ImageLimits): { frame: Frame; scan: number } {
  const fail = (msg: string): never => {
    throw new ImageError(`${source}: corrupt JPEG: ${msg}`);
  };
  const u16 = (i: number): number => ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0);
  let frame: Frame | undefined;
  for (let at = 2; ; ) {
    if (at + 2 > bytes.length) fail(`the file ends at byte offset ${bytes.length} before the first scan (SOS marker)`);
    if (bytes[at] !== 0xff) fail(`expected a marker (0xFF) at byte offset ${at}, found 0x${hex(bytes[at] ?? 0)}`);
    const marker = bytes[at + 1] ?? 0;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a segment
      continue;
    }
    if (marker === 0xd8 || marker === 0xd9) fail(`marker 0xFF${hex(marker)} at byte offset ${at} before the first scan`);
    const len = u16(at + 2);
    if (len < 2 || at + 2 + len > bytes.length) fail(`segment 0xFF${hex(marker)} at byte offset ${at} declares ${len} bytes, ${bytes.length - at - 2} remain`);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof && frame === undefined) {
      if (len < 8) fail(`frame header (SOF) at byte offset ${at} has ${len} bytes, fewer than 8`);
      frame = { marker, components: bytes[at + 9] ?? 0, height: u16(at + 5), width: u16(at + 7), offset: at };
      checkFrame(frame, source, limits);
    }
    if (marker === 0xda) {
      if (frame === undefined) return fail(`a scan (SOS) at byte offset ${at} before any frame header (SOF)`);
      // Every 8x8 block of the full-resolution component takes at least one bit of coded data (its DC code): a
      // file shorter than that cannot hold the declared image, and decoding it would only allocate and spin.
      const least = Math.ceil((Math.ceil(frame.width / 8) * Math.ceil(frame.height / 8)) / 8);
      const have = bytes.length - at;
      if (have < least) fail(`the ${have} bytes from the scan at byte offset ${at} cannot hold a ${frame.width}x${frame.height} image (at least ${least} bytes of coded data)`);
      return { frame, scan: at };
    }
    at += 2 + len;
  }
}

/** Decodes a JPEG file's bytes to RGB; `source` names the file in errors. */
export function decodeJpeg(bytes: Uint8Array, source: string, limits: ImageLimits = {}): RgbImage {
  if (!isJpeg(bytes)) throw new ImageError(`${source}: not a JPEG file (no SOI marker)`);
  const { frame, scan } = markers(bytes, source, limits);
  const maxPixels = limits.maxPixels ?? MAX_IMAGE_PIXELS;
  let img: { width: number; height: number; data: Uint8Array };
  try {
    // jpeg-js's own limits (100 MP, 512 MB by default) follow ours: about 16 bytes per pixel while decoding.
    img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((maxPixels * 16) / 2 ** 20) + 64 });
  } catch (e) {
    // The segments before the scan are checked: the problem is in a table or the entropy-coded data.
    throw new ImageError(`${source}: corrupt JPEG: ${(e as Error).message} (decoding the tables and scans from byte offset ${scan})`);
  }
  if (img.width < 1 || img.height < 1 || img.data.length !== img.width * img.height * 3)
    throw new ImageError(`${source}: corrupt JPEG: decoded ${img.data.length} bytes for ${img.width}x${img.height} RGB (frame header at byte offset ${frame.offset})`);
  return { width: img.width, height: img.height, data: img.data };
}
