/**
 * MoD layer semantics on the reference backend, against the independent implementation in test/helpers/naive.ts:
 * the method doc section 3, case by case.
 */
import { TINY_PMOD } from '../../../models/index.js';
import { interpret } from '../../../src/backends/reference/index.js';
import { type Graph, type HostTensor, makeTensor, type MapStore } from '../../../src/ir/index.js';
import { randomWeights, Rng } from '../../../src/runtime/random.js';
import { oneModLayerGraph } from '../../helpers/mod-layer-graph.js';
import { layerWeights, llamaLayer, type Mat, naiveModLayer, rows, vec } from '../../helpers/naive.js';

const cfg = TINY_PMOD.llm;
const d = cfg.hiddenSize;
const ALPHA = 0.2;
const BIAS = 1;

function modLayerGraph(capacity: { ratio: number } | { constant: number }): Graph {
  return oneModLayerGraph(capacity, { alpha: ALPHA, bias: BIAS });
}

interface Case {
  x: Mat;
  routable: boolean[];
  positions: number[];
}

function randomCase(rng: Rng, pattern: string, posOffset = 0): Case {
  // pattern: 't' text token, 'v' vision token, in sequence order.
  const x = [...pattern].map(() => Array.from({ length: d }, () => Math.fround(rng.normal())));
  return { x, routable: [...pattern].map((c) => c === 'v'), positions: [...pattern].map((_, i) => posOffset + i) };
}

function inputsOf(c: Case): Record<string, HostTensor> {
  return {
    x: makeTensor('f32', [c.x.length, d], c.x.flat()),
    mask: makeTensor('bool', [c.x.length], c.routable.map(Number)),
    positions: makeTensor('i32', [c.x.length], c.positions),
  };
}

function run(g: Graph, w: MapStore, c: Case): { y: Mat; kept: number[]; k: HostTensor; v: HostTensor } {
  // N_v is not visible in any input shape (all are [T + N_v, ...]): it is the routable count.
  const out = interpret(g, inputsOf(c), { weights: w, symbols: { N_v: c.routable.filter(Boolean).length } });
  const [y, kept, k, v] = [out.y, out.kept, out.k, out.v];
  if (!y || !kept || !k || !v) throw new Error('missing outputs');
  return { y: rows(y.data, d), kept: Array.from(kept.data), k, v };
}

function naive(w: MapStore, c: Case, capacity: number): ReturnType<typeof naiveModLayer> {
  return naiveModLayer(c.x, c.positions, c.routable, { w: vec(w, 'router.weight'), b: vec(w, 'router.bias')[0] ?? 0 }, capacity, { alpha: ALPHA, bias: BIAS }, layerWeights(w, 'layer'), cfg);
}

function expectClose(a: Mat, b: Mat, tol = 2e-4): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - (b[i]?.[j] ?? Number.NaN)) / (1 + Math.abs(v))))));
  expect(worst).toBeLessThan(tol);
}

