/**
 * The PTX interpreter on PTX that nvcc generates (cuda/emu-reference.cu, compiled at test time): a shared-memory
 * reduction with __syncthreads, a grid-stride loop, predication, f16 conversions, 64-bit addressing and
 * integers, integer division by constants (mul.hi), f64 and a 2-D block transpose, with known outputs computed
 * here. So the interpreter is checked against NVIDIA's reading of the ISA, not only against our renderer's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { f16BitsToNumber, numberToF16Bits } from '../../../src/ir/half.js';
import type { DecodedEntry } from '../../../src/backends/cuda-ptx/emu/decode.js';
import { type LoadedModule, PtxMachine } from '../../../src/backends/cuda-ptx/emu/machine.js';
import { Rng } from '../../../src/runtime/random.js';
import { missingTool } from './toolkit.js';

const here = dirname(fileURLToPath(import.meta.url));
const missing = missingTool('nvcc', 'nvcc-generated PTX tests');
const maybe = missing === undefined ? it : it.skip;

describe('ptx-emu on nvcc -ptx -arch=sm_80 output', () => {
  let dir = '';
  let mod: LoadedModule | undefined;
  const m = new PtxMachine();
  const rng = new Rng(77);
  beforeAll(() => {
    if (missing !== undefined) return;
    dir = mkdtempSync(join(tmpdir(), 'modc-nvcc-'));
    const out = join(dir, 'k.ptx');
    const r = spawnSync('nvcc', ['-ptx', '-arch=sm_80', join(here, 'cuda', 'emu-reference.cu'), '-o', out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`nvcc failed: ${r.stderr}`);
    mod = m.load(readFileSync(out, 'utf8'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const entry = (name: string): DecodedEntry => {
    const e = mod?.entries.get(name);
    if (e === undefined) throw new Error(`no entry ${name}`);
    return e;
  };
  const upload = (a: ArrayBufferView): number => {
    const p = m.memory.alloc(a.byteLength, 'test');
    m.write(p, a);
    return p;
  };
  const f32At = (p: number, n: number): Float32Array => new Float32Array(m.read(p, 4 * n).buffer);

  maybe('block_sum: tree reduction in shared memory across bar.sync', () => {
    const n = 1000;
    const x = Float32Array.from({ length: n }, () => rng.next() - 0.5);
    const blocks = Math.ceil(n / 256);
    const out = m.memory.alloc(4 * blocks, 'out');
    m.launch(entry('block_sum'), [blocks, 1, 1], [256, 1, 1], [upload(x), out, n]);
    const got = f32At(out, blocks);
    for (let b = 0; b < blocks; b++) {
      // The same pairwise tree in float32.
      const s = Float32Array.from({ length: 256 }, (_, t) => (b * 256 + t < n ? (x[b * 256 + t] ?? 0) : 0));
      for (let w = 128; w > 0; w >>= 1) for (let t = 0; t < w; t++) s[t] = (s[t] ?? 0) + (s[t + w] ?? 0);
      expect(got[b]).toBe(s[0]);
    }
  });

  maybe('saxpy_loop: grid-stride loop with a float scalar parameter', () => {
    const n = 777;
    const x = Float32Array.from({ length: n }, (_, i) => i * 0.25);
    const y = Float32Array.from({ length: n }, (_, i) => 1 - i);
    const py = upload(y);
    m.launch(entry('saxpy_loop'), [3, 1, 1], [64, 1, 1], [n, 1.5, upload(x), py]);
    expect(Array.from(f32At(py, n))).toEqual(Array.from(y, (v, i) => Math.fround(Math.fround(1.5 * (x[i] ?? 0)) + v)));
  });

  maybe('leaky: predicated select and a guarded store', () => {
    const x = Float32Array.from([-2, -0.5, 0, 0.5, 3, -7, 9]);
    const out = upload(new Float32Array(8).fill(42));
    m.launch(entry('leaky'), [1, 1, 1], [32, 1, 1], [upload(x), out, x.length]);
    expect(Array.from(f32At(out, 8))).toEqual([...Array.from(x, (v) => (v > 0 ? v : Math.fround(Math.fround(0.1) * v))), 42]);
  });

  maybe('half_affine: f16 loads, cvt.f32.f16 / cvt.rn.f16.f32 inside inline-asm scopes, 16-bit stores', () => {
    const vals = [0, 1, -1, 0.333, 1000, 65504, -3e-5, 2 ** -20];
    const h = Uint16Array.from(vals, numberToF16Bits);
    const out = upload(new Uint16Array(vals.length));
    m.launch(entry('half_affine'), [1, 1, 1], [64, 1, 1], [upload(h), out, vals.length]);
    const got = new Uint16Array(m.read(out, 2 * vals.length).buffer);
    expect(Array.from(got)).toEqual(Array.from(h, (b) => numberToF16Bits(Math.fround(f16BitsToNumber(b) * 2 + 1))));
  });

  maybe('wide_index: size_t indices, 64-bit loads, stores and multiplies', () => {
    const stride = 40;
    const blocks = 3;
    const n = blocks * stride;
    const src = new BigInt64Array(n).map((_, i) => BigInt(i * 1000 - 5000));
    const out = upload(new BigInt64Array(n));
    m.launch(entry('wide_index'), [blocks, 1, 1], [32, 1, 1], [upload(src), out, stride]);
    const got = new BigInt64Array(m.read(out, 8 * n).buffer);
    for (let b = 0; b < blocks; b++)
      for (let t = 0; t < stride; t++) {
        const i = b * stride + t;
        expect(got[i]).toBe(t < 32 ? (src[i] ?? 0n) * 3n + BigInt(i) : 0n);
      }
  });

  maybe('int_ops: division by constants through mul.hi, rem, popc, clz and shifts', () => {
    const a = Int32Array.from([0, 1, -1, 9, -9, 123456789, -2147483648, 2147483647, 70, -71]);
    const out = upload(new Int32Array(4 * a.length));
    m.launch(entry('int_ops'), [1, 1, 1], [32, 1, 1], [upload(a), out, a.length]);
    const got = new Int32Array(m.read(out, 16 * a.length).buffer);
    const popc = (v: number): number => v.toString(2).replace(/0/g, '').length;
    a.forEach((v, i) => {
      expect([got[4 * i], got[4 * i + 1], got[4 * i + 2], got[4 * i + 3]]).toEqual([Math.trunc(v / 10) | 0, v % 7 | 0, popc(v >>> 0) + Math.clz32(v), (v >>> 3) | 0]);
    });
  });

  maybe('dbl: f64 sqrt, reciprocal and fma', () => {
    const a = Float64Array.from([4, 2, 0.5, 1e300]);
    const b = Float64Array.from([3, -1, 8, 1e-10]);
    const out = upload(new Float64Array(4));
    m.launch(entry('dbl'), [1, 1, 1], [32, 1, 1], [upload(a), upload(b), out, 4]);
    const got = new Float64Array(m.read(out, 32).buffer);
    a.forEach((x, i) => {
      const want = Math.sqrt(x) * (b[i] ?? 0) + 1 / (b[i] ?? 1);
      expect(Math.abs((got[i] ?? 0) - want)).toBeLessThanOrEqual(Math.abs(want) * 2 ** -52);
    });
  });

  maybe('transpose16: 2-D blocks (%tid.y), a padded shared tile and bar.sync', () => {
    const w = 32;
    const x = Float32Array.from({ length: w * w }, (_, i) => i);
    const out = upload(new Float32Array(w * w));
    const stats = m.launch(entry('transpose16'), [2, 2, 1], [16, 16, 1], [upload(x), out, w]);
    const got = f32At(out, w * w);
    for (let r = 0; r < w; r++) for (let c = 0; c < w; c++) expect(got[r * w + c]).toBe(x[c * w + r]);
    expect(stats.ctas).toBe(4);
    expect(stats.instructions).toBeGreaterThan(4 * 256 * 10);
  });

  maybe('errors name the entry, the PTX line and the thread: an out-of-bounds store', () => {
    const x = upload(new Float32Array(4));
    const out = m.memory.alloc(4, 'small');
    // n = 300 lets threads past the allocation's 256-byte page write.
    expect(() => m.launch(entry('leaky'), [2, 1, 1], [256, 1, 1], [x, out, 300])).toThrow(/entry 'leaky', PTX line \d+, CTA \(\d,0,0\) thread \d+: global access of 4 bytes at 0x[0-9a-f]+ outside every live allocation/);
  });
});
