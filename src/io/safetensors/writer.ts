/**
 * Writes safetensors files: 8-byte little-endian header length, the JSON header (optional `__metadata__`, then the
 * tensors in data order) padded with spaces to a multiple of 8 bytes, then the tensors' bytes in header order.
 * Tensor bytes may be produced lazily, one at a time, so a large file is written without holding it in memory.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { type HostTensor, sizeOf } from '../../ir/index.js';
import { encodeData, ElementError } from './codec.js';
import { DTYPE_TO_ST, SafetensorsError, ST_DTYPE_BYTES, type StDType } from './format.js';

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

/** Writes the file atomically (a temporary file renamed into place), so a failure leaves no partial file behind. */
export function writeSafetensors(path: string, entries: readonly TensorEntry[], metadata?: Readonly<Record<string, string>>): void {
  const header = encodeHeader(entries, metadata);
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const len = new Uint8Array(8);
    new DataView(len.buffer).setBigUint64(0, BigInt(header.length), true);
    writeAll(fd, len);
    writeAll(fd, header);
    for (const e of entries) {
      const bytes = typeof e.bytes === 'function' ? e.bytes() : e.bytes;
      const want = sizeOf(e.shape) * ST_DTYPE_BYTES[e.stDtype];
      if (bytes.length !== want) throw new SafetensorsError({ file: path, tensor: e.name }, `got ${bytes.length} bytes, shape [${e.shape.join(', ')}] x ${e.stDtype} needs ${want}`);
      writeAll(fd, bytes);
    }
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
