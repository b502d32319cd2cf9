/**
 * PTX interpreter internals: the executor's literal switch labels agree with the opcode tables (they are
 * literals so V8 compiles a jump table), and the numerics helpers (single-rounding f32 fma, cvt saturation and
 * NaN results, exact high products) against exact BigInt / float64 references.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { floatToIntSat, fmaF32, mulHiS32, mulHiU32, roundHalfEven } from '../../../src/backends/cuda-ptx/emu/numerics.js';
import { Cmp, Elem, Op } from '../../../src/backends/cuda-ptx/emu/opcodes.js';
import { PtxMachine } from '../../../src/backends/cuda-ptx/emu/machine.js';
import { PtxEmuDevice } from '../../../src/backends/cuda-ptx/emu-device.js';
import { k, type Kernel } from '../../../src/kernel/index.js';
import { Rng } from '../../../src/runtime/random.js';

const here = dirname(fileURLToPath(import.meta.url));

describe('executor switch labels', () => {
  it('every `case N /* Table.NAME */` label is that table entry, and every opcode has exactly one', () => {
    const src = readFileSync(join(here, '..', '..', '..', 'src', 'backends', 'cuda-ptx', 'emu', 'exec.ts'), 'utf8');
    const tables: Record<string, Record<string, number>> = { Op, Cmp, Elem };
    const labels = [...src.matchAll(/case (\d+) \/\* (Op|Cmp|Elem)\.(\w+) \*\/:/g)];
    expect(labels.length).toBeGreaterThan(150);
    for (const [, n, table, name] of labels) expect(`${table}.${name} = ${n}`).toBe(`${table}.${name} = ${tables[table ?? '']?.[name ?? '']}`);
    const ops = labels.filter((l) => l[2] === 'Op').map((l) => l[3]);
    expect(ops.sort()).toEqual(Object.keys(Op).sort());
    expect(src).not.toMatch(/case (Op|Cmp|Elem)\./);
  });
});

describe('interpreter numerics', () => {
  const rng = new Rng(5);
  const f = Math.fround;
  it('fma.rn.f32 rounds once, including the double-rounding ties of a*b+c computed in f64', () => {
    // a*b + c exactly halfway between two floats after rounding to f64, with the exact value just beyond.
    const a = f(1 + 2 ** -12);
    const b = f(1 + 2 ** -12);
    const c = f(-(2 ** -60));
    // Exact: 1 + 2^-11 + 2^-24 - 2^-60; nearest f32 above 1 + 2^-11 + 2^-24 is 1 + 2^-11 + 2^-23 vs below 1 + 2^-11.
    expect(fmaF32(a, b, c)).toBe(f(1 + 2 ** -11));
    expect(fmaF32(a, b, 0)).toBe(f(1 + 2 ** -11)); // tie to even
    for (let i = 0; i < 2000; i++) {
      const [x, y, z] = [f(rng.normal()), f(rng.normal()), f(rng.normal() * 2 ** -20)];
      // Exact reference with BigInt scaled integers is heavy; this checks against the f64 sum where it is exact.
      const exact = x * y + z;
      if (f(exact) === exact || Math.abs(exact - f(exact)) !== Math.abs(exact - f(exact))) continue;
      expect(fmaF32(x, y, z)).toBe(f(exact));
    }
  });
  it('cvt saturates, rounds in four modes, and gives the ISA NaN results', () => {
    expect(floatToIntSat(3e9, 1, 32, true, false)).toBe(2147483647);
    expect(floatToIntSat(-3e9, 1, 32, false, false)).toBe(0);
    expect(floatToIntSat(NaN, 1, 32, true, false)).toBe(0);
    expect(floatToIntSat(NaN, 1, 32, true, true)).toBe(-2147483648);
    expect(floatToIntSat(NaN, 1, 32, false, true)).toBe(2147483648);
    expect([0, 1, 2, 3].map((m) => floatToIntSat(-2.5, m, 32, true, false))).toEqual([-2, -2, -3, -2]);
    expect([0.5, 1.5, 2.5, -0.5, -1.5].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2]);
  });
  it('mul.hi agrees with BigInt products', () => {
    for (let i = 0; i < 2000; i++) {
      const a = (rng.next() * 2 ** 32) | 0;
      const b = (rng.next() * 2 ** 32) | 0;
      expect(mulHiS32(a, b)).toBe(Number(BigInt.asIntN(32, (BigInt(a) * BigInt(b)) >> 32n)));
      expect(mulHiU32(a >>> 0, b >>> 0)).toBe(Number((BigInt(a >>> 0) * BigInt(b >>> 0)) >> 32n));
    }
  });
});

describe('PtxMachine', () => {
  it('refuses a launch whose block contradicts .reqntid, and PTX it cannot decode names the line', () => {
    const m = new PtxMachine();
    const ptx = ['.version 7.8', '.target sm_80', '.address_size 64', '.visible .entry e(', '\t.param .u64 e_param_0', ')', '.reqntid 32, 1, 1', '{', '\t.reg .b64 %rd<2>;', '\tld.param.u64 %rd1, [e_param_0];', '\tret;', '}'].join('\n');
    const e = m.load(ptx).entries.get('e');
    expect(e).toBeDefined();
    if (e) expect(() => m.launch(e, [1, 1, 1], [64, 1, 1], [0])).toThrow("entry 'e' requires 32x1x1 threads per CTA (.reqntid), launched with 64x1x1");
    expect(() => m.load(ptx.replace('\tret;', '\tatom.global.add.f32 %f1, [%rd1], 1.0;\n\tret;'))).toThrow(/line 11: register %f1 is not declared|line 11: 'atom.global.add.f32' is not supported/);
    expect(() => m.load(ptx.replace('\tret;', '\tshfl.sync.bfly.b32 %rd1, %rd1, 1, 31, -1;\n\tret;'))).toThrow("entry 'e', line 11: 'shfl.sync.bfly.b32' is not supported by the PTX interpreter");
  });
});

describe('PtxEmuDevice dispatch checks', () => {
  it('refuses a buffer bound both read-only (ld.global.nc) and written, which real GPUs would get wrong silently', async () => {
    const kern: Kernel = {
      name: 'copy', buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'y', elem: 'f32', access: 'write' }], params: [], shared: [], privates: [], threads: 1,
      body: k.store(k.global('y'), 0, k.load(k.global('x'), 1)),
    };
    const dev = new PtxEmuDevice();
    const compiled = await dev.compile(kern);
    const [a, b] = [dev.alloc(8, 'a'), dev.alloc(8, 'b')];
    expect(() => dev.dispatch(compiled, [a, a], [], [1, 1, 1])).toThrow("ptx-emu: kernel 'copy' binds buffer 'a' both as read-only 'x' (loaded through ld.global.nc) and as written 'y'");
    dev.write(a, Float32Array.from([1, 2]));
    dev.dispatch(compiled, [a, b], [], [1, 1, 1]);
    expect(Array.from(new Float32Array((await dev.read(b)).buffer))).toEqual([2, 0]);
  });
});
