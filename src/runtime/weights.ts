/**
 * Host-side preparation of weights for a device: a checkpoint tensor cut to its window of rows, laid out as the
 * program's manifest says (row-major, or packed in panels for the CPU matmul), encoded in the buffer's storage
 * type (f16 / bf16 bits round to nearest even; values from 16-bit checkpoints are exact).
 */
import { ExecutionError, type HostTensor, numberToBf16Bits, numberToF16Bits } from '../ir/index.js';
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
  return encodeElems(packed, elem);
}
