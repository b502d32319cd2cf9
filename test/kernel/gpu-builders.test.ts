/**
 * The GPU-shaped kernel builders (src/kernel/builders/gpu) on the Wasm renderer, which runs a multi-thread
 * workgroup as loops split at barriers: each compared with its CPU builder (or a host formula) over ragged
 * sizes, GQA, masked rows, NaN inputs, f16 / bf16 weights and kvLen < Sk.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { numberToF16Bits } from '../../src/ir/index.js';
import { elementwisePerInvocation } from '../../src/kernel/builders/gpu/elementwise.js';
import { flashAttentionKernel } from '../../src/kernel/builders/gpu/attention.js';
import { gpuBatchedMatmulKernel, gpuCopy2dKernel, gpuElementwiseKernel, gpuFillKernel, gpuRowCopyKernel } from '../../src/kernel/builders/gpu/elementwise.js';
import { gpuInvRmsKernel, gpuLayernormKernel, gpuReduceKernel, gpuRmsnormKernel, gpuRopeKernel, gpuSoftmaxKernel } from '../../src/kernel/builders/gpu/rows.js';
import {
  attentionKernel, batchedMatmulKernel, copy2dKernel, elementwiseKernel, fillKernel, invRmsKernel, k, type Kernel, type KNode, layernormKernel, reduceKernel,
  rmsnormKernel, ropeKernel, rowCopyKernel, softmaxKernel, type Target, targetProblems,
} from '../../src/kernel/index.js';
import { type Comparison, mismatch } from './gpu-compare.js';
import { compareAttention } from './gpu-attention-families.js';
import { compareBatchedMatmul, compareCopy2d, compareElementwise, compareFill, compareRowCopy } from './gpu-elementwise-families.js';
import { compareLayernorm, compareReduce, compareRmsnorm, compareRope, compareSoftmax } from './gpu-row-families.js';

const runner = new KernelRunner(1);
afterAll(() => runner.dispose());

const expectAll = (cs: readonly Comparison[]): void => {
  for (const c of cs) expect(mismatch(c)).toBe('ok');
};

describe('GPU builders: interface and constraints', () => {
  const wg = { kind: 'workgroup', threads: 64 } as const;
  const th = { kind: 'thread', threads: 64, vector: true } as const;
  const att = { sq: 3, sk: 8, heads: 4, kvHeads: 2, headDim: 8, valueDim: 8, scale: 0.3, causal: true };
  const ew = { name: 'ew', shape: [4, 8], out: 'f32' as const, inputs: [{ buffer: 'a', elem: 'f32' as const, strides: [8, 1] }], body: (xs: readonly KNode[]) => k.unary('exp', xs[0] as KNode) };
  /** [GPU kernel, the CPU kernel it replaces, buffers the GPU one adds, params it adds]. */
  const pairs: [Kernel, Kernel, string[], string[]][] = [
    [flashAttentionKernel(att, { kind: 'flash', queryBlock: 4, keyBlock: 4, threads: 64 }), attentionKernel({ ...att, queryBlock: 2 }), [], []],
    [gpuRmsnormKernel(64, 1e-5, wg, { wElem: 'bf16', gather: true }), rmsnormKernel(64, 1e-5), ['xRows'], []],
    [gpuInvRmsKernel(64, 1e-5, wg), invRmsKernel(64, 1e-5), [], []],
    [gpuLayernormKernel(64, 1e-5, wg), layernormKernel(64, 1e-5), [], []],
    [gpuSoftmaxKernel(10, 3, wg), softmaxKernel(10, 3), [], []],
    [gpuReduceKernel([4, 5], [false, true], 'mean', 'f32', wg), reduceKernel([4, 5], [false, true], 'mean', 'f32'), [], []],
    [gpuRopeKernel(2, 8, 8, wg), ropeKernel(2, 8, 8), [], []],
    [gpuElementwiseKernel(ew, th), elementwiseKernel(ew), [], []],
    [gpuRowCopyKernel({ name: 'g', width: 8, mode: 'gather', srcRows: 4, statusCode: 1 }, th), rowCopyKernel({ name: 'g', width: 8, mode: 'gather', srcRows: 4, statusCode: 1 }), [], []],
    [gpuFillKernel('f', 'f32', 0, th), fillKernel('f', 'f32', 0), [], []],
    [gpuCopy2dKernel('c', 2, 4, 8, 4, 'f32', th), copy2dKernel('c', 2, 4, 8, 4, 'f32'), [], []],
    [gpuBatchedMatmulKernel(3, 5, 4, [5, 1], [4, 1], 2, th), batchedMatmulKernel(3, 5, 4, [5, 1], [4, 1]), [], []],
  ];
  it('each has the buffers (names, access) and params of the CPU builder it replaces', () => {
    for (const [gpu, cpu, extraBuffers, extraParams] of pairs) {
      const bufs = (kk: Kernel, extra: readonly string[] = []): string[] => kk.buffers.filter((b) => !extra.includes(b.name)).map((b) => `${b.name}:${b.access}`);
      expect([gpu.name, bufs(gpu, extraBuffers)]).toEqual([gpu.name, bufs(cpu)]);
      expect([gpu.name, gpu.params.filter((p) => !extraParams.includes(p.name))]).toEqual([gpu.name, cpu.params]);
    }
  });
  it('each runs many threads per workgroup in f32 only, within a WebGPU-like target (no f64, 16 KiB shared)', () => {
    const target: Target = {
      name: 'gpu-like', device: 'test',
      limits: { maxThreadsPerWorkgroup: 256, sharedBytes: 16384, maxBuffersPerKernel: 8, maxGrid: [65535, 65535, 65535], maxBindingBytes: 1 << 27, maxBufferBytes: 1 << 30, memoryBytes: 1 << 30 },
      caps: { f64: false, f64Math: false, f16Storage: true, bf16Storage: true, u8Storage: true, f16Math: false, vectorWidth: 4, subgroups: false, aliasedBindings: false },
      schedules: {
        matmul: { kind: 'gpu-tiled', tileM: 64, tileN: 64, tileK: 8, threads: 64, sharedTiles: false },
        gemv: { kind: 'gpu', maxRows: 4, threads: 64, colsPerGroup: 4 },
        attention: { kind: 'flash', queryBlock: 4, keyBlock: 4, threads: 64 },
        rows: wg,
        elementwise: th,
        route: { kind: 'gpu', threads: 64 },
      },
    };
    for (const [gpu, cpu] of pairs) {
      expect([gpu.name, gpu.threads, targetProblems(gpu, target)]).toEqual([gpu.name, 64, []]);
      // The CPU builders they replace run one thread per workgroup (several of them in f64).
      expect(cpu.threads).toBe(1);
    }
  });
});

