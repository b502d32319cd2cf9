/** The reference kernels of individual ops against hand-computed values. */
import { erf, interpret, topkIndices } from '../../../src/backends/reference/index.js';
import {
  buildGraph,
  type DType,
  type Dim,
  type GraphBuilder,
  type HostTensor,
  makeTensor,
  MapStore,
  type Value,
} from '../../../src/ir/index.js';

/** Runs a one-op graph: inputs given as [name, dtype, shape, data]. */
function run1(inputs: [string, DType, number[], number[]][], f: (b: GraphBuilder, ins: Value[]) => Value): HostTensor {
  const g = buildGraph('op', {}, (b) => {
    const vs = inputs.map(([n, dt, sh]) => b.input(n, dt, sh as Dim[]));
    b.output('y', f(b, vs));
  });
  const feeds = Object.fromEntries(inputs.map(([n, dt, sh, data]) => [n, makeTensor(dt, sh, data)]));
  const y = interpret(g, feeds, { weights: new MapStore() }).y;
  if (!y) throw new Error('no output');
  return y;
}

const arr = (t: HostTensor): number[] => Array.from(t.data);

describe('reference kernels', () => {
  it('matmul with transposes and broadcast batch dims', () => {
    const a = [1, 2, 3, 4, 5, 6]; // [2, 3]
    const bT = [1, 0, 1, 0, 1, 1, 2, 2, 0, 1, 1, 1]; // [4, 3]
    const y = run1([['a', 'f32', [2, 3], a], ['b', 'f32', [4, 3], bT]], (b, [x, w]) => b.matmul(x as Value, w as Value, { transposeB: true }));
    expect(y.shape).toEqual([2, 4]);
    expect(arr(y)).toEqual([4, 5, 6, 6, 10, 11, 18, 15]);
    const y2 = run1([['a', 'f32', [2, 2, 3], [...a, ...a]], ['b', 'f32', [3, 1], [1, 1, 1]]], (b, [x, w]) => b.matmul(x as Value, w as Value));
    expect(arr(y2)).toEqual([6, 15, 6, 15]);
    const y3 = run1([['a', 'f32', [3, 2], [1, 4, 2, 5, 3, 6]], ['b', 'f32', [3, 1], [1, 1, 1]]], (b, [x, w]) => b.matmul(x as Value, w as Value, { transposeA: true }));
    expect(arr(y3)).toEqual([6, 15]);
  });

  it('linear with bias in [out, in] layout', () => {
    const y = run1([['x', 'f32', [1, 2], [1, 2]], ['w', 'f32', [3, 2], [1, 0, 0, 1, 1, 1]], ['b', 'f32', [3], [0.5, 0, -1]]], (b, [x, w, bias]) => b.linear(x as Value, w as Value, bias));
    expect(arr(y)).toEqual([1.5, 2, 2]);
  });

  it('softmax, reduce, rmsnorm, layernorm', () => {
    const sm = run1([['x', 'f32', [2, 2], [0, Math.log(3), 1, 1]]], (b, [x]) => b.softmax(x as Value, 0));
    expect(arr(sm).map((v) => +v.toFixed(6))).toEqual([0.268941, 0.524633, 0.731059, 0.475367]);
    const r = run1([['x', 'f32', [2, 3], [1, 2, 3, 4, 5, 6]]], (b, [x]) => b.reduce('sum', x as Value, [1], true));
    expect(r.shape).toEqual([2, 1]);
    expect(arr(r)).toEqual([6, 15]);
    expect(arr(run1([['x', 'f32', [2, 3], [1, 2, 3, 4, 5, 6]]], (b, [x]) => b.reduce('max', x as Value, [0])))).toEqual([4, 5, 6]);
    expect(arr(run1([['x', 'f32', [2, 3], [1, 2, 3, 4, 5, 6]]], (b, [x]) => b.reduce('mean', x as Value, [0, 1])))).toEqual([3.5]);
    const rn = run1([['x', 'f32', [1, 2], [3, 4]], ['w', 'f32', [2], [1, 2]]], (b, [x, w]) => b.rmsnorm(x as Value, w as Value, 0));
    const rms = Math.sqrt(12.5);
    expect(arr(rn)[0]).toBeCloseTo(3 / rms, 6);
    expect(arr(rn)[1]).toBeCloseTo((2 * 4) / rms, 6);
    const ln = run1([['x', 'f32', [1, 2], [1, 3]], ['w', 'f32', [2], [1, 1]], ['b', 'f32', [2], [0, 10]]], (b, [x, w, bias]) => b.layernorm(x as Value, w as Value, bias as Value, 0));
    expect(arr(ln)).toEqual([-1, 11]);
  });

  it('unary functions including both GELU forms and quick GELU', () => {
    const xs = [-2, -0.5, 0, 0.5, 2];
    const f = (fn: Parameters<GraphBuilder['unary']>[0]): number[] => arr(run1([['x', 'f32', [5], xs]], (b, [x]) => b.unary(fn, x as Value)));
    const exact = xs.map((x) => 0.5 * x * (1 + erf(x / Math.SQRT2)));
    f('gelu_erf').forEach((v, i) => expect(v).toBeCloseTo(exact[i] ?? 0, 6));
    f('gelu_tanh').forEach((v, i) => expect(v).toBeCloseTo(exact[i] ?? 0, 2));
    f('quick_gelu').forEach((v, i) => expect(v).toBeCloseTo((xs[i] ?? 0) / (1 + Math.exp(-1.702 * (xs[i] ?? 0))), 6));
    f('silu').forEach((v, i) => expect(v).toBeCloseTo((xs[i] ?? 0) / (1 + Math.exp(-(xs[i] ?? 0))), 6));
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 12);
    expect(erf(3.5)).toBeCloseTo(0.9999992569016276, 12);
    expect(erf(-0.1)).toBeCloseTo(-0.1124629160182849, 12);
  });

  it('rounds f16 and bf16 results to their storage precision', () => {
    const y = run1([['x', 'f16', [2], [1, 1]], ['z', 'f16', [2], [0.0001, 0.0009765625]]], (b, [x, z]) => b.add(x as Value, z as Value));
    // 1 + 1e-4 is below half an f16 ulp at 1 (2^-11); 1 + 2^-10 is exactly representable.
    expect(arr(y)).toEqual([1, 1.0009765625]);
    const c = run1([['x', 'f32', [3], [1.00390625, 3.7, -2.5]]], (b, [x]) => b.cast(x as Value, 'bf16'));
    expect(arr(c)).toEqual([1, 3.703125, -2.5]);
    expect(arr(run1([['x', 'f32', [3], [1.9, -2.7, 0]]], (b, [x]) => b.cast(x as Value, 'i32')))).toEqual([1, -2, 0]);
    expect(arr(run1([['x', 'f32', [3], [1.9, -2.7, 0]]], (b, [x]) => b.cast(x as Value, 'bool')))).toEqual([1, 1, 0]);
  });

  it('layout ops: reshape, transpose, concat, slice', () => {
    const t = run1([['x', 'f32', [2, 3], [1, 2, 3, 4, 5, 6]]], (b, [x]) => b.transpose(x as Value, [1, 0]));
    expect(t.shape).toEqual([3, 2]);
    expect(arr(t)).toEqual([1, 4, 2, 5, 3, 6]);
    const c = run1([['a', 'f32', [2, 1], [1, 2]], ['b', 'f32', [2, 2], [3, 4, 5, 6]]], (b, [x, y]) => b.concat([x as Value, y as Value], 1));
    expect(arr(c)).toEqual([1, 3, 4, 2, 5, 6]);
    const s = run1([['x', 'f32', [2, 3], [1, 2, 3, 4, 5, 6]]], (b, [x]) => b.slice(x as Value, 1, 1, 3));
    expect(arr(s)).toEqual([2, 3, 5, 6]);
    const r = run1([['x', 'f32', [2, 3], [1, 2, 3, 4, 5, 6]]], (b, [x]) => b.reshape(x as Value, [3, 2]));
    expect(r.shape).toEqual([3, 2]);
  });

  it('rope rotates pairs (i, i + D/2) by position * theta^(-2i/D)', () => {
    const y = run1([['x', 'f32', [2, 1, 4], [1, 0, 0, 0, 1, 0, 0, 0]], ['p', 'i32', [2], [0, 1]]], (b, [x, p]) => b.rope(x as Value, p as Value, 10000));
    const v = arr(y);
    expect(v.slice(0, 4)).toEqual([1, 0, 0, 0]);
    expect(v[4]).toBeCloseTo(Math.cos(1), 6);
    expect(v[6]).toBeCloseTo(Math.sin(1), 6);
  });

  it('attention masks keys by original position and supports grouped KV heads', () => {
    // Two query heads share one KV head; positions 10 and 20: query 0 sees key 0 only.
    const q = [1, 0, 0, 1, 1, 0, 0, 1];
    const k = [1, 0, 0, 1];
    const v = [1, 2, 3, 4];
    const y = run1(
      [['q', 'f32', [2, 2, 2], q], ['k', 'f32', [2, 1, 2], k], ['v', 'f32', [2, 1, 2], v], ['qp', 'i32', [2], [10, 20]], ['kp', 'i32', [2], [10, 20]]],
      (b, [qq, kk, vv, qp, kp]) => b.attention(qq as Value, kk as Value, vv as Value, qp as Value, kp as Value, { scale: 1 }),
    );
    const out = arr(y);
    expect(out.slice(0, 4)).toEqual([1, 2, 1, 2]);
    const p = 1 / (1 + Math.exp(-1)); // query 1, head 0: scores (1, 0)
    expect(out[4]).toBeCloseTo(p * 1 + (1 - p) * 3, 6);
    expect(out[6]).toBeCloseTo((1 - p) * 1 + p * 3, 6);
  });

  it('top-k: descending score, ties to the lower index, NaN last, index order on request', () => {
    expect(topkIndices([0.5, 0.9, 0.9, 0.1], undefined, 2, 'score')).toEqual([1, 2]);
    expect(topkIndices([0.5, 0.9, 0.9, 0.1], undefined, 3, 'index')).toEqual([0, 1, 2]);
    expect(topkIndices([Number.NaN, 0.2, 0.1], undefined, 2, 'score')).toEqual([1, 2]);
    expect(topkIndices([5, 4, 3, 2], [0, 1, 0, 1], 1, 'score')).toEqual([1]);
    const y = run1([['s', 'f32', [4], [1, 3, 3, 2]]], (b, [s]) => b.topk(s as Value, 2));
    expect(arr(y)).toEqual([1, 2]);
  });

  it('gather/scatter rows and embedding reject bad indices naming the node', () => {
    const g = run1([['x', 'f32', [3, 2], [1, 2, 3, 4, 5, 6]], ['i', 'i32', [2], [2, 0]]], (b, [x, i]) => b.gatherRows(x as Value, i as Value));
    expect(arr(g)).toEqual([5, 6, 1, 2]);
    const s = run1([['x', 'f32', [3, 1], [0, 0, 0]], ['i', 'i32', [2], [2, 0]], ['v', 'f32', [2, 1], [7, 8]]], (b, [x, i, v]) => b.scatterRows(x as Value, i as Value, v as Value));
    expect(arr(s)).toEqual([8, 0, 7]);
    expect(() => run1([['x', 'f32', [3, 2], [1, 2, 3, 4, 5, 6]], ['i', 'i32', [1], [3]]], (b, [x, i]) => b.gatherRows(x as Value, i as Value, 'pick'))).toThrow(
      /node %2 'pick' \(gatherRows\): gatherRows row 0: index 3 out of range \[0, 3\)/,
    );
    expect(() => run1([['x', 'f32', [3, 1], [0, 0, 0]], ['i', 'i32', [2], [1, 1]], ['v', 'f32', [2, 1], [7, 8]]], (b, [x, i, v]) => b.scatterRows(x as Value, i as Value, v as Value))).toThrow(/writes row 1 twice/);
    expect(() => run1([['t', 'f32', [4, 2], [0, 0, 0, 0, 0, 0, 0, 0]], ['ids', 'i32', [2], [1, 9]]], (b, [t, ids]) => b.embedding(t as Value, ids as Value, 'embed_tokens'))).toThrow(
      /'embed_tokens' \(embedding\): token id at position 1: index 9 out of range \[0, 4\)/,
    );
  });

  it('binds symbols from input shapes and rejects inconsistent inputs', () => {
    const g = buildGraph('sym', { T: [1, 8], N_v: [0, 8] }, (b) => {
      const s = b.input('ids', 'f32', [{ k: 'lin', terms: [{ coeff: 1, atom: { k: 'sym', name: 'T' } }, { coeff: 1, atom: { k: 'sym', name: 'N_v' } }], c: 0 }]);
      const v = b.input('vis', 'f32', [b.sym('N_v')]);
      b.output('s', s);
      b.output('v', v);
    });
    const w = new MapStore();
    expect(() => interpret(g, { ids: makeTensor('f32', [5]), vis: makeTensor('f32', [2]) }, { weights: w })).not.toThrow();
    expect(() => interpret(g, { ids: makeTensor('f32', [1]), vis: makeTensor('f32', [2]) }, { weights: w })).toThrow(/symbol T = -1 is outside its bounds \[1, 8\]/);
    expect(() => interpret(g, { ids: makeTensor('f32', [5]) }, { weights: w })).toThrow(/missing input 'vis'/);
    expect(() => interpret(g, { ids: makeTensor('i32', [5]), vis: makeTensor('f32', [2]) }, { weights: w })).toThrow(/input 'ids': expected dtype f32, got i32/);
  });
});
