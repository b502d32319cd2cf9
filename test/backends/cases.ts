/**
 * Conformance cases: small graphs covering every op kind (and every function of the elementwise ops) with
 * seeded random inputs, plus error cases. Each case says whether a backend must match the reference exactly or
 * within the backend's tolerance for reordered float sums.
 */
import { TINY_PMOD } from '../../models/zoo.js';
import { buildGraph, type DType, type Dim, type Graph, type GraphBuilder, type HostTensor, makeTensor, MapStore, BINARY_FNS, COMPARE_FNS, LOGICAL_FNS, REDUCE_FNS, UNARY_FNS } from '../../src/ir/index.js';
import { randomWeights, Rng } from '../../src/runtime/random.js';
import { oneModLayerGraph } from '../helpers/mod-layer-graph.js';
import { UNARY_APPROX } from '../../src/passes/lower/elementwise.js';
import { elementwiseFusionPass, linearFusionPass, type Pass, pipeline, routeFusionPass, runPasses } from '../../src/passes/index.js';

export interface OpCase {
  readonly name: string;
  readonly graph: Graph;
  readonly inputs: Readonly<Record<string, HostTensor>>;
  readonly weights: MapStore;
  /** 'exact': same arithmetic as the reference; 'reordered': float sums in another order (tolerance applies). */
  readonly compare: 'exact' | 'reordered';
  /** For error cases: the message the run must reject with. */
  readonly error?: RegExp;
  readonly symbols?: Readonly<Record<string, number>>;
}

const rng = new Rng(1234);
const randn = (shape: number[], scale = 1): number[] => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.fround(scale * rng.normal()));
const randi = (shape: number[], lo: number, hi: number): number[] => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + rng.int(hi - lo));

type In = [string, DType, number[], number[]];

function opCase(name: string, ins: In[], f: (b: GraphBuilder, vs: ReturnType<GraphBuilder['input']>[]) => void, opts: { compare?: 'exact' | 'reordered'; weights?: [string, DType, number[], number[]][]; error?: RegExp } = {}): OpCase {
  const graph = buildGraph(name.replace(/[^a-zA-Z0-9_]/g, '_'), {}, (b) => {
    const vs = ins.map(([n, dt, sh]) => b.input(n, dt, sh as Dim[]));
    f(b, vs);
  });
  const inputs = Object.fromEntries(ins.map(([n, dt, sh, data]) => [n, makeTensor(dt, sh, data)]));
  const weights = new MapStore((opts.weights ?? []).map(([n, dt, sh, data]) => [n, makeTensor(dt, sh, data)] as const));
  return { name, graph, inputs, weights, compare: opts.compare ?? 'exact', ...(opts.error ? { error: opts.error } : {}) };
}

const x34: In = ['x', 'f32', [3, 4], randn([3, 4])];

function elementwiseCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const fn of UNARY_FNS)
    out.push(opCase(`unary ${fn}`, [['x', 'f32', [5, 7], randn([5, 7], 2)]], (b, [x]) => b.output('y', b.unary(fn, x)), { compare: fn === 'gelu_erf' || UNARY_APPROX.has(fn) ? 'reordered' : 'exact' }));
  for (const fn of BINARY_FNS) {
    const aVals = fn === 'pow' ? randn([4, 6]).map(Math.abs) : randn([4, 6]);
    out.push(opCase(`binary ${fn} f32 broadcast`, [['a', 'f32', [4, 6], aVals], ['b', 'f32', [6], randn([6])]], (b, [p, q]) => b.output('y', b.binary(fn, p, q))));
    out.push(opCase(`binary ${fn} f32 contiguous`, [['a', 'f32', [37], randn([37]).map(Math.abs)], ['b', 'f32', [37], randn([37])]], (b, [p, q]) => b.output('y', b.binary(fn, p, q))));
    out.push(opCase(`binary ${fn} i32`, [['a', 'i32', [2, 5], randi([2, 5], -9, 10)], ['b', 'i32', [2, 1], fn === 'pow' ? [2, 3] : [3, 0]]], (b, [p, q]) => b.output('y', b.binary(fn, p, q))));
  }
  for (const fn of COMPARE_FNS)
    out.push(opCase(`compare ${fn}`, [['a', 'f32', [3, 4], randi([3, 4], -2, 3)], ['b', 'f32', [4], randi([4], -2, 3)]], (b, [p, q]) => b.output('y', b.compare(fn, p, q))));
  for (const fn of LOGICAL_FNS)
    out.push(opCase(`logical ${fn}`, [['a', 'bool', [2, 4], randi([2, 4], 0, 2)], ['b', 'bool', [4], [0, 1, 1, 0]]], (b, [p, q]) => b.output('y', b.logical(fn, p, q))));
  out.push(opCase('where', [['c', 'bool', [3, 1], [1, 0, 1]], ['a', 'f32', [3, 4], randn([3, 4])], ['b', 'f32', [4], randn([4])]], (b, [c, p, q]) => b.output('y', b.where(c, p, q))));
  out.push(opCase('cast f32 -> i32, bool, f16, bf16', [['x', 'f32', [9], [1.7, -1.7, 0, 3.5, -2.5, 1e-5, 65519, 70000, 1 / 3]]], (b, [x]) => {
    for (const to of ['i32', 'bool', 'f16', 'bf16'] as const) b.output(to, b.cast(x, to));
  }));
  out.push(opCase('cast i32/bool -> f32', [['i', 'i32', [4], [-3, 0, 7, 16777217]], ['m', 'bool', [4], [1, 0, 0, 1]]], (b, [i, m]) => {
    b.output('fi', b.cast(i, 'f32'));
    b.output('fm', b.cast(m, 'f32'));
    b.output('im', b.cast(m, 'i32'));
  }));
  out.push(opCase('f16 arithmetic rounds every result', [['a', 'f16', [6], randn([6])], ['b', 'f16', [6], randn([6])]], (b, [p, q]) => {
    b.output('sum', b.add(p, q));
    b.output('silu', b.unary('silu', b.mul(p, q)));
  }, { compare: 'reordered' }));
  return out;
}

function shapeCases(): OpCase[] {
  return [
    opCase('reshape', [x34], (b, [x]) => b.output('y', b.reshape(x, [2, 6]))),
    opCase('transpose', [['x', 'f32', [2, 3, 4], randn([2, 3, 4])]], (b, [x]) => b.output('y', b.transpose(x, [2, 0, 1]))),
    opCase('concat axis 0 and 1', [x34, ['z', 'f32', [3, 2], randn([3, 2])]], (b, [x, z]) => {
      b.output('c1', b.concat([x, z], 1));
      b.output('c0', b.concat([x, x], 0));
    }),
    opCase('slice', [['x', 'f32', [5, 6], randn([5, 6])]], (b, [x]) => {
      b.output('rows', b.slice(x, 0, 1, 4));
      b.output('cols', b.slice(x, 1, 2, 5));
    }),
    opCase('full and iota', [], (b) => {
      b.output('f', b.full(2.5, 'f32', [2, 3]));
      b.output('m', b.full(1, 'bool', [4]));
      b.output('i', b.iota(7));
    }),
    opCase('weight output', [], (b) => b.output('w', b.weight('w', 'f32', [2, 2])), { weights: [['w', 'f32', [2, 2], [1, 2, 3, 4]]] }),
    opCase('embedding', [['ids', 'i32', [5], [3, 0, 9, 3, 1]]], (b, [ids]) => b.output('y', b.embedding(b.weight('table', 'f32', [10, 6]), ids)), { weights: [['table', 'f32', [10, 6], randn([10, 6])]] }),
    opCase('gatherRows and scatterRows', [['x', 'f32', [6, 2, 3], randn([6, 2, 3])], ['idx', 'i32', [3], [4, 0, 5]], ['src', 'f32', [3, 2, 3], randn([3, 2, 3])]], (b, [x, idx, src]) => {
      b.output('g', b.gatherRows(x, idx));
      b.output('s', b.scatterRows(x, idx, src));
    }),
    opCase('cacheWrite appends rows at an offset', [['cache', 'f32', [6, 2, 3], randn([6, 2, 3])], ['rows', 'f32', [2, 2, 3], randn([2, 2, 3])]], (b, [cache, rows]) => {
      b.output('c', b.cacheWrite(cache, rows, 3));
    }),
    opCase('cacheWrite keeps the old cache when it is read again', [['cache', 'i32', [5], [1, 2, 3, 4, 5]], ['rows', 'i32', [1], [9]]], (b, [cache, rows]) => {
      b.output('c', b.cacheWrite(cache, rows, 0));
      b.output('old', b.add(cache, cache));
    }),
  ];
}

function mathCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const [m, k, n] of [[7, 37, 29], [1, 64, 8], [13, 96, 50], [0, 16, 12], [49, 300, 17]] as const)
    cases.push(opCase(`linear ${m}x${k}x${n} + bias`, [['x', 'f32', [m, k], randn([m, k])]], (b, [x]) => {
      b.output('y', b.linear(x, b.weight('w', 'f32', [n, k]), b.weight('bias', 'f32', [n])));
      b.output('nobias', b.linear(x, b.weight('w', 'f32', [n, k])));
    }, { compare: 'reordered', weights: [['w', 'f32', [n, k], randn([n, k], 0.2)], ['bias', 'f32', [n], randn([n])]] }));
  cases.push(opCase('linear on 3-D input with f16 weight', [['x', 'f32', [2, 3, 40], randn([2, 3, 40])]], (b, [x]) => b.output('y', b.linear(x, b.weight('w', 'f16', [9, 40]))), { compare: 'reordered', weights: [['w', 'f16', [9, 40], randn([9, 40], 0.2)]] }));
  cases.push(opCase('linear with a computed weight', [['x', 'f32', [4, 8], randn([4, 8])], ['w', 'f32', [5, 8], randn([5, 8])], ['bias', 'f32', [5], randn([5])]], (b, [x, w, bb]) => b.output('y', b.linear(x, w, bb)), { compare: 'reordered' }));
  cases.push(opCase('matmul batched, broadcast, transposed', [['a', 'f32', [2, 3, 4], randn([2, 3, 4])], ['b', 'f32', [5, 4], randn([5, 4])], ['c', 'f32', [4, 3], randn([4, 3])]], (b, [p, q, c]) => {
    b.output('ab', b.matmul(p, q, { transposeB: true }));
    b.output('ta', b.matmul(c, q, { transposeA: true, transposeB: true }));
  }));
  for (const fn of REDUCE_FNS)
    cases.push(opCase(`reduce ${fn}`, [['x', 'f32', [3, 4, 5], randn([3, 4, 5])]], (b, [x]) => {
      b.output('last', b.reduce(fn, x, [-1]));
      b.output('outer', b.reduce(fn, x, [0, 2], true));
    }));
  cases.push(opCase('rmsnorm, layernorm', [['x', 'f32', [5, 12], randn([5, 12], 3)]], (b, [x]) => {
    b.output('rms', b.rmsnorm(x, b.weight('w', 'f32', [12]), 1e-5));
    b.output('ln', b.layernorm(x, b.weight('w', 'f32', [12]), b.weight('b', 'f32', [12]), 1e-5));
  }, { weights: [['w', 'f32', [12], randn([12])], ['b', 'f32', [12], randn([12])]] }));
  cases.push(opCase('softmax last and first axis', [['x', 'f32', [4, 6], randn([4, 6], 3)]], (b, [x]) => {
    b.output('last', b.softmax(x, -1));
    b.output('first', b.softmax(x, 0));
  }));
  cases.push(opCase('rope with partial rotary dim', [['x', 'f32', [5, 3, 8], randn([5, 3, 8])], ['pos', 'i32', [5], [0, 3, 4, 10, 200]]], (b, [x, p]) => {
    b.output('full', b.rope(x, p, 10000, 8));
    b.output('partial', b.rope(x, p, 500, 4));
  }));
  const attn = (name: string, sq: number, sk: number, h: number, hkv: number, d: number, causal: boolean): OpCase =>
    opCase(name, [['q', 'f32', [sq, h, d], randn([sq, h, d])], ['k', 'f32', [sk, hkv, d], randn([sk, hkv, d])], ['v', 'f32', [sk, hkv, d], randn([sk, hkv, d])], ['qp', 'i32', [sq], randi([sq], 0, 30)], ['kp', 'i32', [sk], randi([sk], 0, 30)]], (b, [q, k, v, qp, kp]) =>
      b.output('y', b.attention(q, k, v, qp, kp, { scale: 1 / Math.sqrt(d), causal })), { compare: 'reordered' });
  cases.push(attn('attention causal GQA over gathered positions', 11, 11, 4, 2, 16, true));
  cases.push(attn('attention non-causal, head dim 6', 5, 9, 2, 1, 6, false));
  cases.push(opCase('topk by score and by index, with a mask and ties', [['s', 'f32', [10], [0.5, 2, 2, -1, 0.5, Number.NaN, 3, 2, -1, 0.5]], ['m', 'bool', [10], [1, 1, 1, 1, 0, 1, 1, 1, 1, 1]]], (b, [s, m]) => {
    b.output('score', b.topk(s, 6, { order: 'score' }));
    b.output('index', b.topk(s, 5, { mask: m, order: 'index' }));
  }));
  return cases;
}

