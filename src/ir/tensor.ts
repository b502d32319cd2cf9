/**
 * Host tensors: the values the IR computes on. Float dtypes are held as Float32Array (f16/bf16 values are
 * exactly representable there), i32/u32 in their typed arrays, bool as bytes.
 */
import { type DType, DTYPE_BYTES } from './dtype.js';
import { roundBf16, roundF16 } from './half.js';

export type TensorData = Float32Array | Int32Array | Uint32Array | Uint8Array;

export interface HostTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/**
 * A tensor as stored: little-endian elements of `dtype` (f16 / bf16 as their 16-bit patterns), not widened, read
 * a byte range at a time into memory the caller chooses, so a backend can stream a weight into its buffer
 * without the host holding the whole tensor.
 */
export interface RawTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Bytes of the stored tensor. */
  readonly byteLength: number;
  /** Copies the stored bytes [start, start + into.byteLength) into `into`. */
  read(start: number, into: Uint8Array): void;
}

/** A source of named weights (a checkpoint, random initialisation, a test fixture). */
export interface TensorStore {
  has(name: string): boolean;
  get(name: string): HostTensor;
  /** A tensor's dtype and shape without reading its data (checkpoint headers), where the store can. */
  describe?(name: string): { readonly dtype: DType; readonly shape: readonly number[] };
  /**
   * The stored bytes of a tensor whose stored elements already are its dtype's (a bf16 checkpoint tensor of a
   * bf16 weight), where the store can read them so; undefined otherwise (then `get`). Lets a backend upload
   * 16-bit weights without widening them on the host, and in pieces.
   */
  raw?(name: string): RawTensor | undefined;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function allocData(dtype: DType, n: number): TensorData {
  switch (dtype) {
    case 'f32':
    case 'f16':
    case 'bf16':
      return new Float32Array(n);
    case 'i32':
      return new Int32Array(n);
    case 'u32':
      return new Uint32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

export function makeTensor(dtype: DType, shape: readonly number[], data?: TensorData | readonly number[]): HostTensor {
  const n = sizeOf(shape);
  const out = allocData(dtype, n);
  if (data !== undefined) {
    if (data.length !== n) throw new RangeError(`tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${n}`);
    out.set(data as ArrayLike<number>);
    roundInPlace(dtype, out);
  }
  return { dtype, shape: [...shape], data: out };
}

/** Rounds float data to the dtype's precision (a no-op for f32 and integer types). */
export function roundInPlace(dtype: DType, data: TensorData): void {
  if (dtype === 'f16') for (let i = 0; i < data.length; i++) data[i] = roundF16(data[i] ?? 0);
  else if (dtype === 'bf16') for (let i = 0; i < data.length; i++) data[i] = roundBf16(data[i] ?? 0);
}

export function byteSize(t: Pick<HostTensor, 'dtype' | 'shape'>): number {
  return sizeOf(t.shape) * DTYPE_BYTES[t.dtype];
}

/** A TensorStore over an in-memory map. */
export class MapStore implements TensorStore {
  private readonly map: Map<string, HostTensor>;
  constructor(entries: Iterable<readonly [string, HostTensor]> = []) {
    this.map = new Map(entries);
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  get(name: string): HostTensor {
    const t = this.map.get(name);
    if (t === undefined) throw new RangeError(`no tensor named '${name}'`);
    return t;
  }
  describe(name: string): { dtype: DType; shape: readonly number[] } {
    const t = this.get(name);
    return { dtype: t.dtype, shape: t.shape };
  }
  set(name: string, t: HostTensor): void {
    this.map.set(name, t);
  }
  names(): string[] {
    return [...this.map.keys()];
  }
}
