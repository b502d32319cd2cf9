/**
 * The safetensors format facts modc relies on: dtype names and sizes, how each maps onto a modc dtype, header
 * limits, and the typed error every reader and writer failure is reported as.
 */
import type { DType } from '../../ir/index.js';

/** Dtype names of the safetensors header that modc reads and writes. */
export const ST_DTYPES = ['F32', 'F16', 'BF16', 'I32', 'U32', 'I64', 'U8', 'BOOL'] as const;
export type StDType = (typeof ST_DTYPES)[number];

export const ST_DTYPE_BYTES: { readonly [D in StDType]: number } = {
  F32: 4,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  I64: 8,
  U8: 1,
  BOOL: 1,
};

/**
 * The modc dtype a stored dtype is read into. I64 is read into i32 (token ids, positions, counts: every value must
 * fit, or the read fails naming the element); U8 into i32, which holds every byte value exactly (bool would merge
 * 2..255 into true); BOOL into bool.
 */
export const ST_TO_DTYPE: { readonly [D in StDType]: DType } = {
  F32: 'f32',
  F16: 'f16',
  BF16: 'bf16',
  I32: 'i32',
  U32: 'u32',
  I64: 'i32',
  U8: 'i32',
  BOOL: 'bool',
};

/** The stored dtype a modc dtype is written as by default (each is exact). */
export const DTYPE_TO_ST: { readonly [D in DType]: StDType } = {
  f32: 'F32',
  f16: 'F16',
  bf16: 'BF16',
  i32: 'I32',
  u32: 'U32',
  bool: 'BOOL',
};

/** Dtypes of the safetensors specification that modc recognises but cannot hold, for a clearer message. */
export const KNOWN_UNSUPPORTED = ['F64', 'I8', 'I16', 'U16', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64'] as const;

export function isStDType(s: string): s is StDType {
  return (ST_DTYPES as readonly string[]).includes(s);
}

/** Largest header modc accepts: real headers are a few MB even for 70B-parameter checkpoints. */
export const MAX_HEADER_BYTES = 100_000_000;

/** Where in a file a failure was found. */
export interface ErrorLocation {
  readonly file: string;
  readonly tensor?: string;
  readonly offset?: number;
}

/** A malformed or unreadable safetensors file or index; the message names the file and the tensor or byte offset. */
export class SafetensorsError extends Error {
  override name = 'SafetensorsError';
  readonly file: string;
  readonly tensor: string | undefined;
  readonly offset: number | undefined;
  constructor(where: ErrorLocation, msg: string) {
    const parts = [where.file, where.tensor !== undefined ? `tensor '${where.tensor}'` : undefined, where.offset !== undefined ? `byte ${where.offset}` : undefined];
    super(`${parts.filter((p) => p !== undefined).join(': ')}: ${msg}`);
    this.file = where.file;
    this.tensor = where.tensor;
    this.offset = where.offset;
  }
}
