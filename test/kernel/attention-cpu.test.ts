/**
 * The blocked CPU attention (prefill) and the decode attention against the reference CPU attention builder on
 * the Wasm device: gathered (gapped) positions, keys in any order, GQA, kvLen below the capacity, non-causal,
 * queries that see no key, and NaN keys in blocks no query sees (only a kernel that skips them stays finite).
 */
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { attentionGrid, attentionKernel, type AttentionSpec } from '../../src/kernel/builders/attention.js';
import { blockedAttentionGrid, blockedAttentionKernel, blockedAttentionParams, type BlockedAttentionTiling } from '../../src/kernel/builders/attention-blocked.js';
import {
  decodeAttentionCombineKernel, decodeAttentionPartialKernel, decodeCombineGrid, decodePartialElems, decodePartialGrid,
} from '../../src/kernel/builders/attention-decode.js';
import { headMajorGrid, headMajorKernel } from '../../src/kernel/builders/head-major.js';
import { Rng } from '../../src/runtime/random.js';

/** [rows, heads, dim] to [heads, rows, dim] on the host: the layout the blocked kernel reads K and V in. */
function headMajor(x: Float32Array, rows: number, heads: number, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) for (let h = 0; h < heads; h++) out.set(x.subarray((r * heads + h) * dim, (r * heads + h + 1) * dim), (h * rows + r) * dim);
  return out;
}

interface Case {
  readonly sq: number;
  readonly sk: number;
  readonly kvLen: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly d: number;
  readonly causal: boolean;
  readonly order: 'ascending' | 'shuffled';
  readonly nanBlock?: boolean;
  readonly tiling?: BlockedAttentionTiling;
}

function data(c: Case, seed: number) {
  const rng = new Rng(seed);
  const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
  const q = randn(c.sq * c.heads * c.d);
  const k = randn(c.sk * c.kvHeads * c.d);
  const v = randn(c.sk * c.kvHeads * c.d);
  let p = 0;
  const kPos = Array.from({ length: c.sk }, () => (p += 1 + rng.int(3)));
  if (c.order === 'shuffled')
    for (let i = kPos.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [kPos[i], kPos[j]] = [kPos[j] ?? 0, kPos[i] ?? 0];
    }
  // Queries at key positions (and one before every key: it sees nothing).
  const qPos = Array.from({ length: c.sq }, (_, i) => (i === 0 ? 0 : (kPos[rng.int(c.kvLen)] ?? 0)));
  return { q, k, v, kPos: Int32Array.from(kPos), qPos: Int32Array.from(qPos) };
}