describe('GPU row kernels', () => {
  it('RMSNorm and inverse RMS over ragged rows, f32 / f16 / bf16 weights, gathered rows', () => {
    expectAll(compareRmsnorm(runner, { rows: 5, d: 37, threads: 16, wElem: 'f32', gather: false, seed: 1 }));
    expectAll(compareRmsnorm(runner, { rows: 3, d: 70, threads: 32, wElem: 'f16', gather: true, seed: 2 }));
    expectAll(compareRmsnorm(runner, { rows: 4, d: 5, threads: 8, wElem: 'bf16', gather: true, seed: 3 }));
  });
  it('LayerNorm with 16-bit weight and bias, values far from zero', () => {
    expectAll(compareLayernorm(runner, { rows: 4, d: 45, threads: 16, wElem: 'bf16', bElem: 'f16', shift: 0, seed: 4 }));
    expectAll(compareLayernorm(runner, { rows: 2, d: 100, threads: 32, wElem: 'f32', bElem: 'f32', shift: 50, seed: 5 }));
  });
  it('softmax over a contiguous and a strided axis, with NaN and -inf entries', () => {
    expectAll(compareSoftmax(runner, { outer: 3, len: 29, stride: 1, threads: 8, seed: 6 }));
    expectAll(compareSoftmax(runner, { outer: 2, len: 11, stride: 3, threads: 4, nans: [4], negInfs: [0, 9, 15], seed: 7 }));
  });
  it('reductions: sum / mean compensated, max / min propagate NaN, i32', () => {
    for (const fn of ['sum', 'mean', 'max', 'min'] as const) {
      expectAll(compareReduce(runner, { shape: [3, 5, 7], reduced: [false, true, true], fn, elem: 'f32', threads: 8, nans: [40], seed: 8 }));
      expectAll(compareReduce(runner, { shape: [4, 6, 5], reduced: [true, false, true], fn, elem: 'i32', threads: 16, seed: 9 }));
    }
    expectAll(compareReduce(runner, { shape: [2, 1, 300], reduced: [false, true, true], fn: 'sum', elem: 'f32', threads: 64, seed: 10 }));
    expectAll(compareReduce(runner, { shape: [6, 4], reduced: [true, false], fn: 'max', elem: 'f32', threads: 2, nans: [5], seed: 11 }));
  });
  it('compensated sums keep an ulp of accuracy when large terms cancel', () => {
    for (const fn of ['sum', 'mean'] as const) expectAll(compareReduce(runner, { shape: [3, 200], reduced: [false, true], fn, elem: 'f32', threads: 16, cancelling: true, seed: 30 }));
  });
  it('RoPE over (token, head, pair) with pass-through columns', () => {
    expectAll(compareRope(runner, { tokens: 5, heads: 3, d: 12, rotaryDim: 8, threads: 32, maxPos: 4000, seed: 12 }));
    expectAll(compareRope(runner, { tokens: 2, heads: 2, d: 6, rotaryDim: 6, threads: 4, maxPos: 9, seed: 13 }));
  });
});

