/**
 * The safetensors fuzz property shared by the quick test and the long property run: a random corruption of a valid
 * file (bit flips, truncation, header edits, a rewritten length field) either reads back consistently or fails with
 * SafetensorsError naming the file and the byte offset or tensor; never another exception.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { type DType, makeTensor } from '../../src/ir/index.js';
import { SafetensorsError, SafetensorsFile, tensorEntry, type TensorEntry } from '../../src/io/safetensors/index.js';
import { safetensorsBytes } from '../helpers/safetensors-raw.js';

const DTYPES: readonly DType[] = ['f32', 'f16', 'bf16', 'i32', 'u32', 'bool'];

const tensorArb = fc.record({
  dtype: fc.constantFrom(...DTYPES),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 3 }),
  seed: fc.integer(),
  asI64: fc.boolean(),
});

export type Corruption =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'dataflip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'edit'; at: number; text: string }
  | { kind: 'length'; value: bigint }
  | { kind: 'insert'; at: number; bytes: Uint8Array };

const corruptionArb: fc.Arbitrary<Corruption[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('dataflip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('edit' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('9', '-1', '99999999999', '"F64"', '[', '}', ',', '0', '1e400', '"__metadata__"', 'null')) }),
    fc.record({ kind: fc.constant('length' as const), value: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 400n })) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  ),
  { minLength: 1, maxLength: 3 },
);

export interface TensorSpec {
  dtype: DType;
  shape: number[];
  seed: number;
  asI64: boolean;
}

export interface FuzzCase {
  tensors: TensorSpec[];
  corruptions: Corruption[];
}

export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.record({ tensors: fc.array(tensorArb, { minLength: 1, maxLength: 5 }), corruptions: corruptionArb });

function entries(specs: readonly TensorSpec[]): TensorEntry[] {
  return specs.map((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    let x = s.seed >>> 0;
    const vals = Array.from({ length: n }, () => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      if (s.dtype === 'bool') return x & 1;
      if (s.dtype === 'u32') return x;
      if (s.dtype === 'i32') return x | 0;
      return ((x / 2 ** 32) - 0.5) * 8;
    });
    const t = makeTensor(s.dtype, s.shape, vals);
    return tensorEntry(`t${i}`, t, s.dtype === 'i32' && s.asI64 ? 'I64' : undefined);
  });
}

function corrupt(bytes: Uint8Array, cs: readonly Corruption[]): { bytes: Uint8Array; onlyData: number[] | undefined; dataStart: number } {
  const dataStart = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  let b = bytes.slice();
  // Positions of single-bit flips inside the data section; undefined once anything else changed.
  let onlyData: number[] | undefined = [];
  for (const c of cs) {
    const at = c.kind === 'length' ? 0 : c.kind === 'dataflip' ? dataStart + (c.at % Math.max(1, b.length - dataStart)) : c.at % (b.length + 1);
    if ((c.kind === 'flip' || c.kind === 'dataflip') && at < b.length) {
      b[at] = (b[at] ?? 0) ^ (1 << c.bit);
      if (at >= dataStart && onlyData) onlyData.push(at);
      else onlyData = undefined;
    } else if (c.kind === 'truncate') {
      b = b.slice(0, at);
      onlyData = undefined;
    } else if (c.kind === 'edit') {
      const text = new TextEncoder().encode(c.text);
      const nb = new Uint8Array(b.length + text.length);
      nb.set(b.subarray(0, at));
      nb.set(text, at);
      nb.set(b.subarray(at + text.length), at + text.length);
      b = nb.slice(0, Math.max(b.length, at + text.length));
      onlyData = undefined;
    } else if (c.kind === 'length' && b.length >= 8) {
      new DataView(b.buffer).setBigUint64(0, c.value, true);
      onlyData = undefined;
    } else if (c.kind === 'insert') {
      const nb = new Uint8Array(b.length + c.bytes.length);
      nb.set(b.subarray(0, at));
      nb.set(c.bytes, at);
      nb.set(b.subarray(at), at + c.bytes.length);
      b = nb;
      onlyData = undefined;
    }
  }
  return { bytes: b, onlyData, dataStart };
}

/**
 * Runs one case in `dir` (its two files are removed afterwards, so a long run does not fill the disk); returns
 * 'error' or 'read'. Throws (failing the property) on anything but SafetensorsError.
 */
export function runCase(dir: string, c: FuzzCase, serial: number): 'error' | 'read' {
  const es = entries(c.tensors);
  const original = safetensorsBytes(es);
  const { bytes, onlyData, dataStart } = corrupt(original, c.corruptions);
  const path = join(dir, `fuzz${serial}.safetensors`);
  const cleanPath = join(dir, `clean${serial}.safetensors`);
  writeFileSync(cleanPath, original);
  writeFileSync(path, bytes);
  let f: SafetensorsFile | undefined;
  try {
    f = SafetensorsFile.open(path);
    const clean = SafetensorsFile.open(cleanPath);
    try {
      for (const name of f.names()) {
        const t = f.get(name);
        const n = t.shape.reduce((a, b) => a * b, 1);
        if (t.data.length !== n) throw new Error(`${name}: ${t.data.length} elements for shape [${t.shape.join(', ')}]`);
        if (onlyData !== undefined) {
          // Only data bytes changed: the table is the original one, and untouched tensors read back unchanged.
          const info = f.info(name);
          const hit = onlyData.some((p) => p >= dataStart + info.begin && p < dataStart + info.end);
          const want = clean.get(name);
          if (JSON.stringify(t.shape) !== JSON.stringify(want.shape) || t.dtype !== want.dtype) throw new Error(`${name}: table changed by a data-only corruption`);
          if (!hit && !Array.from(t.data).every((v, i) => Object.is(v, want.data[i]))) throw new Error(`${name}: values changed although its bytes were not touched`);
        }
      }
    } finally {
      clean.close();
    }
    return 'read';
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    // Every refusal names the file, and the byte offset or the tensor.
    if (!e.message.startsWith(`${path}: `) || !/byte \d+|tensor '/.test(e.message)) throw new Error(`the message does not locate the problem: ${e.message}`);
    return 'error';
  } finally {
    f?.close();
    rmSync(path, { force: true });
    rmSync(cleanPath, { force: true });
  }
}
