/**
 * Host-side preparation of weights for a device: a checkpoint tensor cut to its window of rows, laid out as the
 * program's manifest says (row-major, or packed in panels for the CPU matmul), encoded in the buffer's storage
 * type (f16 / bf16 bits round to nearest even; values from 16-bit checkpoints are exact).
 */
import { ExecutionError, type HostTensor, numberToBf16Bits, numberToF16Bits, type RawTensor } from '../ir/index.js';
import { packedLength, packLinearWeight } from '../kernel/builders/matmul.js';
import type { ElemType } from '../kernel/ir.js';
import type { ProgramWeight } from '../kernel/program.js';

/** Values (as numbers) in a storage type's bytes. */
export function encodeElems(values: ArrayLike<number>, elem: ElemType): Uint8Array {
  const n = values.length;
  switch (elem) {
    case 'f32': {
      const out = values instanceof Float32Array ? values : Float32Array.from(values);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    case 'i32': {
      const out = values instanceof Int32Array ? values : Int32Array.from(values);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    case 'u32': {
      const out = values instanceof Uint32Array ? values : Uint32Array.from(values);
      return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    }
    case 'f16':
    case 'bf16': {
      const out = new Uint16Array(n);
      const enc = elem === 'f16' ? numberToF16Bits : numberToBf16Bits;
      for (let i = 0; i < n; i++) out[i] = enc(values[i] ?? 0);
      return new Uint8Array(out.buffer);
    }
    case 'u8':
      return Uint8Array.from(values);
  }
}

/**
 * The storage type of a weight's values in a buffer of type `elem`: the same, except interleaved bf16 pairs,
 * which a u32 buffer holds two to a word.
 */
export const weightValueElem = (w: ProgramWeight, elem: ElemType): ElemType => (w.layout.kind === 'packed' && w.layout.pairs === true ? 'bf16' : elem);

/** The bytes of weight `w` (from checkpoint tensor `t`) for a buffer of storage type `elem`. */
export function weightBytes(t: HostTensor, w: ProgramWeight, elem: ElemType): Uint8Array {
  if (t.shape.length !== w.shape.length || t.shape.some((d, i) => d !== w.shape[i]))
    throw new ExecutionError(`weight '${w.name}' has shape [${t.shape.join(', ')}], the program expects [${w.shape.join(', ')}]`);
  if (t.dtype === 'bool' || ((t.dtype === 'i32' || t.dtype === 'u32') && (elem !== 'i32' && elem !== 'u32')))
    throw new ExecutionError(`weight '${w.name}' has dtype ${t.dtype}, which a ${elem} buffer cannot hold`);
  const rows = t.shape[0] ?? 1;
  const width = t.data.length / Math.max(1, rows);
  const l = w.layout;
  if (l.kind === 'plain') {
    const start = l.rows?.start ?? 0;
    const count = l.rows?.count ?? rows;
    return encodeElems(t.data.subarray(start * width, (start + count) * width), elem);
  }
  const start = l.rowStart ?? 0;
  if (width !== l.k || start + l.n > rows) throw new ExecutionError(`weight '${w.name}' [${t.shape.join(', ')}] cannot be packed as rows ${start}+${l.n} of width ${l.k}`);
  const packed = packLinearWeight(l, t.data.subarray(start * l.k, (start + l.n) * l.k), new Float32Array(packedLength(l)));
  return encodeElems(packed, weightValueElem(w, elem));
}

/** Elements packed per chunk when a stored weight is packed straight into its buffer (a few hundred KiB). */
const PACK_CHUNK_ELEMS = 1 << 17;
/** Bytes per chunk when stored rows go up as they are (a multiple of 4: devices write whole words). */
const COPY_CHUNK_BYTES = 1 << 21;

/**
 * The two reused buffers stored weights stream through (read rows, packed panels): one per upload of many
 * weights, so uploading a model leaves no per-weight garbage buffers for the collector (a few hundred KiB each,
 * which added up to tens of MB of resident memory before a collection).
 */
export class UploadScratch {
  private readonly bufs: [ArrayBuffer, ArrayBuffer] = [new ArrayBuffer(0), new ArrayBuffer(0)];
  /** Buffer `which` (0 or 1) with at least `bytes` bytes, contents unspecified. */
  take(which: 0 | 1, bytes: number): ArrayBuffer {
    if (this.bufs[which].byteLength < bytes) this.bufs[which] = new ArrayBuffer(bytes);
    return this.bufs[which];
  }
}

/**
 * The bytes of weight `w` for a buffer of storage type `elem` straight from the stored bytes, when they are that
 * type already (a bf16 tensor for a bf16 buffer), as (byte offset, bytes) chunks to write in order: rows read as
 * they are a few MiB at a time, or read and packed as 2- or 4-byte elements a few panels at a time, through the
 * buffers of `scratch` (so the host never holds a whole weight; every device's write copies the bytes before it
 * returns, and a chunk is only valid until the next one or the next use of `scratch`). Undefined when the stored
 * type differs (then weightBytes on the converted tensor).
 */
export function rawWeightChunks(
  t: RawTensor,
  w: ProgramWeight,
  bufferElem: ElemType,
  scratch = new UploadScratch(),
): Iterable<{ readonly offset: number; readonly bytes: Uint8Array }> | undefined {
  const elem = weightValueElem(w, bufferElem);
  if (t.dtype !== elem || (elem !== 'f32' && elem !== 'f16' && elem !== 'bf16' && elem !== 'i32' && elem !== 'u32')) return undefined;
  if (t.shape.length !== w.shape.length || t.shape.some((d, i) => d !== w.shape[i]))
    throw new ExecutionError(`weight '${w.name}' has shape [${t.shape.join(', ')}], the program expects [${w.shape.join(', ')}]`);
  const size = elem === 'f16' || elem === 'bf16' ? 2 : 4;
  const rows = t.shape[0] ?? 1;
  const n = t.byteLength / size;
  const width = n / Math.max(1, rows);
  const l = w.layout;
  if (l.kind === 'plain') {
    const from = (l.rows?.start ?? 0) * width * size;
    const total = (l.rows?.count ?? rows) * width * size;
    const chunkBytes = Math.min(total, COPY_CHUNK_BYTES);
    const buf = new Uint8Array(scratch.take(0, chunkBytes), 0, chunkBytes);
    return (function* () {
      for (let at = 0; at < total; at += buf.byteLength) {
        const piece = buf.subarray(0, Math.min(buf.byteLength, total - at));
        t.read(from + at, piece);
        yield { offset: at, bytes: piece };
      }
    })();
  }
  const start = l.rowStart ?? 0;
  if (width !== l.k || start + l.n > rows) throw new ExecutionError(`weight '${w.name}' [${t.shape.join(', ')}] cannot be packed as rows ${start}+${l.n} of width ${l.k}`);
  const panelElems = l.k * l.nr;
  const panelsPerChunk = Math.max(1, Math.floor(PACK_CHUNK_ELEMS / panelElems));
  const panels = Math.ceil(l.n / l.nr);
  const words = (which: 0 | 1, len: number): Uint16Array | Uint32Array =>
    size === 2 ? new Uint16Array(scratch.take(which, len * 2), 0, len) : new Uint32Array(scratch.take(which, len * 4), 0, len);
  const input = words(0, panelsPerChunk * l.nr * l.k);
  const chunk = words(1, panelsPerChunk * panelElems);
  const inputBytes = new Uint8Array(input.buffer, 0, input.byteLength);
  return (function* () {
    for (let p0 = 0; p0 < panels; p0 += panelsPerChunk) {
      // Panels [p0, p0 + count) hold the columns (rows of W) [p0 * nr, ...): read those rows, pack them as a weight of their own.
      const cols = Math.min(panelsPerChunk * l.nr, l.n - p0 * l.nr);
      const sub = { k: l.k, n: cols, nr: l.nr, ...(l.pairs ? { pairs: true } : {}) };
      t.read((start + p0 * l.nr) * l.k * size, inputBytes.subarray(0, cols * l.k * size));
      const out = chunk.subarray(0, packedLength(sub));
      packLinearWeight(sub, input.subarray(0, cols * l.k), out);
      yield { offset: p0 * panelElems * size, bytes: new Uint8Array(out.buffer, out.byteOffset, out.byteLength) };
    }
  })();
}