describe('modRoute on the reference backend (method doc section 3)', () => {
  const ratio = 0.5;
  const g = modLayerGraph({ ratio });
  const w = randomWeights(g, 7);
  const rng = new Rng(11);
  // Text prefix, 12 vision tokens, text suffix: S = 19, N_v = 12, k = 6.
  const c = randomCase(rng, 'tttvvvvvvvvvvvvtttt', 3);
  const got = run(g, w, c);
  const want = naive(w, c, 6);

  it('matches the independent implementation token by token', () => {
    expect(got.kept).toEqual(want.kept);
    expect(got.kept).toHaveLength(6);
    expectClose(got.y, want.y);
  });

  it('gives text tokens the ordinary layer output h1 + u on the compacted sequence', () => {
    c.routable.forEach((isVision, t) => {
      if (isVision) return;
      const k = want.keptAll.indexOf(t);
      const dense = (want.layer.h1[k] ?? []).map((h, i) => h + (want.layer.u[k]?.[i] ?? 0));
      expectClose([got.y[t] ?? []], [dense]);
    });
  });

  it('scales only the MLP branch of kept vision tokens: y = h1 + w * u', () => {
    for (const t of want.kept) {
      const k = want.keptAll.indexOf(t);
      const wt = want.weights[t] ?? 1;
      expect(wt).toBeGreaterThan(1 - ALPHA);
      expect(wt).toBeLessThan(1 + ALPHA);
      const expected = (want.layer.h1[k] ?? []).map((h, i) => h + wt * (want.layer.u[k]?.[i] ?? 0));
      expectClose([got.y[t] ?? []], [expected]);
    }
  });

  it('gives skipped vision tokens exactly w * x', () => {
    const skipped = c.routable.flatMap((v, t) => (v && !want.kept.includes(t) ? [t] : []));
    expect(skipped).toHaveLength(6);
    for (const t of skipped) {
      const wt = want.weights[t] ?? Number.NaN;
      expect(got.y[t]).toEqual((c.x[t] ?? []).map((v) => Math.fround(wt * v)));
    }
  });

  it('runs kept tokens in sequence order with their original position ids', () => {
    // The same layer on the compacted tokens with gap-free positions 0..K-1 gives different outputs after the first
    // skipped token (RoPE is relative, so only the gaps matter): the original positions are what the layer saw.
    const compacted = llamaLayer(want.keptAll.map((t) => c.x[t] ?? []), want.keptAll.map((_, i) => i), layerWeights(w, 'layer'), cfg);
    const last = c.x.length - 1;
    const k = want.keptAll.indexOf(last);
    const wrong = (compacted.h1[k] ?? []).map((h, i) => h + (compacted.u[k]?.[i] ?? 0));
    const right = got.y[last] ?? [];
    expect(Math.max(...right.map((v, i) => Math.abs(v - (wrong[i] ?? 0))))).toBeGreaterThan(1e-3);
    // And the keys exported by the region are those of the kept tokens at their original positions, in order.
    const keys = rows(got.k.data, cfg.headDim);
    const wantKeys = want.layer.k.flatMap((perHead) => perHead);
    expectClose(keys, wantKeys);
  });

  it('caches no K/V for skipped tokens: the layer cache holds T + k_l entries', () => {
    expect(got.k.shape).toEqual([7 + 6, cfg.numKvHeads, cfg.headDim]);
    expect(got.v.shape).toEqual([7 + 6, cfg.numKvHeads, cfg.headDim]);
  });

  it('runs dense when there are no routable tokens (N_v = 0)', () => {
    const text = randomCase(new Rng(5), 'tttttttt');
    const out = run(g, w, text);
    expect(out.kept).toEqual([]);
    const dense = llamaLayer(text.x, text.positions, layerWeights(w, 'layer'), cfg);
    expectClose(out.y, dense.h1.map((h, t) => h.map((v, i) => v + (dense.u[t]?.[i] ?? 0))));
  });

  it('skips every vision token when k_l = 0', () => {
    const g0 = modLayerGraph({ constant: 0 });
    const out = run(g0, w, c);
    const ref = naive(w, c, 0);
    expect(out.kept).toEqual([]);
    expect(out.k.shape[0]).toBe(7);
    expectClose(out.y, ref.y);
    c.routable.forEach((v, t) => {
      if (v) expect(out.y[t]).toEqual((c.x[t] ?? []).map((xv) => Math.fround((ref.weights[t] ?? 0) * xv)));
    });
  });

  it('breaks ties toward the lower token index', () => {
    // A zero router gives every token the same score: the first k vision tokens are kept.
    const wz = randomWeights(g, 7);
    wz.set('router.weight', makeTensor('f32', [1, d]));
    expect(run(g, wz, c).kept).toEqual([3, 4, 5, 6, 7, 8]);
    // Two identical vision rows straddling the cut: the lower index wins.
    const dup = randomCase(new Rng(3), 'tvvvvt');
    const z = dup.x.map((x) => x.reduce((a, v, i) => a + v * (w.get('router.weight').data[i] ?? 0), 0));
    const order = [1, 2, 3, 4].sort((a, b) => (z[b] ?? 0) - (z[a] ?? 0));
    const [best, second] = [order[0] ?? 1, order[1] ?? 2];
    // Make the second-best vision token an exact copy of the best one: k = 2 keeps both;
    // with a third copy at a lower index, k = 2 keeps the two lowest copies.
    const lowCopy = Math.min(...[1, 2, 3, 4].filter((i) => i !== best && i !== second));
    dup.x[second] = (dup.x[best] ?? []).slice();
    dup.x[lowCopy] = (dup.x[best] ?? []).slice();
    const copies = [best, second, lowCopy].sort((a, b) => a - b);
    expect(run(g, w, dup).kept).toEqual(copies.slice(0, 2));
  });

  it('rejects a routable mask that disagrees with the declared count, naming the node', () => {
    const bad = { ...inputsOf(c), mask: makeTensor('bool', [c.x.length], c.x.map(() => 1)) };
    expect(() => interpret(g, bad, { weights: w, symbols: { N_v: 12 } })).toThrow(/modRoute\): routable mask has 19 tokens but routableCount 12 was declared/);
  });
});
