/**
 * The kernel cases of the device suite: the numerics policy (docs/kernel-ir.md) with expected values from host
 * formulas, storage types, and kernels of the builders with expected values from the Wasm KernelRunner.
 * Renderers add their builder families here, so every device runs every kernel.
 */
import { bf16BitsToNumber, f16BitsToNumber, floatToInt, numberToBf16Bits, numberToF16Bits } from '../../src/ir/index.js';
import { attentionGrid, attentionKernel } from '../../src/kernel/builders/attention.js';
import { elementwiseGrid, elementwiseKernel } from '../../src/kernel/builders/elementwise.js';
import { matmulGrid, matmulKernel, packedLength, packLinearWeight } from '../../src/kernel/builders/matmul.js';
import { rmsnormKernel, rowGrid, softmaxKernel } from '../../src/kernel/builders/reduce.js';
import { type ElemType, k, type KBinaryFn, type Kernel, type KNode, type KUnaryFn, type ScalarType } from '../../src/kernel/index.js';
import { gpuGemvGrid, gpuGemvKernel, type GpuGemvSpec } from '../../src/kernel/builders/gpu/gemv.js';
import { gpuMatmulGrid, gpuMatmulKernel, type GpuMatmulSpec } from '../../src/kernel/builders/gpu/matmul.js';
import type { MatmulEpilogue } from '../../src/kernel/builders/matmul.js';
import { Rng } from '../../src/runtime/random.js';
import type { KernelCase } from './device-harness.js';
import { gpuBuilderCases } from './gpu-kernel-cases.js';

const rng = new Rng(4242);
const randn = (n: number, s = 1): Float32Array => Float32Array.from({ length: n }, () => s * rng.normal());

/** out[i] = f(a[i], b[i]) for i < n, one workgroup. */
function binaryKernel(name: string, t: ScalarType, outT: ScalarType, n: number, f: (a: KNode, b: KNode) => KNode): Kernel {
  const elem = (x: ScalarType): ElemType => (x === 'f32' ? 'f32' : x === 'u32' ? 'u32' : 'i32');
  return {
    name,
    buffers: [{ name: 'a', elem: elem(t), access: 'read' }, { name: 'b', elem: elem(t), access: 'read' }, { name: 'out', elem: elem(outT), access: 'write' }],
    params: [],
    shared: [],
    privates: [],
    threads: 1,
    body: k.range('i', 0, n, k.store(k.global('out'), k.v('i'), f(k.load(k.global('a'), k.v('i'), t), k.load(k.global('b'), k.v('i'), t)))),
  };
}

