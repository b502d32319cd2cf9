/**
 * Conversion between the little-endian bytes of a safetensors tensor and modc host tensors. Every conversion is
 * exact: f16/bf16 values are widened to float32 bit-exactly, and integers that do not fit fail naming the element.
 */
import { allocData, bf16BitsToNumber, f16BitsToNumber, type HostTensor, numberToBf16Bits, numberToF16Bits, type TensorData } from '../../ir/index.js';
import { ST_DTYPE_BYTES, ST_TO_DTYPE, type StDType } from './format.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let f16Table: Float32Array | undefined;

/** All 65536 binary16 values as float32: one table lookup per element instead of bit arithmetic. */
function f16Values(): Float32Array {
  if (f16Table === undefined) {
    f16Table = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToNumber(h);
  }
  return f16Table;
}

/** Element `i` of a decode that cannot be represented; the caller adds the file and tensor. */
export class ElementError extends Error {
  constructor(
    readonly index: number,
    msg: string,
  ) {
    super(msg);
  }
}

function copyBytes<T extends TensorData>(out: T, bytes: Uint8Array): T {
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes.subarray(0, out.byteLength));
  return out;
}

/** Decodes `n` elements of stored dtype `st` from `bytes` (little-endian) into a new host array. */
export function decodeData(st: StDType, bytes: Uint8Array, n: number): TensorData {
  const need = n * ST_DTYPE_BYTES[st];
  if (bytes.length < need) throw new ElementError(Math.floor(bytes.length / ST_DTYPE_BYTES[st]), `${bytes.length} bytes hold fewer than ${n} ${st} elements`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, need);
  const out = allocData(ST_TO_DTYPE[st], n);
  switch (st) {
    case 'F32':
      if (LITTLE_ENDIAN) return copyBytes(out, bytes);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case 'I32':
      if (LITTLE_ENDIAN) return copyBytes(out, bytes);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      return out;
    case 'U32':
      if (LITTLE_ENDIAN) return copyBytes(out, bytes);
      for (let i = 0; i < n; i++) out[i] = view.getUint32(4 * i, true);
      return out;
    case 'F16': {
      const table = f16Values();
      for (let i = 0; i < n; i++) out[i] = table[view.getUint16(2 * i, true)] ?? 0;
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: shifting the bits up is the exact widening.
      const bits = new Uint32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'I64':
      for (let i = 0; i < n; i++) {
        const lo = view.getUint32(8 * i, true);
        const hi = view.getInt32(8 * i + 4, true);
        if (!((hi === 0 && lo <= 0x7fffffff) || (hi === -1 && lo >= 0x80000000)))
          throw new ElementError(i, `I64 element ${i} = ${view.getBigInt64(8 * i, true)} does not fit in i32`);
        out[i] = lo | 0;
      }
      return out;
    case 'U8':
      out.set(bytes.subarray(0, n));
      return out;
    case 'BOOL':
      for (let i = 0; i < n; i++) {
        const b = bytes[i] ?? 0;
        if (b > 1) throw new ElementError(i, `BOOL element ${i} is byte ${b}, not 0 or 1`);
        out[i] = b;
      }
      return out;
  }
}

/** Encodes a host tensor's data as stored dtype `st` (little-endian); fails if a value does not fit exactly. */
export function encodeData(t: HostTensor, st: StDType): Uint8Array {
  const n = t.data.length;
  const bytes = new Uint8Array(n * ST_DTYPE_BYTES[st]);
  const view = new DataView(bytes.buffer);
  const d = t.data;
  const intCheck = (i: number, v: number, lo: number, hi: number): number => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new ElementError(i, `element ${i} = ${v} does not fit in ${st}`);
    return v;
  };
  for (let i = 0; i < n; i++) {
    const v = d[i] ?? 0;
    switch (st) {
      case 'F32':
        view.setFloat32(4 * i, v, true);
        break;
      case 'F16':
        view.setUint16(2 * i, numberToF16Bits(v), true);
        if (!Number.isNaN(v) && f16BitsToNumber(numberToF16Bits(v)) !== Math.fround(v)) throw new ElementError(i, `element ${i} = ${v} is not exactly representable in F16`);
        break;
      case 'BF16':
        view.setUint16(2 * i, numberToBf16Bits(v), true);
        if (!Number.isNaN(v) && bf16BitsToNumber(numberToBf16Bits(v)) !== Math.fround(v)) throw new ElementError(i, `element ${i} = ${v} is not exactly representable in BF16`);
        break;
      case 'I32':
        view.setInt32(4 * i, intCheck(i, v, -(2 ** 31), 2 ** 31 - 1), true);
        break;
      case 'U32':
        view.setUint32(4 * i, intCheck(i, v, 0, 2 ** 32 - 1), true);
        break;
      case 'I64':
        view.setBigInt64(8 * i, BigInt(intCheck(i, v, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)), true);
        break;
      case 'U8':
        bytes[i] = intCheck(i, v, 0, 255);
        break;
      case 'BOOL':
        bytes[i] = intCheck(i, v, 0, 1);
        break;
    }
  }
  return bytes;
}