describe('CPU attention builders', () => {
  const runner = new KernelRunner(2);
  afterAll(() => runner.dispose());

  const cases: Case[] = [
    { sq: 19, sk: 70, kvLen: 70, heads: 2, kvHeads: 2, d: 8, causal: true, order: 'ascending' },
    { sq: 8, sk: 130, kvLen: 101, heads: 4, kvHeads: 2, d: 16, causal: true, order: 'shuffled' },
    { sq: 13, sk: 40, kvLen: 33, heads: 3, kvHeads: 1, d: 12, causal: false, order: 'ascending' },
    { sq: 33, sk: 150, kvLen: 150, heads: 2, kvHeads: 2, d: 64, causal: true, order: 'ascending', tiling: { qVec: 3, keyBlock: 24, kRows: 6, vCols: 8, vectorLoads: true, cUnroll: 4 } },
  ];

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('blocked %s matches attentionKernel', (_name, c) => {
    const x = data(c, c.sq * 31 + c.sk);
    const spec: AttentionSpec = { sq: c.sq, sk: c.sk, heads: c.heads, kvHeads: c.kvHeads, headDim: c.d, valueDim: c.d, scale: 1 / Math.sqrt(c.d), causal: c.causal, queryBlock: 4 };
    const want = new Float32Array(c.sq * c.heads * c.d).fill(7);
    runner.run(attentionKernel(spec), { ...x, out: want }, { kvLen: c.kvLen }, attentionGrid(spec));
    const got = new Float32Array(c.sq * c.heads * c.d).fill(7);
    const hm = { k: headMajor(x.k, c.sk, c.kvHeads, c.d), v: headMajor(x.v, c.sk, c.kvHeads, c.d) };
    runner.run(blockedAttentionKernel(spec, c.tiling), { ...x, ...hm, out: got }, { kvLen: c.kvLen, ...blockedAttentionParams(spec) }, blockedAttentionGrid(spec, c.tiling));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] ?? 0) - (want[i] ?? 0)));
    expect(worst).toBeLessThan(2e-5);
    // The first query sees no key (causal): zeros.
    if (c.causal) expect(Array.from(got.subarray(0, c.heads * c.d)).every((y) => y === 0)).toBe(true);
  });

  const decodeCases: Case[] = [
    { sq: 1, sk: 70, kvLen: 67, heads: 2, kvHeads: 2, d: 8, causal: true, order: 'ascending' },
    { sq: 3, sk: 130, kvLen: 130, heads: 4, kvHeads: 2, d: 16, causal: true, order: 'shuffled' },
    { sq: 2, sk: 40, kvLen: 33, heads: 3, kvHeads: 1, d: 40, causal: false, order: 'ascending' },
    { sq: 1, sk: 9, kvLen: 1, heads: 2, kvHeads: 1, d: 72, causal: true, order: 'ascending' },
  ];

  it.each(decodeCases.map((c) => [JSON.stringify(c), c] as const))('decode %s matches attentionKernel', (_name, c) => {
    const x = data(c, c.sq * 17 + c.sk);
    const spec: AttentionSpec = { sq: c.sq, sk: c.sk, heads: c.heads, kvHeads: c.kvHeads, headDim: c.d, valueDim: c.d, scale: 1 / Math.sqrt(c.d), causal: c.causal, queryBlock: 4 };
    const want = new Float32Array(c.sq * c.heads * c.d).fill(7);
    runner.run(attentionKernel(spec), { ...x, out: want }, { kvLen: c.kvLen }, attentionGrid(spec));
    const got = new Float32Array(c.sq * c.heads * c.d).fill(7);
    const part = new Float32Array(decodePartialElems(spec, 16)).fill(Number.NaN);
    runner.run(decodeAttentionPartialKernel(spec, 16), { ...x, part }, { kvLen: c.kvLen }, decodePartialGrid(spec, 16));
    runner.run(decodeAttentionCombineKernel(spec, 16), { part, out: got }, {}, decodeCombineGrid(spec));
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((got[i] ?? 0) - (want[i] ?? 0)));
    expect(worst).toBeLessThan(2e-5);
    if (c.causal) expect(Array.from(got.subarray(0, c.heads * c.d)).every((y) => y === 0)).toBe(true);
  });

  it('skips key blocks no query sees: NaN keys there never reach the output', () => {
    // 8 queries at positions 0..7 see only the first block of 16 keys (positions 0..15); the later blocks
    // (positions 100+) are NaN.
    const sq = 8;
    const sk = 48;
    const d = 8;
    const q = Float32Array.from({ length: sq * d }, (_, i) => Math.sin(i));
    const k = Float32Array.from({ length: sk * d }, (_, i) => (i >= 16 * d ? Number.NaN : Math.cos(i)));
    const v = Float32Array.from({ length: sk * d }, (_, i) => (i >= 16 * d ? Number.NaN : Math.sin(3 * i)));
    const kPos = Int32Array.from({ length: sk }, (_, j) => (j < 16 ? j : 100 + j));
    const qPos = Int32Array.from({ length: sq }, (_, i) => i);
    const spec: AttentionSpec = { sq, sk, heads: 1, kvHeads: 1, headDim: d, valueDim: d, scale: 0.3, causal: true, queryBlock: 4 };
    const tiling = { qVec: 2, keyBlock: 16, kRows: 4, vCols: 4, vectorLoads: false, cUnroll: 2 };
    const got = new Float32Array(sq * d);
    runner.run(blockedAttentionKernel(spec, tiling), { q, k, v, qPos, kPos, out: got }, { kvLen: sk, ...blockedAttentionParams(spec) }, blockedAttentionGrid(spec, tiling));
    expect(got.every(Number.isFinite)).toBe(true);
  });

  it('lays K and V out head-major like the host transposition, only the kvLen rows in use', () => {
    const [rows, heads, dim] = [37, 3, 12];
    const x = Float32Array.from({ length: rows * heads * dim }, (_, i) => i * 0.5 - 7);
    const want = headMajor(x, rows, heads, dim);
    for (const kvLen of [rows, 20]) {
      const got = new Float32Array(x.length).fill(Number.NaN);
      runner.run(headMajorKernel(heads, dim), { x, out: got }, { rows, kvLen }, headMajorGrid(rows, heads, dim));
      for (let h = 0; h < heads; h++)
        for (let r = 0; r < rows; r++) {
          const row = Array.from(got.subarray((h * rows + r) * dim, (h * rows + r + 1) * dim));
          expect(row).toEqual(r < kvLen ? Array.from(want.subarray((h * rows + r) * dim, (h * rows + r + 1) * dim)) : new Array<number>(dim).fill(Number.NaN));
        }
    }
    expect(() => headMajorKernel(2, 6)).toThrow('dim 6 is not a multiple of 4');
  });
});
