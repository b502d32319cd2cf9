/**
 * The route kernels against the reference rules: router scores bit-equal to the canonical algorithm
 * (src/ir/numerics.ts) on the CPU and GPU schedules, TanhNorm weights, STRing rows of routable tokens, and
 * select + compaction equal to `topkIndices` on ties, NaNs, -0, k = 0 and k = all, for 1 and 8 threads.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { topkIndices } from '../../src/backends/reference/index.js';
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { numberToBf16Bits, bf16BitsToNumber, routerScore } from '../../src/ir/index.js';
import { routeScoreCpuGrid, routeScoreCpuKernel, routeScoreGpuGrid, routeScoreGpuKernel, type RouteScoreSpec } from '../../src/kernel/builders/route-score.js';
import { rankingKey, routeSelectKernel } from '../../src/kernel/builders/route-select.js';
import { Rng } from '../../src/runtime/random.js';

const runner = new KernelRunner(2);
afterAll(() => runner.dispose());

describe('canonical router score (host)', () => {
  it('is within 2 ulp of the exact dot product and equals it rounded in most cases', () => {
    const rng = new Rng(3);
    let exact = 0;
    for (let trial = 0; trial < 200; trial++) {
      const d = 1 + rng.int(300);
      const x = Float32Array.from({ length: d }, () => rng.normal() * 3);
      const w = Float32Array.from({ length: d }, () => rng.normal() * 0.05);
      const b = Math.fround(rng.normal() * 0.1);
      // The exact sum of float32 products is representable closely enough in f64 for d <= 300 (products are exact in f64).
      let ref = b;
      for (let i = 0; i < d; i++) ref += (x[i] ?? 0) * (w[i] ?? 0);
      const got = routerScore(x, 0, w, d, b);
      const ulp = Math.abs(Math.fround(ref) - Math.fround(ref + Math.abs(ref) * 2 ** -23)) || 2 ** -149;
      expect(Math.abs(got - ref)).toBeLessThanOrEqual(2 * ulp);
      if (got === Math.fround(ref)) exact++;
    }
    expect(exact).toBeGreaterThan(190);
  });
});

describe('route score kernels', () => {
  const rng = new Rng(11);
  for (const [s, d] of [[37, 48], [5, 77], [40, 32], [3, 5]] as const) {
    const x = Float32Array.from({ length: s * d }, () => rng.normal());
    const rw = Float32Array.from({ length: d }, () => rng.normal() * 0.2);
    const rb = Float32Array.of(Math.fround(0.013));
    const mask = Int32Array.from({ length: s }, (_, t) => (t % 3 === 0 ? 0 : 1));
    const want = Float32Array.from({ length: s }, (_, t) => routerScore(x, t * d, rw, d, rb[0] ?? 0));
    for (const schedule of ['cpu', 'gpu'] as const)
      for (const f64 of [true, false]) {
        it(`${schedule} schedule, S=${s}, d=${d}, ${f64 ? 'f64' : 'f32'} tanh: scores bit-equal, weights, routable rows`, () => {
          const spec: RouteScoreSpec = { d, alpha: 0.2, bias: 1, wElem: 'f32', bElem: 'f32', writeRoutable: true, f64 };
          const kern = schedule === 'cpu' ? routeScoreCpuKernel(spec, 4) : routeScoreGpuKernel(spec, 64);
          const grid = schedule === 'cpu' ? routeScoreCpuGrid(s, 4) : routeScoreGpuGrid(s, 64);
          const scores = new Float32Array(s);
          const weights = new Float32Array(s);
          const y = new Float32Array(s * d).fill(7);
          runner.run(kern, { x, rw, rb, mask, scores, weights, y }, { S: s }, grid);
          expect(Array.from(scores)).toEqual(Array.from(want));
          for (let t = 0; t < s; t++) {
            const w = Math.fround(0.2 * Math.tanh(want[t] ?? 0) + 1);
            if (f64) expect(weights[t]).toBe(w);
            else expect(Math.abs((weights[t] ?? 0) - w)).toBeLessThan(1e-6);
            for (let c = 0; c < d; c++) {
              const got = y[t * d + c] ?? 0;
              if (mask[t]) expect(got).toBe(Math.fround((weights[t] ?? 0) * (x[t * d + c] ?? 0)));
              else expect(got).toBe(7);
            }
          }
        });
      }
  }
  it('reads bf16 router weights', () => {
    const [s, d] = [6, 40];
    const x = Float32Array.from({ length: s * d }, () => rng.normal());
    const bits = Uint16Array.from({ length: d }, () => numberToBf16Bits(rng.normal() * 0.1));
    const rb = Uint16Array.of(numberToBf16Bits(0.25));
    const w32 = Float32Array.from(bits, bf16BitsToNumber);
    const scores = new Float32Array(s);
    const spec: RouteScoreSpec = { d, alpha: 0.2, bias: 1, wElem: 'bf16', bElem: 'bf16', writeRoutable: false, f64: true };
    runner.run(routeScoreCpuKernel(spec, 4), { x, rw: bits, rb, scores, weights: new Float32Array(s) }, { S: s }, routeScoreCpuGrid(s, 4));
    expect(Array.from(scores)).toEqual(Array.from({ length: s }, (_, t) => routerScore(x, t * d, w32, d, 0.25)));
  });
});

describe('route select kernel', () => {
  const rng = new Rng(17);
  for (const threads of [1, 8]) {
    it(`equals topkIndices on ties, NaNs and signed zeros (${threads} thread${threads > 1 ? 's' : ''})`, () => {
      for (let trial = 0; trial < 60; trial++) {
        const n = 1 + rng.int(70);
        const vals = [Number.NaN, 0, -0, 1, -1, 2, Infinity, -Infinity, 0.5];
        const scores = Float32Array.from({ length: n }, () => (rng.next() < 0.5 ? (vals[rng.int(vals.length)] ?? 0) : rng.normal()));
        const mask = Int32Array.from({ length: n }, () => (rng.next() < 0.7 ? 1 : 0));
        const cand = mask.reduce((a, b) => a + b, 0);
        const k = trial % 5 === 0 ? 0 : trial % 7 === 0 ? cand : rng.int(cand + 1);
        const kept = n - cand + k;
        const weights = Float32Array.from({ length: n }, () => 0.8 + 0.4 * rng.next());
        const pos = Int32Array.from({ length: n }, (_, i) => 100 + i);
        const out = { rowMap: new Int32Array(Math.max(1, kept)), keptPos: new Int32Array(Math.max(1, kept)), keptGate: new Float32Array(Math.max(1, kept)), keptCand: new Int32Array(Math.max(1, k)), status: new Int32Array(1) };
        runner.run(routeSelectKernel({ s: n, kept, threads }), { scores, mask, pos, weights, ...out }, { k, expected: cand, code: 9 }, [1, 1, 1]);
        const want = topkIndices(scores, mask, k, 'index');
        expect(Array.from(out.keptCand.subarray(0, k))).toEqual(want);
        const all = Array.from({ length: n }, (_, t) => t).filter((t) => !mask[t] || want.includes(t));
        expect(Array.from(out.rowMap.subarray(0, kept))).toEqual(all);
        expect(Array.from(out.keptPos.subarray(0, kept))).toEqual(all.map((t) => 100 + t));
        expect(Array.from(out.keptGate.subarray(0, kept))).toEqual(all.map((t) => (mask[t] ? (weights[t] ?? 0) : 1)));
        expect(out.status[0]).toBe(0);
      }
    });
  }
  it('reports a mask that does not hold the declared count, and too few candidates', () => {
    const scores = Float32Array.of(1, 2, 3, 4);
    const mask = Int32Array.of(0, 1, 1, 0);
    const z = (): Int32Array => new Int32Array(4);
    for (const [k, expected] of [[1, 3], [3, -1]] as const) {
      const status = new Int32Array(1);
      runner.run(routeSelectKernel({ s: 4, kept: 4, threads: 2 }), { scores, mask, pos: z(), weights: new Float32Array(4), rowMap: z(), keptPos: z(), keptGate: new Float32Array(4), keptCand: z(), status }, { k, expected, code: 9 }, [1, 1, 1]);
      expect(status[0]).toBe(9);
    }
  });
  it('ranking keys order like the scores', () => {
    const xs = [-Infinity, -3, -1e-30, -0, 0, 1e-30, 2, Infinity];
    const keys = xs.map(rankingKey);
    for (let i = 1; i < xs.length; i++) expect(keys[i] ?? 0).toBeGreaterThanOrEqual(keys[i - 1] ?? 0);
    expect(rankingKey(-0)).toBe(rankingKey(0));
    expect(rankingKey(Number.NaN)).toBe(0);
    expect(rankingKey(-Infinity)).toBeGreaterThan(0);
  });
});
