/**
 * Safetensors files held in memory (a fetched ArrayBuffer in a page, a bundle's bytes): the same header checks
 * and exact conversions as the file reader, one lazy store over one or several files. Browser-safe.
 */
import type { DType, HostTensor } from '../../ir/index.js';
import { decodeData, ElementError } from './codec.js';
import { MAX_HEADER_BYTES, SafetensorsError, ST_DTYPE_BYTES, ST_TO_DTYPE } from './format.js';
import { type Header, parseHeader, type TensorInfo } from './header.js';

interface Held {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly header: Header;
}

function open(name: string, bytes: Uint8Array): Held {
  if (bytes.length < 8) throw new SafetensorsError({ file: name, offset: 0 }, `${bytes.length} bytes, fewer than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError({ file: name, offset: 0 }, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file, or corrupt)`);
  const len = Number(n);
  if (8 + len > bytes.length) throw new SafetensorsError({ file: name, offset: 0 }, `header length ${len} is larger than the file (${bytes.length} bytes): truncated or not a safetensors file`);
  return { name, bytes, header: parseHeader(name, bytes.subarray(8, 8 + len), bytes.length - 8 - len) };
}

/** Tensors of in-memory safetensors files by name (names must be unique across the files). */
export class SafetensorsBuffers {
  private readonly where = new Map<string, Held>();

  constructor(files: Readonly<Record<string, Uint8Array>>) {
    for (const [name, bytes] of Object.entries(files)) {
      const f = open(name, bytes);
      for (const t of f.header.tensors) {
        const other = this.where.get(t.name);
        if (other !== undefined) throw new SafetensorsError({ file: name, tensor: t.name }, `tensor is also in ${other.name}`);
        this.where.set(t.name, f);
      }
    }
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  private held(name: string): { f: Held; t: TensorInfo } {
    const f = this.where.get(name);
    const t = f?.header.byName.get(name);
    if (f === undefined || t === undefined) throw new SafetensorsError({ file: [...new Set([...this.where.values()].map((x) => x.name))].join(', '), tensor: name }, 'no such tensor');
    return { f, t };
  }

  info(name: string): TensorInfo & { readonly file: string } {
    const { f, t } = this.held(name);
    return { ...t, file: f.name };
  }

  describe(name: string): { dtype: DType; shape: readonly number[] } {
    const t = this.held(name).t;
    return { dtype: ST_TO_DTYPE[t.stDtype], shape: t.shape };
  }

  get(name: string): HostTensor {
    const { f, t } = this.held(name);
    const at = f.header.dataStart + t.begin;
    // A copy: the decoders read 16-bit and 32-bit words, which need aligned storage.
    const raw = f.bytes.slice(at, f.header.dataStart + t.end);
    try {
      return { dtype: ST_TO_DTYPE[t.stDtype], shape: [...t.shape], data: decodeData(t.stDtype, raw, (t.end - t.begin) / ST_DTYPE_BYTES[t.stDtype]) };
    } catch (e) {
      if (e instanceof ElementError) throw new SafetensorsError({ file: f.name, tensor: name, offset: at + e.index * ST_DTYPE_BYTES[t.stDtype] }, e.message);
      throw e;
    }
  }
}
