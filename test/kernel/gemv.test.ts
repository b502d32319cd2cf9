/**
 * The CPU GEMV builder against the packed matmul builder on the Wasm device: same buffers, same packed weight,
 * same epilogues, equal results within FMA reassociation, for 1 to 4 rows, f32, bf16 (plain and in pairs) and f16
 * weights (K blocked, so the matmul widens f16 blocks into workgroup memory), ragged N, K not a multiple of the
 * unroll, gathered A rows and scattered C rows.
 */
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { gemvGrid, gemvKernel, gemvSets, type GemvSpec } from '../../src/kernel/builders/gemv.js';
import { CPU_TILING, matmulGrid, matmulKernel, type MatmulSpec, type MatmulTiling, packedLength, packLinearWeight } from '../../src/kernel/builders/matmul.js';
import { numberToBf16Bits, numberToF16Bits } from '../../src/ir/index.js';
import { Rng } from '../../src/runtime/random.js';

const GEMV_TILING: MatmulTiling = { mr: 1, nrVec: 2, kc: 1 << 30, mc: 1, panels: 3, unroll: 8, aVector: true };

interface Case {
  readonly rows: number;
  readonly k: number;
  readonly n: number;
  readonly bf16: boolean;
  readonly gather: boolean;
  readonly scatter: boolean;
  /** bf16 in interleaved pairs, bound as u32 words. */
  readonly pairs?: boolean;
  /** f16 weights (K above the matmul's K block: it widens each block into workgroup memory once). */
  readonly f16?: boolean;
}

