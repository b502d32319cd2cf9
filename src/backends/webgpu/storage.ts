/**
 * How each Kernel IR buffer is held in WGSL, and the accessor functions the printer calls for the accesses WGSL
 * has no single expression for: vector loads and stores, and the packed storage of the 16- and 8-bit types.
 *
 * f16 / bf16 / u8 buffers are arrays of u32 words, two halves (four bytes) to a word. Two threads may write the
 * two halves of one word in the same dispatch, so a written packed buffer is `array<atomic<u32>>` and a store is
 * `atomicAnd` clearing its own bits then `atomicOr` setting them: each is an atomic read-modify-write of the
 * whole word that changes only this element's bits, so stores to different elements of one word never lose each
 * other's bits, in any interleaving, and the result does not depend on the order (the bits are disjoint). Two
 * stores to the same element in one dispatch would race in any representation; kernels never do that.
 * Read-only f16 buffers are `array<f16>` when the adapter has `shader-f16` (exact widening in hardware).
 */
import type { BufferDecl, Kernel, TargetCaps } from '../../kernel/index.js';
import type { HelperName } from './helpers.js';

export interface BufferStorage {
  /**
   * word: one 4-byte element per array element; vec4: four per array element (read-only buffers whose vector
   * loads are all at multiples of 4); packed16 / packed8: elements packed into u32 words; native16: array<f16>.
   */
  readonly kind: 'word' | 'vec4' | 'packed16' | 'packed8' | 'native16';
  readonly elem: BufferDecl['elem'];
  /** The WGSL type of the binding. */
  readonly wgslArray: string;
  /** Whether the words are atomics (packed buffers the kernel writes). */
  readonly atomic: boolean;
}

export function bufferStorage(b: BufferDecl, caps: TargetCaps, alignedVectors: boolean): BufferStorage {
  const written = b.access !== 'read';
  switch (b.elem) {
    case 'f32':
    case 'i32':
    case 'u32':
      if (alignedVectors && !written && b.elem !== 'u32') return { kind: 'vec4', elem: b.elem, wgslArray: `array<vec4<${b.elem}>>`, atomic: false };
      return { kind: 'word', elem: b.elem, wgslArray: `array<${b.elem}>`, atomic: false };
    case 'f16':
      if (!written && caps.f16Math) return { kind: 'native16', elem: b.elem, wgslArray: 'array<f16>', atomic: false };
      return { kind: 'packed16', elem: b.elem, wgslArray: written ? 'array<atomic<u32>>' : 'array<u32>', atomic: written };
    case 'bf16':
      return { kind: 'packed16', elem: b.elem, wgslArray: written ? 'array<atomic<u32>>' : 'array<u32>', atomic: written };
    case 'u8':
      return { kind: 'packed8', elem: b.elem, wgslArray: written ? 'array<atomic<u32>>' : 'array<u32>', atomic: written };
  }
}

const lanes = (f: (l: string) => string): string => [0, 1, 2, 3].map((l) => f(l === 0 ? 'i' : `i + ${l}`)).join(', ');

/** The WGSL functions for the accessors the printer used (names mdc_ld_X, mdc_ld4_X, mdc_st_X, mdc_st4_X). */
export function storageAccessors(k: Kernel, storage: ReadonlyMap<string, BufferStorage>, used: ReadonlySet<string>, helper: (h: HelperName) => string): string[] {
  const out: string[] = [];
  const want = new Set(used);
  // Vector accessors of packed buffers call the scalar ones.
  for (const u of used) {
    const m = /^mdc_(ld|st)4_(.*)$/.exec(u);
    const kind = storage.get(m?.[2] ?? '')?.kind;
    if (m && kind !== undefined && kind !== 'word' && kind !== 'vec4') want.add(`mdc_${m[1]}_${m[2]}`);
  }
  for (const name of [...want].sort()) {
    const m = /^mdc_(ld|st)(4?)_(.*)$/.exec(name);
    if (!m) continue;
    const [, op, four, buf = ''] = m;
    const s = storage.get(buf);
    if (s === undefined) {
      const arr = k.shared.find((a) => a.name === buf);
      if (arr === undefined) throw new Error(`accessor for unknown memory '${buf}'`);
      out.push(wordAccessor(op === 'ld', buf, arr.elem));
      continue;
    }
    if (s.kind === 'word') {
      out.push(wordAccessor(op === 'ld', buf, s.elem as 'f32' | 'i32' | 'u32'));
      continue;
    }
    if (s.kind === 'vec4') {
      // Allocations are multiples of 16 bytes, so every element of the buffer lies in a whole vec4.
      const t = s.elem as 'f32' | 'i32';
      out.push(four ? `fn mdc_ld4_${buf}(i: i32) -> vec4<${t}> { return ${buf}[i >> 2u]; }` : `fn mdc_ld_${buf}(i: i32) -> ${t} { return ${buf}[i >> 2u][i & 3i]; }`);
      continue;
    }
    out.push(op === 'ld' ? (four ? packedLoad4(buf, s) : packedLoad(buf, s, helper)) : four ? packedStore4(buf, s) : packedStore(buf, s, helper));
  }
  return out;
}