function intCases(): KernelCase[] {
  const a = Int32Array.from([7, -7, 7, -7, 5, 0, -2147483648, -2147483648, 123, -9, 1, -1]);
  const b = Int32Array.from([2, 2, -2, -2, 0, 0, -1, 1, 7, 4, 33, 31]);
  const div = (x: number, y: number): number => (y === 0 ? 0 : x === -2147483648 && y === -1 ? x : Math.trunc(x / y));
  const rem = (x: number, y: number): number => (y === 0 || (x === -2147483648 && y === -1) ? 0 : x % y);
  const out: KernelCase[] = [];
  const fns: [KBinaryFn, (x: number, y: number) => number][] = [
    ['div', div],
    ['rem', rem],
    ['shl', (x, y) => x << (y & 31)],
    ['shr', (x, y) => x >> (y & 31)],
    ['min', Math.min],
    ['max', Math.max],
  ];
  for (const [fn, f] of fns)
    out.push({
      name: `numerics: i32 ${fn}`,
      kernel: binaryKernel(`i32_${fn}`, 'i32', 'i32', a.length, (x, y) => k.binary(fn, x, y)),
      buffers: { a, b, out: new Int32Array(a.length) },
      params: {},
      grid: [1, 1, 1],
      compare: 'exact',
      expect: { out: Int32Array.from(a, (x, i) => f(x, b[i] ?? 0)) },
    });
  const ua = Uint32Array.from([7, 4294967295, 0, 100, 2147483648]);
  const ub = Uint32Array.from([2, 2, 0, 0, 3]);
  out.push({
    name: 'numerics: u32 div and shr',
    kernel: binaryKernel('u32_div_shr', 'u32', 'u32', ua.length, (x, y) => k.add(k.div(x, y), k.binary('shr', x, y))),
    buffers: { a: ua, b: ub, out: new Uint32Array(ua.length) },
    params: {},
    grid: [1, 1, 1],
    compare: 'exact',
    expect: { out: Uint32Array.from(ua, (x, i) => ((ub[i] === 0 ? 0 : Math.floor(x / (ub[i] ?? 1))) + (x >>> ((ub[i] ?? 0) & 31))) >>> 0) },
  });
  // i32x4 products by constant splats wrap like i32 (the Wasm renderer turns a power of two into a shift).
  const va = Int32Array.from([1, -1, 0x7fff, -0x8000, 0x12345678, -0x12345678, 2147483647, -2147483648]);
  for (const c of [1 << 16, 1 << 30, 3, -4])
    out.push({
      name: `numerics: i32x4 times splat ${c} wraps`,
      kernel: {
        name: `i32x4_mul_${c < 0 ? 'm' : ''}${Math.abs(c)}`,
        buffers: [{ name: 'a', elem: 'i32', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }],
        params: [],
        shared: [],
        privates: [],
        threads: 1,
        body: k.range('i', 0, va.length, k.store(k.global('out'), k.v('i'), k.mul(k.load(k.global('a'), k.v('i'), 'i32x4'), k.splat(k.i32(c), 'i32x4'))), 4),
      },
      buffers: { a: va, out: new Int32Array(va.length) },
      params: {},
      grid: [1, 1, 1],
      compare: 'exact',
      expect: { out: Int32Array.from(va, (x) => Math.imul(x, c)) },
    });
  return out;
}