describe('gemv builder', () => {
  const runner = new KernelRunner(2);
  afterAll(() => runner.dispose());

  const cases: Case[] = [
    { rows: 1, k: 64, n: 48, bf16: false, gather: false, scatter: false },
    { rows: 1, k: 77, n: 37, bf16: false, gather: false, scatter: false },
    { rows: 2, k: 96, n: 64, bf16: true, gather: true, scatter: false },
    { rows: 3, k: 40, n: 29, bf16: false, gather: false, scatter: true },
    { rows: 4, k: 130, n: 80, bf16: true, gather: true, scatter: true },
    { rows: 1, k: 77, n: 37, bf16: true, gather: false, scatter: false, pairs: true },
    { rows: 3, k: 96, n: 64, bf16: true, gather: true, scatter: true, pairs: true },
    { rows: 4, k: 300, n: 40, bf16: false, gather: true, scatter: false, f16: true },
    { rows: 1, k: 520, n: 24, bf16: false, gather: false, scatter: true, f16: true },
  ];

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s matches the matmul builder', (_name, c) => {
    const rng = new Rng(c.rows * 1000 + c.k);
    const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
    const rowsA = c.rows + 3;
    const a = randn(rowsA * c.k);
    const w = randn(c.n * c.k);
    const layout = { k: c.k, n: c.n, nr: 4 * GEMV_TILING.nrVec, ...(c.pairs ? { pairs: true } : {}) };
    const packed = packLinearWeight(layout, w, new Float32Array(packedLength(layout)));
    const bits = Uint16Array.from(packed, numberToBf16Bits);
    const b = c.pairs ? new Uint32Array(bits.buffer) : c.bf16 ? bits : c.f16 ? Uint16Array.from(packed, numberToF16Bits) : packed;
    const bias = randn(c.n);
    const rowsC = c.rows + 2;
    const other = randn(rowsC * c.n);
    const aRows = Int32Array.from({ length: c.rows }, (_, i) => (i * 2 + 1) % rowsA);
    const cRows = Int32Array.from({ length: c.rows }, (_, i) => rowsC - 1 - i);
    const base: MatmulSpec = {
      name: 'mv',
      k: c.k,
      n: c.n,
      tiling: CPU_TILING,
      bElem: c.bf16 ? 'bf16' : c.f16 ? 'f16' : 'f32',
      epilogue: [
        { kind: 'bias', buffer: 'bias' },
        { kind: 'binary', fn: 'add', buffer: 'other', mapped: c.scatter, operandFirst: true },
      ],
      ...(c.gather ? { gatherA: true } : {}),
      ...(c.scatter ? { scatterC: true } : {}),
      ...(c.pairs ? { bPairs: true } : {}),
    };
    const gemv: GemvSpec = { ...base, tiling: GEMV_TILING, rows: c.rows };
    const bufs = (out: Float32Array): Record<string, Float32Array | Uint16Array | Uint32Array | Int32Array> => ({
      a, b, c: out, bias, other, ...(c.gather ? { aRows } : {}), ...(c.scatter ? { cRows } : {}),
    });
    const want = new Float32Array(rowsC * c.n).fill(7);
    runner.run(matmulKernel(base), bufs(want), { M: c.rows }, matmulGrid(base, c.rows));
    const got = new Float32Array(rowsC * c.n).fill(7);
    runner.run(gemvKernel(gemv), bufs(got), { M: c.rows }, gemvGrid(gemv));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] ?? 0) - (want[i] ?? 0)) / (1 + Math.abs(want[i] ?? 0)));
    expect(worst).toBeLessThan(1e-5);
    // Rows not computed stay untouched.
    const touched = new Set(Array.from({ length: c.rows }, (_, r) => (c.scatter ? (cRows[r] ?? 0) : r)));
    for (let r = 0; r < rowsC; r++) if (!touched.has(r)) expect(Array.from(got.subarray(r * c.n, (r + 1) * c.n)).every((x) => x === 7)).toBe(true);
  });

  it('reads interleaved bf16 pairs to the same bits as plain bf16 panels', () => {
    const [k, n] = [64, 40];
    const rng = new Rng(5);
    const a = Float32Array.from({ length: k }, () => rng.normal());
    const w = Float32Array.from({ length: n * k }, () => rng.normal());
    const run = (pairs: boolean): Float32Array => {
      const layout = { k, n, nr: 8, pairs };
      const bits = Uint16Array.from(packLinearWeight(layout, w, new Float32Array(packedLength(layout))), numberToBf16Bits);
      const spec: GemvSpec = { name: 'mv', k, n, tiling: GEMV_TILING, bElem: 'bf16', epilogue: [], rows: 1, ...(pairs ? { bPairs: true } : {}) };
      const out = new Float32Array(n);
      runner.run(gemvKernel(spec), { a, b: pairs ? new Uint32Array(bits.buffer) : bits, c: out }, { M: 1 }, gemvGrid(spec));
      return out;
    };
    expect(Array.from(run(true))).toEqual(Array.from(run(false)));
  });

  it('refuses pairs without bf16 weights or with an odd nrVec', () => {
    expect(() => gemvKernel({ name: 'x', k: 8, n: 8, tiling: GEMV_TILING, bElem: 'f16', epilogue: [], rows: 1, bPairs: true })).toThrow('need bf16 weights and an even nrVec');
    expect(() => gemvKernel({ name: 'x', k: 8, n: 8, tiling: { ...GEMV_TILING, nrVec: 3 }, bElem: 'bf16', epilogue: [], rows: 1, bPairs: true })).toThrow('nrVec 3');
  });

  it('keeps at most 8 accumulators and 2 sets per row block, dividing the unroll', () => {
    expect(gemvSets(1, 2, 4)).toBe(2);
    expect(gemvSets(2, 2, 4)).toBe(2);
    expect(gemvSets(4, 2, 4)).toBe(1);
    expect(gemvSets(1, 2, 3)).toBe(1);
    expect(gemvSets(1, 1, 8)).toBe(2);
  });

  it('refuses an RMSNorm prologue', () => {
    expect(() => gemvKernel({ name: 'x', k: 8, n: 8, tiling: GEMV_TILING, epilogue: [], rmsnormEps: 1e-5, rows: 1 })).toThrow('no RMSNorm prologue');
  });
});