/** Vector access to an array of 4-byte elements (f32 -> vec4<f32>, i32 / u32 -> vec4<i32>). */
function wordAccessor(load: boolean, buf: string, elem: 'f32' | 'i32' | 'u32'): string {
  const vt = elem === 'f32' ? 'vec4<f32>' : 'vec4<i32>';
  if (load) {
    const v = `vec4<${elem}>(${lanes((i) => `${buf}[${i}]`)})`;
    return `fn mdc_ld4_${buf}(i: i32) -> ${vt} { return ${elem === 'u32' ? `bitcast<vec4<i32>>(${v})` : v}; }`;
  }
  const st = [0, 1, 2, 3].map((l) => `${buf}[i + ${l}] = ${elem === 'u32' ? `bitcast<u32>(v[${l}])` : `v[${l}]`};`).join(' ');
  return `fn mdc_st4_${buf}(i: i32, v: ${vt}) { ${st} }`;
}

function word(buf: string, s: BufferStorage, index: string): string {
  return s.atomic ? `atomicLoad(&${buf}[${index}])` : `${buf}[${index}]`;
}

function packedLoad(buf: string, s: BufferStorage, helper: (h: HelperName) => string): string {
  if (s.kind === 'native16') return `fn mdc_ld_${buf}(i: i32) -> f32 { return f32(${buf}[i]); }`;
  if (s.kind === 'packed8') return `fn mdc_ld_${buf}(i: i32) -> u32 { return (${word(buf, s, 'u32(i) >> 2u')} >> ((u32(i) & 3u) * 8u)) & 0xffu; }`;
  const half = `(${word(buf, s, 'u32(i) >> 1u')} >> ((u32(i) & 1u) * 16u)) & 0xffffu`;
  const conv = s.elem === 'f16' ? `${helper('mdc_f16_to_f32')}(h)` : 'bitcast<f32>(h << 16u)';
  return `fn mdc_ld_${buf}(i: i32) -> f32 { let h = ${half}; return ${conv}; }`;
}

function packedLoad4(buf: string, s: BufferStorage): string {
  if (s.kind === 'packed8') return `fn mdc_ld4_${buf}(i: i32) -> vec4<i32> { return bitcast<vec4<i32>>(vec4<u32>(${lanes((i) => `mdc_ld_${buf}(${i})`)})); }`;
  return `fn mdc_ld4_${buf}(i: i32) -> vec4<f32> { return vec4<f32>(${lanes((i) => `mdc_ld_${buf}(${i})`)}); }`;
}

function packedStore(buf: string, s: BufferStorage, helper: (h: HelperName) => string): string {
  if (!s.atomic) throw new Error(`store into read-only buffer '${buf}'`);
  if (s.kind === 'packed8')
    return `fn mdc_st_${buf}(i: i32, x: u32) {
  let w = u32(i) >> 2u;
  let sh = (u32(i) & 3u) * 8u;
  atomicAnd(&${buf}[w], ~(0xffu << sh));
  atomicOr(&${buf}[w], (x & 0xffu) << sh);
}`;
  const bits = s.elem === 'f16' ? `${helper('mdc_f32_to_f16')}(x)` : `${helper('mdc_f32_to_bf16')}(x)`;
  return `fn mdc_st_${buf}(i: i32, x: f32) {
  let w = u32(i) >> 1u;
  let sh = (u32(i) & 1u) * 16u;
  atomicAnd(&${buf}[w], ~(0xffffu << sh));
  atomicOr(&${buf}[w], ${bits} << sh);
}`;
}

function packedStore4(buf: string, s: BufferStorage): string {
  const vt = s.kind === 'packed8' ? 'vec4<i32>' : 'vec4<f32>';
  const conv = (l: number): string => (s.kind === 'packed8' ? `bitcast<u32>(v[${l}])` : `v[${l}]`);
  return `fn mdc_st4_${buf}(i: i32, v: ${vt}) { ${[0, 1, 2, 3].map((l) => `mdc_st_${buf}(i + ${l}, ${conv(l)});`).join(' ')} }`;
}