/** One p-MoD layer of the tiny model on a sequence pattern ('t' text, 'v' vision). */
export function modLayerCase(name: string, pattern: string, ratio: number, seed: number): OpCase {
  const cfg = TINY_PMOD.llm;
  const d = cfg.hiddenSize;
  const graph = oneModLayerGraph(ratio === 0 ? { constant: 0 } : { ratio });
  const r = new Rng(seed);
  const s = pattern.length;
  const inputs = {
    x: makeTensor('f32', [s, d], Array.from({ length: s * d }, () => r.normal())),
    mask: makeTensor('bool', [s], [...pattern].map((c) => (c === 'v' ? 1 : 0))),
    positions: makeTensor('i32', [s], Array.from({ length: s }, (_, i) => i + 3)),
  };
  const weights = randomWeights(graph, seed);
  // A router that actually discriminates (the default init is zero in the paper; random here).
  const rw = weights.get('router.weight');
  for (let i = 0; i < rw.data.length; i++) rw.data[i] = Math.fround(r.normal() * 0.3);
  const nv = [...pattern].filter((c) => c === 'v').length;
  return { name, graph, inputs, weights, compare: 'reordered', symbols: { N_v: nv } };
}

/** A case's graph after some passes: how the fused ops (which the builder DSL does not emit) get their cases. */
function afterPasses(c: OpCase, name: string, passes: readonly Pass[]): OpCase {
  const graph = runPasses(c.graph, passes, { verify: true });
  // Specialisation binds symbols: keep only those the new graph still declares.
  const symbols = Object.fromEntries(Object.entries(c.symbols ?? {}).filter(([k]) => graph.symbols.some((s) => s.name === k)));
  return { ...c, name, graph, compare: 'reordered', symbols };
}

