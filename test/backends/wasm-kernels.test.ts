/**
 * Kernel-level tests of the Wasm renderer and of the kernel builders: workgroups of several threads with
 * shared memory and barriers, 16-bit rounding,
 * the matmul with every prologue / epilogue option, FMA on and off, threads 1 vs 2 bit-identical.
 */
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { CPU_TILING, matmulGrid, matmulKernel, type MatmulSpec, packB, packedLength, packLinearWeight } from '../../src/kernel/builders/matmul.js';
import { elementwiseGrid, elementwiseKernel } from '../../src/kernel/builders/elementwise.js';
import { attentionGrid, attentionKernel, ropeTableKernel } from '../../src/kernel/builders/attention.js';
import { ropeInvFreq } from '../../src/kernel/builders/reduce.js';
import { interpret } from '../../src/backends/reference/index.js';
import { add, barrier, block, cast, decl, f32, gid, global, iff, lid, load, lt, mul, range, rem, shared, store, v } from '../../src/kernel/dsl.js';
import type { Kernel } from '../../src/kernel/ir.js';
import { buildGraph, makeTensor, MapStore, roundBf16, roundF16 } from '../../src/ir/index.js';
import { Rng } from '../../src/runtime/random.js';

let runner: KernelRunner;
let runnerNoFma: KernelRunner;
let runner2: KernelRunner;
beforeAll(() => {
  runner = new KernelRunner(1);
  runnerNoFma = new KernelRunner(1, false);
  runner2 = new KernelRunner(2);
});
afterAll(async () => {
  await runner.dispose();
  await runnerNoFma.dispose();
  await runner2.dispose();
});

describe('workgroups of several threads', () => {
  /** Tree reduction of 8 values per workgroup in shared memory, with barriers between the levels. */
  const treeSum: Kernel = {
    name: 'tree_sum',
    buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }],
    params: [],
    shared: [{ name: 'buf', elem: 'f32', length: 8 }],
    privates: [],
    threads: 8,
    body: block(
      decl('mine', load(global('x'), add(mul(gid(0), 8), lid(0)))),
      store(shared('buf'), lid(0), v('mine', 'f32')),
      barrier(),
      ...[4, 2, 1].flatMap((stride) => [
        iff(lt(lid(0), stride), store(shared('buf'), lid(0), add(load(shared('buf'), lid(0)), load(shared('buf'), add(lid(0), stride))))),
        barrier(),
      ]),
      // 'mine' was declared before the first barrier: it must survive the phases (spilled per thread).
      store(global('out'), add(mul(gid(0), 8), lid(0)), add(load(shared('buf'), 0), mul(v('mine', 'f32'), f32(0)))),
    ),
  };

  it('splits the body at barriers into per-thread loops and keeps variables across phases', () => {
    const x = Float32Array.from({ length: 24 }, (_, i) => i + 1);
    const out = new Float32Array(24);
    runner.run(treeSum, { x, out }, {}, [3, 1, 1]);
    for (let g = 0; g < 3; g++) {
      let sum = 0;
      for (let i = 0; i < 8; i++) sum += x[g * 8 + i] ?? 0;
      for (let i = 0; i < 8; i++) expect(out[g * 8 + i]).toBe(sum);
    }
  });

  it('runs barriers inside a uniform loop, with a variable crossing them', () => {
    // Round r: every thread reads its right neighbour's slot, waits, then writes its own: a rotation.
    const k: Kernel = {
      name: 'rotate',
      buffers: [{ name: 'out', elem: 'f32', access: 'write' }],
      params: [],
      shared: [{ name: 'acc', elem: 'f32', length: 4 }],
      privates: [],
      threads: 4,
      body: block(
        store(shared('acc'), lid(0), cast(lid(0), 'f32')),
        barrier(),
        range('r', 0, 3, [decl('tmp', load(shared('acc'), rem(add(lid(0), 1), 4))), barrier(), store(shared('acc'), lid(0), add(v('tmp', 'f32'), f32(1))), barrier()]),
        store(global('out'), lid(0), load(shared('acc'), lid(0))),
      ),
    };
    const out = new Float32Array(4);
    runner.run(k, { out }, {}, [1, 1, 1]);
    expect(Array.from(out)).toEqual([0, 1, 2, 3].map((t) => ((t + 3) % 4) + 3));
  });
});

