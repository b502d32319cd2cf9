/** Hand-made safetensors files for tests of the reader's errors. */
import { writeFileSync } from 'node:fs';
import { SafetensorsError, SafetensorsFile } from '../../src/io/safetensors/index.js';

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
  try {
    SafetensorsFile.open(path).close();
  } catch (e) {
    if (e instanceof SafetensorsError) return e;
    throw e;
  }
  throw new Error(`${path} opened without error`);
}
