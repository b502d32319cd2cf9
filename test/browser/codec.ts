/**
 * Kernel cases as text between the test (Node) and the page: JSON with typed arrays as base64 and the numbers
 * JSON cannot hold (NaN, infinities, -0) tagged, so kernels with such constants and exact bit patterns survive.
 */
import type { HostArray } from '../../src/backends/wasm/kernel-runner.js';

export type { HostArray };
const ARRAYS = { Float32Array, Int32Array, Uint32Array, Uint16Array, Uint8Array } as const;
type ArrayName = keyof typeof ARRAYS;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromBase64(b64: string): Uint8Array {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function encode(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { $num: Object.is(v, -0) ? '-0' : String(v) };
    if (ArrayBuffer.isView(v)) {
      const name = v.constructor.name as ArrayName;
      if (!(name in ARRAYS)) throw new Error(`codec: cannot encode ${name}`);
      return { $array: name, b64: toBase64(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    return v;
  });
}

export function decode<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object') {
      const o = v as { $num?: string; $array?: ArrayName; b64?: string };
      if (o.$num !== undefined) return o.$num === '-0' ? -0 : Number(o.$num);
      if (o.$array !== undefined && o.b64 !== undefined) {
        const bytes = fromBase64(o.b64);
        const Ctor = ARRAYS[o.$array];
        return new Ctor(bytes.buffer as ArrayBuffer, 0, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
      }
    }
    return v;
  }) as T;
}
