/**
 * Writes safetensors files: 8-byte little-endian header length, the JSON header (optional `__metadata__`, then the
 * tensors in data order) padded with spaces to a multiple of 8 bytes, then the tensors' bytes in header order.
 * Tensor bytes may be produced lazily, one at a time, so a large file is written without holding it in memory.
 */
import { closeSync, writeSync } from 'node:fs';
import { type HostTensor, sizeOf } from '../../ir/index.js';
import { encodeData, ElementError } from './codec.js';
import { DTYPE_TO_ST, SafetensorsError, ST_DTYPE_BYTES, type StDType } from './format.js';
import { commitTemp, createTempAsync, createTempSync, discardTemp } from '../temp-file.js';

export interface TensorEntry {
  readonly name: string;
  readonly stDtype: StDType;
  readonly shape: readonly number[];
  /** The tensor's little-endian bytes, or a function producing them when the writer reaches the tensor. */
  readonly bytes: Uint8Array | (() => Uint8Array);
}

/** An entry for a host tensor, stored as `as` (default: its own dtype); encoded when written. */
export function tensorEntry(name: string, t: HostTensor, as: StDType = DTYPE_TO_ST[t.dtype]): TensorEntry {
  return {
    name,
    stDtype: as,
    shape: t.shape,
    bytes: () => {
      try {
        return encodeData(t, as);
      } catch (e) {
        if (e instanceof ElementError) throw new SafetensorsError({ file: '(writing)', tensor: name }, e.message);
        throw e;
      }
    },
  };
}

/** The header bytes (without the 8-byte length), padded with spaces to a multiple of 8. */
export function encodeHeader(entries: readonly TensorEntry[], metadata?: Readonly<Record<string, string>>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header.__metadata__ = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.name === '__metadata__') throw new SafetensorsError({ file: '(writing)', tensor: e.name }, 'the name __metadata__ is reserved');
    if (seen.has(e.name)) throw new SafetensorsError({ file: '(writing)', tensor: e.name }, 'duplicate tensor name');
    seen.add(e.name);
    const size = sizeOf(e.shape) * ST_DTYPE_BYTES[e.stDtype];
    header[e.name] = { dtype: e.stDtype, shape: e.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
  padded.set(json);
  return padded;
}

/** The file's bytes in order: length, header, then each tensor's bytes (produced and checked one at a time). */
function* fileChunks(path: string, entries: readonly TensorEntry[], metadata?: Readonly<Record<string, string>>): Generator<Uint8Array> {
  const header = encodeHeader(entries, metadata);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(header.length), true);
  yield len;
  yield header;
  for (const e of entries) {
    const bytes = typeof e.bytes === 'function' ? e.bytes() : e.bytes;
    const want = sizeOf(e.shape) * ST_DTYPE_BYTES[e.stDtype];
    if (bytes.length !== want) throw new SafetensorsError({ file: path, tensor: e.name }, `got ${bytes.length} bytes, shape [${e.shape.join(', ')}] x ${e.stDtype} needs ${want}`);
    yield bytes;
  }
}

const fail = (file: string, message: string): SafetensorsError => new SafetensorsError({ file }, message);

/**
 * Writes the file atomically (an exclusively created temporary file renamed into place), so a failure leaves no
 * partial file behind. Synchronous: a signal during the write ends the process at once (see writeSafetensorsAsync).
 */
export function writeSafetensors(path: string, entries: readonly TensorEntry[], metadata?: Readonly<Record<string, string>>): void {
  const tmp = createTempSync(path, fail);
  try {
    for (const chunk of fileChunks(path, entries, metadata)) writeAll(tmp.fd, chunk);
    closeSync(tmp.fd);
  } catch (e) {
    discardTemp(tmp.path, tmp.fd);
    throw e;
  }
  commitTemp(tmp.path, path, fail);
}

/**
 * writeSafetensors with asynchronous writes: the temporary file is removed if SIGINT, SIGTERM or SIGHUP arrives
 * while it is written (the signal then ends the process as usual), so an interrupted `--out` leaves nothing.
 */
export async function writeSafetensorsAsync(path: string, entries: readonly TensorEntry[], metadata?: Readonly<Record<string, string>>): Promise<void> {
  const tmp = await createTempAsync(path, fail);
  try {
    for (const chunk of fileChunks(path, entries, metadata)) {
      for (let done = 0; done < chunk.length; ) done += (await tmp.handle.write(chunk, done, chunk.length - done)).bytesWritten;
    }
    await tmp.handle.close();
  } catch (e) {
    await tmp.handle.close().catch(() => undefined);
    discardTemp(tmp.path);
    throw e;
  }
  commitTemp(tmp.path, path, fail);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