describe('worker pool', () => {
  it('reports a trapping kernel and stays usable', () => {
    const bad: Kernel = {
      name: 'oob',
      buffers: [{ name: 'out', elem: 'f32', access: 'write' }],
      params: [],
      shared: [],
      privates: [],
      threads: 1,
      // Far past the end of the 4 GiB address space: a trap on every thread.
      body: store(global('out'), add(mul(gid(0), 0), 0x3fffffff), f32(1)),
    };
    expect(() => runner2.run(bad, { out: new Float32Array(4) }, {}, [64, 1, 1])).toThrow(/out of bounds/);
    const x = Float32Array.from({ length: 24 }, (_, i) => i);
    const out = new Float32Array(24);
    const copy = elementwiseKernel({ name: 'copy', shape: [24], inputs: [{ buffer: 'in0', elem: 'f32', strides: [1] }], out: 'f32', body: ([a]) => a ?? f32(0) });
    runner2.run(copy, { in0: x, out }, { n: 24 }, elementwiseGrid(24));
    expect(Array.from(out)).toEqual(Array.from(x));
  });
});

describe('16-bit rounding', () => {
  it.each([['round_f16', roundF16], ['round_bf16', roundBf16]] as const)('%s matches the host conversion', (fn, ref) => {
    const rng = new Rng(3);
    const vals = [0, -0, 1, 65504, 65519, 65520, 1e6, -1e6, 6e-8, 3e-8, 2.98e-8, 1e-10, 6.1e-5, 6.09e-5, Number.POSITIVE_INFINITY, Number.NaN, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
    for (let i = 0; i < 2000; i++) vals.push(Math.fround(rng.normal() * 10 ** rng.int(12 - 6)), Math.fround(rng.normal() * 1e-6));
    const x = Float32Array.from(vals);
    const out = new Float32Array(x.length);
    const k = elementwiseKernel({ name: fn, shape: [x.length], inputs: [{ buffer: 'in0', elem: 'f32', strides: [1] }], out: 'f32', body: ([a]) => ({ op: 'unary', type: 'f32', src: [a ?? f32(0)], arg: fn }) });
    runner.run(k, { in0: x, out }, { n: x.length }, elementwiseGrid(x.length));
    x.forEach((val, i) => {
      const want = ref(val);
      if (Number.isNaN(want)) expect(Number.isNaN(out[i])).toBe(true);
      else expect([i, out[i]]).toEqual([i, want]);
    });
  });
});

describe('float32 exp (native polynomial)', () => {
  it.each([['scalar', false], ['f32x4', true]] as const)('%s: within 3 ulp of exp, exact at the edges', (_name, vec) => {
    const vals = [0, -0, 1, -1, 0.5, 88.7, 88.72, 88.73, 100, -87.3, -87.34, -87.4, -200, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (let i = 0; i < 4000; i++) vals.push(Math.fround(-87 + (176 * i) / 4000));
    while (vals.length % 4) vals.push(0);
    const x = Float32Array.from(vals);
    const out = new Float32Array(x.length);
    const body = ([a]: readonly import('../../src/kernel/ir.js').KNode[]): import('../../src/kernel/ir.js').KNode => ({ op: 'unary', type: a?.type ?? 'f32', src: [a ?? f32(0)], arg: 'exp' });
    const k = elementwiseKernel({ name: 'exp', shape: [x.length], inputs: [{ buffer: 'in0', elem: 'f32', strides: [1] }], out: 'f32', body, ...(vec ? { vectorBody: body } : {}) });
    runner.run(k, { in0: x, out }, { n: x.length }, elementwiseGrid(x.length));
    x.forEach((val, i) => {
      const want = Math.fround(Math.exp(val));
      const got = out[i] ?? Number.NaN;
      if (Number.isNaN(want)) expect(Number.isNaN(got)).toBe(true);
      else if (val < -87.33654) expect(got).toBe(0); // float32 subnormal results are flushed to zero
      else if (!Number.isFinite(want)) expect(got).toBe(want);
      else expect(Math.abs(got - want) / want).toBeLessThanOrEqual(3 * 2 ** -23);
    });
  });
});

describe('attention with RoPE applied on the fly', () => {
  it.each([[16, true], [8, false]] as const)('equals rope + attention on the reference (rotaryDim %i, causal %s)', (rotaryDim, causal) => {
    const rng = new Rng(21);
    const [sq, h, hkv, d] = [13, 4, 2, 16];
    const q = Float32Array.from({ length: sq * h * d }, () => rng.normal());
    const k = Float32Array.from({ length: sq * hkv * d }, () => rng.normal());
    const vv = Float32Array.from({ length: sq * hkv * d }, () => rng.normal());
    const pos = Int32Array.from({ length: sq }, (_, i) => 3 * i + (i % 2));
    const g = buildGraph('rope_attention', {}, (b) => {
      const [qi, ki, vi, pi] = [b.input('q', 'f32', [sq, h, d]), b.input('k', 'f32', [sq, hkv, d]), b.input('v', 'f32', [sq, hkv, d]), b.input('pos', 'i32', [sq])];
      b.output('y', b.attention(b.rope(qi, pi, 10000, rotaryDim), b.rope(ki, pi, 10000, rotaryDim), vi, pi, pi, { scale: 0.25, causal }));
    });
    const want = interpret(g, { q: makeTensor('f32', [sq, h, d], q), k: makeTensor('f32', [sq, hkv, d], k), v: makeTensor('f32', [sq, hkv, d], vv), pos: makeTensor('i32', [sq], pos) }, { weights: new MapStore() }).y;
    const half = rotaryDim / 2;
    const cos = new Float32Array(sq * half);
    const sin = new Float32Array(sq * half);
    runner.run(ropeTableKernel(rotaryDim), { pos, invFreq: ropeInvFreq(10000, rotaryDim), cos, sin }, { rows: sq }, [1, 1, 1]);
    const spec = { sq, sk: sq, heads: h, kvHeads: hkv, headDim: d, valueDim: d, scale: 0.25, causal, queryBlock: 4, rope: { rotaryDim } };
    const out = new Float32Array(sq * h * d);
    runner2.run(attentionKernel(spec), { q, k, v: vv, qPos: pos, kPos: pos, qCos: cos, qSin: sin, kCos: cos, kSin: sin, out }, { kvLen: spec.sk }, attentionGrid(spec));
    let worst = 0;
    want?.data.forEach((w, i) => (worst = Math.max(worst, Math.abs((out[i] ?? 0) - w))));
    expect(worst).toBeLessThan(1e-5);
  });
});

// The route kernels are tested in test/kernel/route.test.ts (canonical scores, select + compaction).

describe('matmul kernel', () => {
  const rng = new Rng(5);
  const [m, k, n] = [23, 70, 38];
  const a = Float32Array.from({ length: 30 * k }, () => rng.normal());
  const w = Float32Array.from({ length: n * k }, () => rng.normal() * 0.2);
  const bias = Float32Array.from({ length: n }, () => rng.normal() * 0.1);
  const norm = Float32Array.from({ length: k }, () => 1 + 0.1 * rng.normal());
  const aRows = Int32Array.from({ length: m }, (_, i) => (i * 7) % 30);
  const cRows = Int32Array.from({ length: m }, (_, i) => m - 1 - i);
  const rowW = Float32Array.from({ length: m }, () => 0.8 + 0.4 * rng.next());
  const resid = Float32Array.from({ length: m * n }, () => rng.normal());
  const tilings = [
    { mr: 4, nrVec: 3, kc: 32, mc: 8, panels: 2, unroll: 2 },
    // Vector loads of A with lane splats, K unrolled by 4 (K = 70: remainder steps in every block).
    { mr: 6, nrVec: 2, kc: 32, mc: 12, panels: 2, unroll: 4, aVector: true },
  ];
  const tiling = tilings[0] ?? CPU_TILING;
  type Opts = { rms?: boolean; gather?: boolean; scatter?: boolean; epi?: boolean };

  /** Plain float64 loops: C[c(r)] = epi(rms(A[a(r)]) @ W^T). */
  function expected(o: Opts): Float32Array {
    const out = new Float32Array(m * n);
    for (let r = 0; r < m; r++) {
      const ar = o.gather ? (aRows[r] ?? 0) : r;
      const cr = o.scatter ? (cRows[r] ?? 0) : r;
      let inv = 1;
      if (o.rms) {
        let ss = 0;
        for (let p = 0; p < k; p++) ss += (a[ar * k + p] ?? 0) ** 2;
        inv = 1 / Math.sqrt(ss / k + 1e-5);
      }
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += (a[ar * k + p] ?? 0) * inv * (o.rms ? (norm[p] ?? 0) : 1) * (w[j * k + p] ?? 0);
        if (o.epi) acc = Math.exp(acc + (bias[j] ?? 0)) * (rowW[cr] ?? 0) + (resid[cr * n + j] ?? 0);
        out[cr * n + j] = acc;
      }
    }
    return out;
  }

  const cases: [string, Opts][] = [
    ['plain', {}],
    ['RMSNorm prologue', { rms: true }],
    ['bias, exp, row scale and residual epilogue', { epi: true }],
    ['gathered A rows and scattered C rows (the STRing combine shape)', { gather: true, scatter: true, epi: true }],
  ];
  it.each(cases.flatMap(([name, o]) => tilings.map((t, i) => [`${name} (tiling ${i})`, o, t] as const)))('%s, with FMA and with mul+add, on 1 and 2 threads', (_name, o, tiling) => {
    const spec: MatmulSpec = {
      name: 'mm',
      k,
      n,
      tiling,
      ...(o.rms ? { rmsnormEps: 1e-5 } : {}),
      ...(o.gather ? { gatherA: true } : {}),
      ...(o.scatter ? { scatterC: true } : {}),
      epilogue: o.epi
        ? [
            { kind: 'bias', buffer: 'bias' },
            { kind: 'unary', fn: 'exp' },
            { kind: 'rowScale', buffer: 'rowW', mapped: o.scatter === true },
            { kind: 'binary', fn: 'add', buffer: 'resid', mapped: o.scatter === true, operandFirst: false },
          ]
        : [],
    };
    const layout = { k, n, nr: 4 * tiling.nrVec };
    const b = packB(layout, (kk, nn) => w[nn * k + kk] ?? 0, o.rms ? norm : undefined, new Float32Array(packedLength(layout)));
    const kern = matmulKernel(spec);
    const want = expected(o);
    for (const r of [runner, runnerNoFma, runner2]) {
      const c = new Float32Array(m * n);
      const bufs: Record<string, Float32Array | Int32Array> = { a, b, c, bias, rowW, resid, aRows, cRows };
      r.run(kern, Object.fromEntries(kern.buffers.map((x) => [x.name, bufs[x.name] ?? new Float32Array(1)])), { M: m }, matmulGrid(spec, m));
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((c[i] ?? 0) - (want[i] ?? 0)) / (1 + Math.abs(want[i] ?? 0)));
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('packLinearWeight equals packB on the Linear layout', () => {
    const layout = { k, n, nr: 12 };
    expect(Array.from(packLinearWeight(layout, w))).toEqual(Array.from(packB(layout, (kk, nn) => w[nn * k + kk] ?? 0)));
  });

  it('interleaves 16-bit pairs by 8-column groups, the same from both packers', () => {
    // One K row of 16 columns whose values are their column numbers: each group of 8 reads c0 c4 c1 c5 ...
    const row = Float32Array.from({ length: 16 }, (_, c) => c);
    expect(Array.from(packLinearWeight({ k: 1, n: 16, nr: 16, pairs: true }, row))).toEqual([0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15]);
    const layout = { k, n, nr: 8, pairs: true };
    expect(Array.from(packLinearWeight(layout, w))).toEqual(Array.from(packB(layout, (kk, nn) => w[nn * k + kk] ?? 0)));
    expect(() => packLinearWeight({ k, n, nr: 12, pairs: true }, w)).toThrow('multiple of 8 columns, not 12');
  });

  it('is bit-identical on 1 and 2 threads', () => {
    const spec: MatmulSpec = { name: 'mm', k, n, tiling, epilogue: [] };
    const b = packB({ k, n, nr: 12 }, (kk, nn) => w[nn * k + kk] ?? 0);
    const c1 = new Float32Array(m * n);
    const c2 = new Float32Array(m * n);
    runner.run(matmulKernel(spec), { a, b, c: c1 }, { M: m }, matmulGrid(spec, m));
    runner2.run(matmulKernel(spec), { a, b, c: c2 }, { M: m }, matmulGrid(spec, m));
    expect(Array.from(c2)).toEqual(Array.from(c1));
  });
});
