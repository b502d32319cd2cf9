/** Storage types of the Kernel IR on the Wasm renderer: widening loads and rounding stores of f16, bf16 and u8. */
import { afterAll, describe, expect, it } from '@jest/globals';
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { bf16BitsToNumber, f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from '../../src/ir/index.js';
import { k, type ElemType, type Kernel } from '../../src/kernel/index.js';

const runner = new KernelRunner(1);
afterAll(() => runner.dispose());

/** out[i] = f32(load(x[i])) with scalar and vector loads (n multiple of 4). */
function widen(elem: ElemType, n: number, vector: boolean): Kernel {
  const body = vector
    ? k.range('i', 0, n, k.store(k.global('out'), k.v('i'), k.load(k.global('x'), k.v('i'), 'f32x4')), 4)
    : k.range('i', 0, n, k.store(k.global('out'), k.v('i'), k.load(k.global('x'), k.v('i'), 'f32')));
  return { name: `widen_${elem}_${vector}`, buffers: [{ name: 'x', elem, access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }], params: [], shared: [], privates: [], threads: 1, body };
}
function narrow(elem: ElemType, n: number, vector: boolean): Kernel {
  const body = vector
    ? k.range('i', 0, n, k.store(k.global('out'), k.v('i'), k.load(k.global('x'), k.v('i'), 'f32x4')), 4)
    : k.range('i', 0, n, k.store(k.global('out'), k.v('i'), k.load(k.global('x'), k.v('i'), 'f32')));
  return { name: `narrow_${elem}_${vector}`, buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem, access: 'write' }], params: [], shared: [], privates: [], threads: 1, body };
}

/** Every f16 bit pattern, and every bf16 pattern with a stride (both cover normals, subnormals, inf, NaN). */
const f16Patterns = Uint16Array.from({ length: 65536 }, (_, i) => i);
const bf16Patterns = Uint16Array.from({ length: 65536 / 4 }, (_, i) => (i * 4 + (i % 4)) & 0xffff);

describe('widening loads', () => {
  for (const vector of [false, true]) {
    it(`f16 -> f32 exactly for all 65536 patterns (${vector ? 'f32x4' : 'scalar'})`, () => {
      const out = new Float32Array(f16Patterns.length);
      runner.run(widen('f16', f16Patterns.length, vector), { x: f16Patterns, out }, {}, [1, 1, 1]);
      const bad: number[] = [];
      for (let i = 0; i < f16Patterns.length; i++) {
        const want = f16BitsToNumber(i);
        if (Number.isNaN(want) ? !Number.isNaN(out[i]) : !Object.is(out[i], want)) bad.push(i);
      }
      expect(bad).toEqual([]);
    });
    it(`bf16 -> f32 exactly (${vector ? 'f32x4' : 'scalar'})`, () => {
      const out = new Float32Array(bf16Patterns.length);
      runner.run(widen('bf16', bf16Patterns.length, vector), { x: bf16Patterns, out }, {}, [1, 1, 1]);
      const bad = bf16Patterns.filter((p, i) => {
        const want = bf16BitsToNumber(p);
        return Number.isNaN(want) ? !Number.isNaN(out[i]) : !Object.is(out[i], want);
      });
      expect(Array.from(bad)).toEqual([]);
    });
  }
  it('u8 loads zero-extend', () => {
    const x = Uint8Array.from({ length: 256 }, (_, i) => i);
    const out = new Int32Array(256);
    const kern: Kernel = {
      name: 'u8', buffers: [{ name: 'x', elem: 'u8', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }], params: [], shared: [], privates: [], threads: 1,
      body: k.range('i', 0, 256, k.store(k.global('out'), k.v('i'), k.load(k.global('x'), k.v('i'), 'i32'))),
    };
    runner.run(kern, { x, out }, {}, [1, 1, 1]);
    expect(Array.from(out)).toEqual(Array.from(x));
  });
});

describe('rounding stores', () => {
  // Values around every rounding boundary: random floats over the f16 range, halfway cases, overflow, subnormals.
  const values: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, 70000, -70000, 2 ** -14, 2 ** -24, 2 ** -25, 3 * 2 ** -26, 2 ** -26, Infinity, -Infinity, NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 3.4e38];
  let seed = 7;
  for (let i = 0; i < 4000; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    values.push(Math.fround(((seed / 0x7fffffff) * 2 - 1) * 2 ** ((seed % 40) - 25)));
  }
  while (values.length % 4) values.push(0.5);
  const x = Float32Array.from(values);
  for (const vector of [false, true]) {
    it(`f32 -> f16 rounds to nearest even (${vector ? 'f32x4' : 'scalar'})`, () => {
      const out = new Uint16Array(x.length);
      runner.run(narrow('f16', x.length, vector), { x, out }, {}, [1, 1, 1]);
      x.forEach((v, i) => {
        const want = numberToF16Bits(v);
        if (Number.isNaN(v)) expect((out[i] ?? 0) & 0x7c00).toBe(0x7c00);
        else expect(out[i]).toBe(want);
      });
    });
    it(`f32 -> bf16 rounds to nearest even (${vector ? 'f32x4' : 'scalar'})`, () => {
      const out = new Uint16Array(x.length);
      runner.run(narrow('bf16', x.length, vector), { x, out }, {}, [1, 1, 1]);
      x.forEach((v, i) => {
        if (Number.isNaN(v)) expect(Number.isNaN(bf16BitsToNumber(out[i] ?? 0))).toBe(true);
        else expect(out[i]).toBe(numberToBf16Bits(v));
      });
    });
  }
  it('u8 stores keep the low 8 bits', () => {
    const x = Int32Array.from([0, 1, 255, 256, 257, -1, 1000]);
    const out = new Uint8Array(7);
    const kern: Kernel = {
      name: 'u8s', buffers: [{ name: 'x', elem: 'i32', access: 'read' }, { name: 'out', elem: 'u8', access: 'write' }], params: [], shared: [], privates: [], threads: 1,
      body: k.range('i', 0, 7, k.store(k.global('out'), k.v('i'), k.load(k.global('x'), k.v('i'), 'i32'))),
    };
    runner.run(kern, { x, out }, {}, [1, 1, 1]);
    expect(Array.from(out)).toEqual([0, 1, 255, 0, 1, 255, 1000 & 255]);
  });
});