describe('GPU elementwise kernels and copies', () => {
  const t8 = { kind: 'thread', threads: 8, vector: false } as const;
  const t8v = { kind: 'thread', threads: 8, vector: true } as const;
  const t32v = { kind: 'thread', threads: 32, vector: true } as const;
  const fma3 = (xs: readonly KNode[]): KNode => k.add(k.mul(xs[0] as KNode, xs[1] as KNode), xs[2] as KNode);
  const data = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 3);
  it('flat operands: f32x4 per invocation with a ragged tail, scalars broadcast, aligned offsets', () => {
    const spec = {
      name: 'ew_fma', shape: [3, 13], out: 'f32' as const,
      inputs: [
        { buffer: 'a', elem: 'f32' as const, strides: [13, 1], offset: 4 },
        { buffer: 'b', elem: 'f32' as const, strides: [13, 1] },
        { buffer: 'c', elem: 'f32' as const, strides: [0, 0], offset: 2 },
      ],
      body: fma3,
      vectorBody: fma3,
    };
    expect([elementwisePerInvocation(spec, t8), elementwisePerInvocation(spec, t8v)]).toEqual([1, 4]);
    for (const schedule of [t8, t8v, t32v]) expectAll(compareElementwise(runner, { spec, inputs: { a: data(43, 1), b: data(39, 2), c: data(3, 3) }, schedule }));
  });
  it('unaligned offsets, 16-bit inputs and rounding stores take the scalar path', () => {
    const silu = (xs: readonly KNode[]): KNode => k.div(xs[0] as KNode, k.add(k.unary('exp', k.unary('neg', xs[0] as KNode)), 1));
    const unaligned = { name: 'ew_silu', shape: [29], out: 'f32' as const, inputs: [{ buffer: 'a', elem: 'f32' as const, strides: [1], offset: 3 }], body: silu, vectorBody: silu };
    expect(elementwisePerInvocation(unaligned, t8v)).toBe(1);
    expectAll(compareElementwise(runner, { spec: unaligned, inputs: { a: data(32, 4) }, schedule: t8v }));
    const half = {
      name: 'ew_h', shape: [2, 9], out: 'bf16' as const, round: 'round_bf16' as const,
      inputs: [{ buffer: 'a', elem: 'f16' as const, strides: [9, 1] }, { buffer: 'b', elem: 'f32' as const, strides: [9, 1] }],
      body: (xs: readonly KNode[]) => k.mul(xs[0] as KNode, xs[1] as KNode),
    };
    expect(elementwisePerInvocation(half, t8v)).toBe(1);
    expectAll(compareElementwise(runner, { spec: half, inputs: { a: Uint16Array.from(data(18, 5), numberToF16Bits), b: data(18, 6) }, schedule: t8v }));
  });
  it('strided operands: a transpose with a broadcast, one element per invocation', () => {
    const spec = {
      name: 'ew_tr', shape: [4, 3, 5], out: 'f32' as const,
      inputs: [{ buffer: 'a', elem: 'f32' as const, strides: [1, 20, 4], offset: 1 }, { buffer: 'b', elem: 'f32' as const, strides: [0, 5, 1] }],
      body: (xs: readonly KNode[]) => k.sub(xs[0] as KNode, xs[1] as KNode),
    };
    expectAll(compareElementwise(runner, { spec, inputs: { a: data(61, 7), b: data(15, 8) }, schedule: t32v }));
  });
  it('row gather and scatter with invalid indices setting the status word', () => {
    for (const schedule of [t8, t8v]) {
      expectAll(compareRowCopy(runner, { rows: 5, width: 12, srcRows: 7, mode: 'gather', badRows: [], schedule, seed: 9 }));
      expectAll(compareRowCopy(runner, { rows: 6, width: 7, srcRows: 4, mode: 'gather', badRows: [2, 5], schedule, seed: 10 }));
      expectAll(compareRowCopy(runner, { rows: 4, width: 8, srcRows: 9, mode: 'scatter', badRows: [1], schedule, seed: 11 }));
    }
  });
  it('fill and iota in every storage type, vector constants with a tail', () => {
    for (const schedule of [t8, t8v]) {
      expectAll(compareFill(runner, { n: 23, elem: 'f32', value: -2.5, schedule }));
      expectAll(compareFill(runner, { n: 18, elem: 'i32', value: 'iota', schedule }));
      expectAll(compareFill(runner, { n: 9, elem: 'f16', value: 1.5, schedule }));
      expectAll(compareFill(runner, { n: 11, elem: 'bf16', value: 'iota', schedule }));
      expectAll(compareFill(runner, { n: 6, elem: 'u8', value: 200, schedule }));
    }
  });
  it('2-D copies (concat) of f32, i32 and f16 rows', () => {
    for (const schedule of [t8, t8v]) {
      expectAll(compareCopy2d(runner, { rows: 3, inRow: 8, outRow: 20, offset: 4, elem: 'f32', schedule, seed: 12 }));
      expectAll(compareCopy2d(runner, { rows: 4, inRow: 5, outRow: 9, offset: 3, elem: 'i32', schedule, seed: 13 }));
      expectAll(compareCopy2d(runner, { rows: 2, inRow: 12, outRow: 16, offset: 4, elem: 'f16', schedule, seed: 14 }));
    }
  });
  it('batched matmul of computed operands: broadcast batches, transposes, infinities', () => {
    expectAll(compareBatchedMatmul(runner, { m: 5, k: 33, n: 6, transposeA: false, transposeB: true, aBatches: [0, 1, 1], bBatches: [0, 0, 1], threads: 16, seed: 15 }));
    expectAll(compareBatchedMatmul(runner, { m: 3, k: 7, n: 9, transposeA: true, transposeB: false, aBatches: [0], bBatches: [0], infs: [4], threads: 8, seed: 16 }));
  });
});