function fusedCases(): OpCase[] {
  const mixed = modLayerCase('mod layer', 'ttvvvvvvvvttvvvtt', 0.5, 5);
  const allSkipped = modLayerCase('mod layer k = 0', 'tvvvtvv', 0, 6);
  const ew = opCase('fusedElementwise source', [['a', 'f32', [5, 8], randn([5, 8])], ['b', 'f32', [8], randn([8])]], (b, [p, q]) => {
    const t = b.mul(b.unary('silu', p), b.add(q, b.full(0.5, 'f32', [])));
    b.output('y', b.unary('tanh', b.binary('max', t, p)));
  });
  const lin = (name: string, build: (b: GraphBuilder, x: ReturnType<GraphBuilder['input']>) => void, extra: [string, DType, number[], number[]][] = []): OpCase =>
    opCase(name, [['x', 'f32', [7, 12], randn([7, 12])], ...extra.map(([n, dt, sh, data]): In => [n, dt, sh, data])], (b, [x, ...rest]) => {
      void rest;
      build(b, x as ReturnType<GraphBuilder['input']>);
    }, {
      weights: [['w', 'f32', [10, 12], randn([10, 12], 0.3)], ['norm', 'f32', [12], randn([12]).map((v) => 1 + 0.1 * v)], ['bias', 'f32', [10], randn([10])], ['w2', 'f32', [10, 12], randn([10, 12], 0.3)]],
    });
  const w = (b: GraphBuilder, n: string, sh: number[]): ReturnType<GraphBuilder['input']> => b.weight(n, 'f32', sh);
  return [
    afterPasses(ew, 'fusedElementwise: silu, broadcast, literal, max, tanh', [elementwiseFusionPass]),
    afterPasses(lin('fusedLinear source: rmsnorm prologue + bias + residual', (b, x) => b.output('y', b.add(b.linear(b.rmsnorm(x, w(b, 'norm', [12]), 1e-5), w(b, 'w', [10, 12]), w(b, 'bias', [10])), b.linear(x, w(b, 'w2', [10, 12]))))), 'fusedLinear: RMSNorm prologue, bias and residual epilogues', [elementwiseFusionPass, linearFusionPass]),
    afterPasses(lin('fusedLinear source: gated', (b, x) => b.output('y', b.mul(b.unary('silu', b.linear(x, w(b, 'w', [10, 12]))), b.linear(x, w(b, 'w2', [10, 12]))))), 'fusedLinear: SwiGLU product epilogue', [elementwiseFusionPass, linearFusionPass]),
    afterPasses(lin('fusedLinear source: general epilogue', (b, x) => b.output('y', b.unary('tanh', b.mul(b.linear(x, w(b, 'w', [10, 12])), b.linear(x, w(b, 'w', [10, 12])))))), 'fusedLinear: an epilogue outside the chain form (acc used twice)', [elementwiseFusionPass, linearFusionPass]),
    afterPasses(mixed, 'fusedRoute + stringCombine (route fusion only)', [routeFusionPass]),
    afterPasses(mixed, 'fusedRoute + fusedLinear with the STRing combine', pipeline('full', { bindings: { ...mixed.symbols } })),
    afterPasses(allSkipped, 'fusedLinear STRing combine with k = 0', pipeline('full', { bindings: { ...allSkipped.symbols } })),
  ];
}

function errorCases(): OpCase[] {
  return [
    opCase('embedding rejects an out-of-range token id', [['ids', 'i32', [3], [1, 10, 2]]], (b, [ids]) => b.output('y', b.embedding(b.weight('table', 'f32', [10, 4]), ids, 'embed_tokens')), {
      weights: [['table', 'f32', [10, 4], randn([10, 4])]],
      error: /embed_tokens/,
    }),
    opCase('gatherRows rejects an out-of-range row', [x34, ['idx', 'i32', [2], [0, 3]]], (b, [x, idx]) => b.output('y', b.gatherRows(x, idx, 'pick')), { error: /pick/ }),
    opCase('scatterRows rejects duplicate targets', [x34, ['idx', 'i32', [2], [1, 1]], ['src', 'f32', [2, 4], randn([2, 4])]], (b, [x, idx, src]) => b.output('y', b.scatterRows(x, idx, src, 'merge')), { error: /twice/ }),
    opCase('topk rejects k above the selectable count', [['s', 'f32', [4], [1, 2, 3, 4]], ['m', 'bool', [4], [1, 0, 0, 1]]], (b, [s, m]) => b.output('y', b.topk(s, 3, { mask: m, order: 'index' }, 'select')), { error: /select/ }),
  ];
}

export function conformanceCases(): OpCase[] {
  return [
    ...elementwiseCases(),
    ...shapeCases(),
    ...mathCases(),
    modLayerCase('modRoute: mixed text and vision, capacity floor(N_v/2)', 'ttvvvvvvvvttvvvtt', 0.5, 5),
    modLayerCase('modRoute: capacity 0 skips every vision token', 'tvvvtvv', 0, 6),
    modLayerCase('modRoute: no routable tokens runs dense', 'tttttt', 0, 7),
    modLayerCase('modRoute: all vision, all kept', 'vvvvvv', 1, 8),
    ...fusedCases(),
    ...errorCases(),
  ];
}

export const ALL_OP_KINDS_COVERED = ['input', 'weight', 'full', 'iota', 'embedding', 'linear', 'matmul', 'unary', 'binary', 'compare', 'logical', 'where', 'cast', 'reduce', 'rmsnorm', 'layernorm', 'softmax', 'rope', 'reshape', 'transpose', 'concat', 'slice', 'attention', 'topk', 'gatherRows', 'scatterRows', 'cacheWrite', 'modRoute', 'fusedRoute', 'stringCombine', 'fusedElementwise', 'fusedLinear'];