function floatCases(): KernelCase[] {
  const a = Float32Array.from([NaN, 1, NaN, -0, 2.5, -1.5, Infinity, -Infinity, 3e9, -3e9, 16777217, 0.1]);
  const b = Float32Array.from([1, NaN, NaN, 0, -2.5, 1.5, 1, 1, 1, 1, 1, 0.2]);
  const nanMinMax = (f: (x: number, y: number) => number) => (x: number, y: number): number => (Number.isNaN(x) || Number.isNaN(y) ? NaN : f(x, y));
  const cases: KernelCase[] = [];
  for (const [fn, f] of [['min', nanMinMax(Math.min)], ['max', nanMinMax(Math.max)]] as const)
    cases.push({
      name: `numerics: f32 ${fn} propagates NaN`,
      kernel: binaryKernel(`f32_${fn}`, 'f32', 'f32', a.length, (x, y) => k.binary(fn, x, y)),
      buffers: { a, b, out: new Float32Array(a.length) },
      params: {},
      grid: [1, 1, 1],
      // The sign of a zero min/max is unspecified: compare with a tolerance of 0 that treats -0 == +0.
      compare: { abs: 0, rel: 0 },
      expect: { out: Float32Array.from(a, (x, i) => f(x, b[i] ?? 0)) },
    });
  cases.push({
    name: 'numerics: comparisons with NaN are false except ne',
    kernel: binaryKernel('f32_cmp', 'f32', 'i32', a.length, (x, y) =>
      k.add(k.add(k.mul(k.cast(k.cmp('lt', x, y), 'i32'), 1), k.mul(k.cast(k.cmp('eq', x, y), 'i32'), 2)), k.mul(k.cast(k.cmp('ne', x, y), 'i32'), 4))),
    buffers: { a, b, out: new Int32Array(a.length) },
    params: {},
    grid: [1, 1, 1],
    compare: 'exact',
    expect: { out: Int32Array.from(a, (x, i) => (x < (b[i] ?? 0) ? 1 : 0) + (x === b[i] ? 2 : 0) + (x !== b[i] ? 4 : 0)) },
  });
  const castKernel = (to: 'i32' | 'u32'): Kernel => ({
    name: `cast_f32_${to}`,
    buffers: [{ name: 'a', elem: 'f32', access: 'read' }, { name: 'out', elem: to, access: 'write' }],
    params: [],
    shared: [],
    privates: [],
    threads: 1,
    body: k.range('i', 0, a.length, k.store(k.global('out'), k.v('i'), k.cast(k.load(k.global('a'), k.v('i')), to))),
  });
  cases.push(
    {
      name: 'numerics: f32 -> i32 truncates and saturates, NaN -> 0',
      kernel: castKernel('i32'),
      buffers: { a, out: new Int32Array(a.length) },
      params: {},
      grid: [1, 1, 1],
      compare: 'exact',
      expect: { out: Int32Array.from(a, (x) => floatToInt(x, false)) },
    },
    {
      name: 'numerics: f32 -> u32 truncates and saturates, NaN -> 0',
      kernel: castKernel('u32'),
      buffers: { a, out: new Uint32Array(a.length) },
      params: {},
      grid: [1, 1, 1],
      compare: 'exact',
      expect: { out: Uint32Array.from(a, (x) => floatToInt(x, true)) },
    },
  );
  const ints = Int32Array.from([16777217, -16777219, 2147483647, 3, -5]);
  cases.push({
    name: 'numerics: i32 -> f32 rounds to nearest even; bitcast round-trips',
    kernel: {
      name: 'i32_f32_bitcast',
      buffers: [{ name: 'a', elem: 'i32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }, { name: 'bits', elem: 'i32', access: 'write' }],
      params: [],
      shared: [],
      privates: [],
      threads: 1,
      body: k.range('i', 0, ints.length, [
        k.decl('f', k.cast(k.load(k.global('a'), k.v('i'), 'i32'), 'f32')),
        k.store(k.global('out'), k.v('i'), k.v('f', 'f32')),
        k.store(k.global('bits'), k.v('i'), k.bitcast(k.v('f', 'f32'), 'i32')),
      ]),
    },
    buffers: { a: ints, out: new Float32Array(ints.length), bits: new Int32Array(ints.length) },
    params: {},
    grid: [1, 1, 1],
    compare: 'exact',
    expect: { out: Float32Array.from(ints), bits: new Int32Array(Float32Array.from(ints).buffer) },
  });
  return cases;
}

function storageCases(): KernelCase[] {
  const out: KernelCase[] = [];
  const vals = Float32Array.from([0, 1, -1, 65504, 65520, 70000, 2 ** -14, 2 ** -24, 3 * 2 ** -26, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 + 3 * 2 ** -8, Infinity, -0.1, 3.14159, 1e-3]);
  for (const elem of ['f16', 'bf16'] as const) {
    const toBits = elem === 'f16' ? numberToF16Bits : numberToBf16Bits;
    const fromBits = elem === 'f16' ? f16BitsToNumber : bf16BitsToNumber;
    const copyKernel = (from: ElemType, to: ElemType, vector: boolean): Kernel => ({
      name: `copy_${from}_${to}_${vector ? 'v' : 's'}`,
      buffers: [{ name: 'x', elem: from, access: 'read' }, { name: 'out', elem: to, access: 'write' }],
      params: [],
      shared: [],
      privates: [],
      threads: 1,
      body: k.range('i', 0, vals.length, k.store(k.global('out'), k.v('i'), k.load(k.global('x'), k.v('i'), vector ? 'f32x4' : 'f32')), vector ? 4 : 1),
    });
    for (const vector of [false, true]) {
      out.push({
        name: `storage: f32 -> ${elem} store rounds to nearest even (${vector ? 'f32x4' : 'scalar'})`,
        kernel: copyKernel('f32', elem, vector),
        buffers: { x: vals, out: new Uint16Array(vals.length) },
        params: {},
        grid: [1, 1, 1],
        compare: 'exact',
        expect: { out: Uint16Array.from(vals, toBits) },
      });
      const bits = Uint16Array.from(vals, toBits);
      out.push({
        name: `storage: ${elem} -> f32 load widens exactly (${vector ? 'f32x4' : 'scalar'})`,
        kernel: copyKernel(elem, 'f32', vector),
        buffers: { x: bits, out: new Float32Array(vals.length) },
        params: {},
        grid: [1, 1, 1],
        compare: 'exact',
        expect: { out: Float32Array.from(bits, fromBits) },
      });
    }
  }
  return out;
}

function builderCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  const [m, kk, n] = [13, 40, 24];
  const tiling = { mr: 4, nrVec: 2, kc: 16, mc: 8, panels: 2, unroll: 2 };
  const w = randn(n * kk, 0.2);
  const layout = { k: kk, n, nr: 8 };
  const packed = packLinearWeight(layout, w, new Float32Array(packedLength(layout)));
  const spec = { name: 'mm', k: kk, n, tiling, epilogue: [{ kind: 'bias' as const, buffer: 'bias' }, { kind: 'unary' as const, fn: 'neg' as const }] };
  cases.push({
    name: 'builder: packed matmul with bias and unary epilogue',
    kernel: matmulKernel(spec),
    buffers: { a: randn(m * kk), b: packed, c: new Float32Array(m * n), bias: randn(n, 0.1) },
    params: { M: m },
    grid: matmulGrid(spec, m),
    compare: { abs: 1e-5, rel: 1e-5 },
  });
  const bf = Uint16Array.from(packed, numberToBf16Bits);
  const spec16 = { ...spec, name: 'mm_bf16', bElem: 'bf16' as const };
  cases.push({
    name: 'builder: packed matmul with bf16 weights',
    kernel: matmulKernel(spec16),
    buffers: { a: randn(m * kk), b: bf, c: new Float32Array(m * n), bias: randn(n, 0.1) },
    params: { M: m },
    grid: matmulGrid(spec16, m),
    compare: { abs: 1e-5, rel: 1e-5 },
  });
  // f16 weights with K blocked (kc 16 < 40): each block is widened once into workgroup memory; expected values from
  // the host (the weights' f16 values, f64 sums).
  const f16Bits = Uint16Array.from(packed, numberToF16Bits);
  const a16 = randn(m * kk);
  const w16 = Float32Array.from(w, (x) => f16BitsToNumber(numberToF16Bits(x)));
  const spec16h = { name: 'mm_f16', k: kk, n, tiling, epilogue: [], bElem: 'f16' as const };
  cases.push({
    name: 'builder: packed matmul with f16 weights, K blocks widened in workgroup memory',
    kernel: matmulKernel(spec16h),
    buffers: { a: a16, b: f16Bits, c: new Float32Array(m * n) },
    params: { M: m },
    grid: matmulGrid(spec16h, m),
    compare: { abs: 1e-5, rel: 1e-5 },
    expect: {
      c: Float32Array.from({ length: m * n }, (_, i) => {
        const [r, col] = [Math.floor(i / n), i % n];
        let sum = 0;
        for (let j = 0; j < kk; j++) sum += (a16[r * kk + j] ?? 0) * (w16[col * kk + j] ?? 0);
        return sum;
      }),
    },
  });
  // The same bf16 values interleaved in pairs, bound as u32 words (two values each).
  const pairBits = Uint16Array.from(packLinearWeight({ ...layout, pairs: true }, w, new Float32Array(packedLength(layout))), numberToBf16Bits);
  const specPairs = { ...spec16, name: 'mm_bf16_pairs', bPairs: true };
  cases.push({
    name: 'builder: packed matmul with bf16 weights in interleaved pairs',
    kernel: matmulKernel(specPairs),
    buffers: { a: randn(m * kk), b: new Uint32Array(pairBits.buffer), c: new Float32Array(m * n), bias: randn(n, 0.1) },
    params: { M: m },
    grid: matmulGrid(specPairs, m),
    compare: { abs: 1e-5, rel: 1e-5 },
  });
  const rows = 5;
  const d = 24;
  cases.push({
    name: 'builder: rmsnorm',
    kernel: rmsnormKernel(d, 1e-5),
    buffers: { x: randn(rows * d), w: randn(d), out: new Float32Array(rows * d) },
    params: { rows },
    grid: rowGrid(rows),
    compare: { abs: 1e-6, rel: 1e-5 },
  });
  cases.push({
    name: 'builder: softmax over a strided axis',
    kernel: softmaxKernel(6, 3),
    buffers: { x: randn(2 * 6 * 3, 3), out: new Float32Array(36) },
    params: { rows: 6 },
    grid: rowGrid(6),
    compare: { abs: 1e-6, rel: 1e-5 },
  });
  const att = { sq: 5, sk: 9, heads: 4, kvHeads: 2, headDim: 8, valueDim: 8, scale: 0.35, causal: true, queryBlock: 2 };
  cases.push({
    name: 'builder: causal attention over gathered positions (GQA)',
    kernel: attentionKernel(att),
    buffers: {
      q: randn(5 * 4 * 8), k: randn(9 * 2 * 8), v: randn(9 * 2 * 8),
      qPos: Int32Array.from([2, 4, 6, 7, 9]), kPos: Int32Array.from([0, 1, 2, 4, 5, 6, 7, 8, 9]), out: new Float32Array(5 * 4 * 8),
    },
    params: { kvLen: 9 },
    grid: attentionGrid(att),
    compare: { abs: 1e-5, rel: 1e-5 },
  });
  const ew = elementwiseKernel({
    name: 'ew_silu_mul', shape: [3, 10], out: 'f32',
    inputs: [{ buffer: 'in0', elem: 'f32', strides: [10, 1] }, { buffer: 'in1', elem: 'f32', strides: [0, 1] }],
    body: ([a, b]) => k.mul(k.div(a as KNode, k.add(k.f32(1), k.unary('exp', k.unary('neg', a as KNode)))), b as KNode),
  });
  cases.push({
    name: 'builder: broadcast elementwise silu(a) * b',
    kernel: ew,
    buffers: { in0: randn(30), in1: randn(10), out: new Float32Array(30) },
    params: { n: 30 },
    grid: elementwiseGrid(30),
    compare: { abs: 1e-6, rel: 1e-5 },
  });
  // The GPU-shaped builders: multi-thread workgroups, barriers, shared and private arrays.
  cases.push(...gpuBuilderCases());
  return [...cases, ...gpuLinearCases()];
}

/** W [n, k] in a storage type: the host array the kernel binds and the f32 values it holds. */
function weightIn(elem: 'f32' | 'f16' | 'bf16', w: Float32Array): { readonly bits: Float32Array | Uint16Array; readonly values: Float32Array } {
  if (elem === 'f32') return { bits: w, values: w };
  const bits = Uint16Array.from(w, elem === 'f16' ? numberToF16Bits : numberToBf16Bits);
  return { bits, values: Float32Array.from(bits, elem === 'f16' ? f16BitsToNumber : bf16BitsToNumber) };
}

/**
 * The GPU matmul ('gpu-tiled', register and shared-memory tiles) and GEMV ('gpu') schedules: the plain case
 * against a host formula (C = A @ W^T + bias), the others (gathered A rows, scattered C rows, output windows,
 * mapped row scales, in-place residuals, K not a multiple of 4, 16-bit weights) against the Wasm KernelRunner.
 */
function gpuLinearCases(): KernelCase[] {
  const cases: KernelCase[] = [];
  const tol = { abs: 2e-5, rel: 2e-5 };
  const register = { kind: 'gpu-tiled', tileM: 8, tileN: 8, tileK: 8, threads: 4, sharedTiles: false } as const;
  const sharedTiles = { kind: 'gpu-tiled', tileM: 8, tileN: 16, tileK: 8, threads: 16, sharedTiles: true } as const;
  // K split over 4 threads per column (tree reduction), and whole columns per thread (no reduction).
  const gemv = { kind: 'gpu', maxRows: 2, threads: 8, colsPerGroup: 2 } as const;
  const gemvWhole = { kind: 'gpu', maxRows: 3, threads: 4, colsPerGroup: 8 } as const;
  {
    const [m, kk, n] = [13, 40, 21];
    const a = randn(m * kk);
    const w = randn(n * kk, 0.2);
    const bias = randn(n, 0.1);
    const want = new Float32Array(m * n);
    for (let r = 0; r < m; r++)
      for (let c = 0; c < n; c++) {
        let acc = 0;
        for (let i = 0; i < kk; i++) acc += (a[r * kk + i] ?? 0) * (w[c * kk + i] ?? 0);
        want[r * n + c] = acc + (bias[c] ?? 0);
      }
    const epilogue: MatmulEpilogue[] = [{ kind: 'bias', buffer: 'bias' }];
    for (const [label, schedule] of [['register tiles', register], ['shared tiles', sharedTiles]] as const) {
      const spec: GpuMatmulSpec = { name: `gmm_${label.split(' ')[0]}`, k: kk, n, wElem: 'f32', schedule, epilogue };
      cases.push({
        name: `builder: gpu matmul (${label}) C = A @ W^T + bias`,
        kernel: gpuMatmulKernel(spec),
        buffers: { a, w, c: new Float32Array(m * n), bias },
        params: { M: m },
        grid: gpuMatmulGrid(spec, m),
        compare: { abs: 1e-5, rel: 1e-5 },
        expect: { c: want },
      });
    }
    for (const [label, schedule, rows] of [['K split', gemv, undefined], ['whole columns, 1 row per group', gemvWhole, 1]] as const) {
      const gspec: GpuGemvSpec = { name: `ggemv_${rows ?? 'r'}`, k: kk, n, wElem: 'f32', schedule, epilogue, ...(rows !== undefined ? { rows } : {}) };
      cases.push({
        name: `builder: gpu gemv (${label}) C = A @ W^T + bias`,
        kernel: gpuGemvKernel(gspec),
        buffers: { a, w, c: new Float32Array(m * n), bias },
        params: { M: m },
        grid: gpuGemvGrid(gspec, m),
        compare: { abs: 1e-5, rel: 1e-5 },
        expect: { c: want },
      });
    }
  }
  // Gathered rows, scattered into a wider output window, with a mapped row scale, an activation and a residual.
  const [m, kk, n, rowsIn, rowsOut, ldc, cCol0] = [5, 37, 10, 9, 11, 16, 3];
  const aRows = Int32Array.from([8, 1, 4, 0, 6]);
  const cRows = Int32Array.from([10, 2, 7, 0, 5]);
  const epilogue: MatmulEpilogue[] = [
    { kind: 'bias', buffer: 'bias', elem: 'bf16' },
    { kind: 'unary', fn: 'tanh' },
    { kind: 'rowScale', buffer: 'scale', mapped: true },
    { kind: 'binary', fn: 'add', buffer: 'c', mapped: true, operandFirst: true },
  ];
  for (const elem of ['f32', 'f16', 'bf16'] as const) {
    const w = weightIn(elem, randn(n * kk, 0.3)).bits;
    const bias = Uint16Array.from(randn(n, 0.1), numberToBf16Bits);
    const bufs = { a: randn(rowsIn * kk), w, c: randn(rowsOut * ldc), aRows, cRows, bias, scale: randn(rowsOut) };
    const base = { k: kk, n, wElem: elem, gatherA: true, scatterC: true, ldc, cCol0, epilogue };
    for (const [label, schedule] of [['register tiles', register], ['shared tiles', sharedTiles]] as const) {
      const spec: GpuMatmulSpec = { ...base, name: `gmm_${elem}_${label.split(' ')[0]}`, schedule };
      cases.push({
        name: `builder: gpu matmul (${label}) ${elem} weights, gather, scatter, window, residual`,
        kernel: gpuMatmulKernel(spec),
        buffers: bufs,
        params: { M: m },
        grid: gpuMatmulGrid(spec, m),
        compare: tol,
      });
    }
    for (const [label, schedule] of [['K split', gemv], ['whole columns', gemvWhole]] as const) {
      const gspec: GpuGemvSpec = { ...base, name: `ggemv_${elem}_${label.split(' ')[0]}`, schedule };
      cases.push({
        name: `builder: gpu gemv (${label}) ${elem} weights, gather, scatter, window, residual`,
        kernel: gpuGemvKernel(gspec),
        buffers: bufs,
        params: { M: m },
        grid: gpuGemvGrid(gspec, m),
        compare: tol,
      });
    }
  }
  return cases;
}

/**
 * Transcendental functions within the policy's tolerance (docs/kernel-ir.md: not bit-exact, within the
 * conformance tolerances) over wide ranges, against the host's float64 functions rounded to f32: GPU builtins
 * may be far less accurate (WGSL allows sin / cos an absolute error of 2^-11, and only on [-pi, pi]).
 */
function transcendentalCases(): KernelCase[] {
  const specials = [0, -0, 1e-8, -1e-8, 1e-3, 0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  const wide = (lo: number, hi: number, n: number): Float32Array => Float32Array.from([...specials, ...Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1))]);
  const fns: readonly [KUnaryFn, (x: number) => number, Float32Array][] = [
    ['sin', Math.sin, wide(-3000, 3000, 301)],
    ['cos', Math.cos, wide(-3000, 3000, 301)],
    ['exp', Math.exp, wide(-87, 88, 176)],
    ['log', Math.log, Float32Array.from([...specials, 1e-30, 1e-10, 0.1, 1, 1.5, 2, 10, 1e10, 3e38, -1])],
    ['tanh', Math.tanh, wide(-20, 20, 201)],
    ['erf', erfHost, wide(-6, 6, 121)],
    ['sqrt', Math.sqrt, Float32Array.from([...specials, -1, 1e-30, 2, 1e30, 3e38])],
  ];
  return fns.map(([fn, f, x]) => ({
    name: `numerics: ${fn} within 2e-6 absolute or 1e-5 relative`,
    kernel: {
      name: `f32_${fn}`,
      buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }],
      params: [],
      shared: [],
      privates: [],
      threads: 1,
      body: k.range('i', 0, x.length, k.store(k.global('out'), k.v('i'), k.unary(fn, k.load(k.global('x'), k.v('i'))))),
    },
    buffers: { x, out: new Float32Array(x.length) },
    params: {},
    grid: [1, 1, 1],
    compare: { abs: 2e-6, rel: 1e-5 },
    expect: { out: Float32Array.from(x, f) },
  }));
}

/** erf in float64 (Abramowitz & Stegun 7.1.26 is too coarse as a reference): series below 2.5, continued fraction above. */
function erfHost(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const a = Math.abs(x);
  if (a < 2.5) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 80; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let cf = 0;
  for (let n = 60; n >= 1; n--) cf = n / 2 / (a + cf);
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + cf);
  return Math.sign(x) * (1 - erfc);
}

/** Every case of the device suite. */
export function kernelCases(): KernelCase[] {
  return [...intCases(), ...floatCases(), ...transcendentalCases(), ...storageCases(), ...builderCases()];
}