describe('GPU flash attention', () => {
  const flash = (queryBlock: number, keyBlock: number, threads: number) => ({ kind: 'flash', queryBlock, keyBlock, threads }) as const;
  it('causal over gathered positions with GQA, ragged query and key blocks', () => {
    expectAll(compareAttention(runner, { sq: 5, sk: 9, heads: 4, kvHeads: 2, headDim: 8, valueDim: 8, causal: true, kvLen: 9, schedule: flash(4, 4, 8), seed: 20 }));
    expectAll(compareAttention(runner, { sq: 7, sk: 13, heads: 6, kvHeads: 2, headDim: 6, valueDim: 10, causal: true, kvLen: 13, schedule: flash(8, 5, 16), seed: 21 }));
  });
  it('kvLen below the capacity, non-causal, more rows than threads', () => {
    expectAll(compareAttention(runner, { sq: 4, sk: 16, heads: 2, kvHeads: 1, headDim: 4, valueDim: 4, causal: true, kvLen: 11, schedule: flash(16, 3, 4), seed: 22 }));
    expectAll(compareAttention(runner, { sq: 3, sk: 10, heads: 3, kvHeads: 3, headDim: 5, valueDim: 3, causal: false, kvLen: 7, schedule: flash(2, 4, 8), seed: 23 }));
  });
  it('decode (Sq = 1): the GQA group in one workgroup, threads split each key block', () => {
    expectAll(compareAttention(runner, { sq: 1, sk: 70, heads: 8, kvHeads: 2, headDim: 16, valueDim: 16, causal: true, kvLen: 37, schedule: flash(4, 8, 16), seed: 24 }));
    expectAll(compareAttention(runner, { sq: 1, sk: 20, heads: 1, kvHeads: 1, headDim: 8, valueDim: 12, causal: true, kvLen: 20, schedule: flash(1, 16, 32), seed: 25 }));
  });
  it('rows with no visible key give 0; key positions out of order', () => {
    // Query 0 sees nothing; keys of block 1 (positions 50, 51) are visible only to the last query.
    const kPos = [3, 9, 50, 51, 0, 60, 1, 2];
    expectAll(compareAttention(runner, { sq: 4, sk: 8, heads: 2, kvHeads: 1, headDim: 4, valueDim: 4, causal: true, kvLen: 8, schedule: flash(2, 2, 4), qPos: [-1, 5, 2, 52], kPos, seed: 26 }));
  });
  it('a key block is skipped only when none of its keys is visible to a row of the workgroup', () => {
    // Block [2, 3] (positions 40, 41) is invisible to every query: NaN keys there must not reach the output. Block
    // [4, 5] starts with an invisible key (position 30) but its second key (position 1) is visible.
    const kPos = [0, 2, 40, 41, 30, 1, 3, 4];
    expectAll(compareAttention(runner, { sq: 3, sk: 8, heads: 2, kvHeads: 2, headDim: 4, valueDim: 4, causal: true, kvLen: 8, schedule: flash(4, 2, 8), qPos: [2, 4, 5], kPos, nanKeys: [2, 3], seed: 27 }));
  });
});
