/** Hand-made safetensors files for tests of the reader's errors. */
import { writeFileSync } from 'node:fs';
import { encodeHeader, SafetensorsError, SafetensorsFile, type TensorEntry } from '../../src/io/safetensors/index.js';
import { thrown } from './thrown.js';

/** A file from a raw header (object or text) and data bytes; `length` overrides the 8-byte header length. */
export function rawFile(path: string, header: unknown, data: Uint8Array = new Uint8Array(0), length?: bigint): string {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  const buf = new Uint8Array(8 + h.length + data.length);
  new DataView(buf.buffer).setBigUint64(0, length ?? BigInt(h.length), true);
  buf.set(h, 8);
  buf.set(data, 8 + h.length);
  writeFileSync(path, buf);
  return path;
}

/** The SafetensorsError opening `path` raises (any other exception, or none, fails the test). */
export function openError(path: string): SafetensorsError {
  return thrown(() => SafetensorsFile.open(path).close(), SafetensorsError);
}

/** A whole file in memory: 8-byte header length, the header, each entry's bytes. */
export function safetensorsBytes(entries: readonly TensorEntry[]): Uint8Array {
  const header = encodeHeader(entries);
  const data = entries.map((e) => (typeof e.bytes === 'function' ? e.bytes() : e.bytes));
  const out = new Uint8Array(8 + header.length + data.reduce((a, d) => a + d.length, 0));
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let p = 8 + header.length;
  for (const d of data) {
    out.set(d, p);
    p += d.length;
  }
  return out;
}
