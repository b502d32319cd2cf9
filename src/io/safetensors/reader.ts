/**
 * A safetensors file opened for lazy reading: the header is read and validated at open, each tensor is read on
 * demand with positioned reads (into a reused scratch buffer to convert it, or in byte ranges into the caller's
 * memory as stored), so memory never holds the whole file.
 */
import { closeSync, readSync } from 'node:fs';
import type { HostTensor, TensorStore } from '../../ir/index.js';
import { decodeData, ElementError } from './codec.js';
import { MAX_HEADER_BYTES, SafetensorsError, ST_DTYPE_BYTES, ST_TO_DTYPE } from './format.js';
import { type Header, parseHeader, type TensorInfo } from './header.js';
import { openRegularFile } from '../files.js';

/** Reads exactly `length` bytes at `position` or throws naming the offset where the file ended. */
function readExactly(fd: number, file: string, into: Uint8Array, length: number, position: number, tensor?: string): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, done, length - done, position + done);
    if (n === 0) throw new SafetensorsError({ file, ...(tensor !== undefined ? { tensor } : {}), offset: position + done }, `unexpected end of file (needed ${length} bytes from byte ${position})`);
    done += n;
  }
}

/**
 * The buffer converted reads (`get`) go through, reused for every read (and shared by the shards of a
 * checkpoint), so loading holds at most one raw tensor besides the converted ones. Allocated at the first such
 * read, at the largest tensor's size when the store said it, so no outgrown buffer lingers as garbage; a load
 * that only streams stored bytes (`readRaw`) never allocates it.
 */
export class ScratchBuffer {
  private bytes = new Uint8Array(0);
  private hint = 0;
  /** The size the first allocation takes (the largest tensor a `get` may read). */
  expect(n: number): void {
    this.hint = Math.max(this.hint, n);
  }
  /** A view of at least n bytes. */
  take(n: number): Uint8Array {
    if (this.bytes.length < n) this.bytes = new Uint8Array(Math.max(n, this.hint));
    return this.bytes.subarray(0, n);
  }
  release(): void {
    this.bytes = new Uint8Array(0);
  }
}

export class SafetensorsFile implements TensorStore {
  private fd: number | undefined;

  private constructor(
    readonly path: string,
    fd: number,
    readonly header: Header,
    /** Size of the file in bytes when it was opened. */
    readonly fileSize: number,
    private readonly scratch: ScratchBuffer,
    private readonly ownsScratch: boolean,
  ) {
    this.fd = fd;
  }

  /** Opens and validates `path`; the file stays open until close(). Reads go through `scratch` when given. */
  static open(path: string, scratch?: ScratchBuffer): SafetensorsFile {
    // A directory or a FIFO given as a file is refused by name (not a bare EISDIR, not a hang).
    const { fd, size } = openRegularFile(path, (file, msg) => new SafetensorsError({ file }, msg), 'safetensors file');
    try {
      if (size < 8) throw new SafetensorsError({ file: path, offset: 0 }, `file has ${size} bytes, fewer than the 8-byte header length`);
      const lenBytes = new Uint8Array(8);
      readExactly(fd, path, lenBytes, 8, 0);
      const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
      if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError({ file: path, offset: 0 }, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file, or corrupt)`);
      const headerLength = Number(n);
      if (8 + headerLength > size) throw new SafetensorsError({ file: path, offset: 0 }, `header length ${headerLength} is larger than the file (${size} bytes): truncated or not a safetensors file`);
      const bytes = new Uint8Array(headerLength);
      readExactly(fd, path, bytes, headerLength, 8);
      const header = parseHeader(path, bytes, size - 8 - headerLength);
      return new SafetensorsFile(path, fd, header, size, scratch ?? new ScratchBuffer(), scratch === undefined);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get metadata(): Readonly<Record<string, string>> {
    return this.header.metadata;
  }

  names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  has(name: string): boolean {
    return this.header.byName.has(name);
  }

  info(name: string): TensorInfo {
    const t = this.header.byName.get(name);
    if (t === undefined) throw new SafetensorsError({ file: this.path, tensor: name }, 'no such tensor in this file');
    return t;
  }

  /** Reads and converts one tensor (see ST_TO_DTYPE for the dtype it is read into). */
  get(name: string): HostTensor {
    const t = this.info(name);
    if (this.fd === undefined) throw new SafetensorsError({ file: this.path, tensor: name }, 'file is closed');
    const len = t.end - t.begin;
    const buf = this.scratch.take(len);
    const at = this.header.dataStart + t.begin;
    readExactly(this.fd, this.path, buf, len, at, name);
    const n = len / ST_DTYPE_BYTES[t.stDtype];
    try {
      return { dtype: ST_TO_DTYPE[t.stDtype], shape: [...t.shape], data: decodeData(t.stDtype, buf, n) };
    } catch (e) {
      if (e instanceof ElementError) throw new SafetensorsError({ file: this.path, tensor: name, offset: at + e.index * ST_DTYPE_BYTES[t.stDtype] }, e.message);
      throw e;
    }
  }

  /**
   * One tensor's stored bytes as they are in the file (little-endian), without conversion and without reading
   * anything yet: each `read` is one positioned read of a byte range of the tensor into the caller's memory.
   */
  readRaw(name: string): { readonly stDtype: TensorInfo['stDtype']; readonly shape: readonly number[]; readonly byteLength: number; read(start: number, into: Uint8Array): void } {
    const t = this.info(name);
    const byteLength = t.end - t.begin;
    const at = this.header.dataStart + t.begin;
    return {
      stDtype: t.stDtype,
      shape: t.shape,
      byteLength,
      read: (start: number, into: Uint8Array): void => {
        if (!Number.isInteger(start) || start < 0 || start + into.byteLength > byteLength)
          throw new RangeError(`tensor '${name}' of ${this.path}: bytes [${start}, ${start + into.byteLength}) are outside its ${byteLength} bytes`);
        if (this.fd === undefined) throw new SafetensorsError({ file: this.path, tensor: name }, 'file is closed');
        readExactly(this.fd, this.path, into, into.byteLength, at + start, name);
      },
    };
  }

  /** Bytes of the largest tensor: the scratch memory a converting load needs besides the converted tensors. */
  largestTensorBytes(): number {
    return this.header.tensors.reduce((m, t) => Math.max(m, t.end - t.begin), 0);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.ownsScratch) this.scratch.release();
  }
}
