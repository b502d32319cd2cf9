/**
 * Device-suite cases of the GPU-shaped builders (src/kernel/builders/gpu): small multi-thread kernels with
 * barriers, shared arrays, private accumulators and 16-bit weights, so every device (Wasm, WGSL on Dawn, the PTX
 * emulator, CUDA) runs them; expected outputs come from the Wasm KernelRunner (checked against the CPU builders
 * in gpu-builders.test.ts).
 */
import { numberToBf16Bits, numberToF16Bits } from '../../src/ir/index.js';
import { flashAttentionGrid, flashAttentionKernel } from '../../src/kernel/builders/gpu/attention.js';
import { gpuBatchedMatmulGrid, gpuBatchedMatmulKernel, gpuElementwiseGrid, gpuElementwiseKernel, gpuRowCopyGrid, gpuRowCopyKernel } from '../../src/kernel/builders/gpu/elementwise.js';
import { gpuLayernormKernel, gpuReduceKernel, gpuRmsnormKernel, gpuRopeGrid, gpuRopeKernel, gpuRowGrid, gpuSoftmaxKernel } from '../../src/kernel/builders/gpu/rows.js';
import { ropeInvFreq } from '../../src/kernel/builders/reduce.js';
import { k, type KNode } from '../../src/kernel/index.js';
import { Rng } from '../../src/runtime/random.js';
import type { KernelCase } from './device-harness.js';

const TOL = { abs: 2e-6, rel: 1e-5 } as const;

export function gpuBuilderCases(): KernelCase[] {
  const rng = new Rng(777);
  const randn = (n: number, s = 1, shift = 0): Float32Array => Float32Array.from({ length: n }, () => shift + s * rng.normal());
  const cases: KernelCase[] = [];
  const wg = (threads: number) => ({ kind: 'workgroup', threads }) as const;

  const [rows, d] = [3, 45];
  cases.push({
    name: 'gpu builder: rmsnorm of gathered rows, bf16 weight (32 threads per row)',
    kernel: gpuRmsnormKernel(d, 1e-5, wg(32), { wElem: 'bf16', gather: true }),
    buffers: { x: randn(5 * d), xRows: Int32Array.from([4, 0, 4]), w: Uint16Array.from(randn(d, 0.2, 1), numberToBf16Bits), out: new Float32Array(rows * d) },
    params: { rows },
    grid: gpuRowGrid(rows),
    compare: TOL,
  });
  cases.push({
    name: 'gpu builder: layernorm, f16 weight and bias (16 threads per row)',
    kernel: gpuLayernormKernel(d, 1e-5, wg(16), { wElem: 'f16', bElem: 'f16' }),
    buffers: { x: randn(rows * d, 2, 3), w: Uint16Array.from(randn(d, 0.2, 1), numberToF16Bits), b: Uint16Array.from(randn(d, 0.1), numberToF16Bits), out: new Float32Array(rows * d) },
    params: { rows },
    grid: gpuRowGrid(rows),
    compare: TOL,
  });
  cases.push({
    name: 'gpu builder: softmax over a strided axis (8 threads per line)',
    kernel: gpuSoftmaxKernel(13, 2, wg(8)),
    buffers: { x: randn(3 * 13 * 2, 3), out: new Float32Array(3 * 13 * 2) },
    params: { rows: 6 },
    grid: gpuRowGrid(6),
    compare: TOL,
  });
  const rx = randn(4 * 25, 5);
  rx[30] = Number.NaN;
  cases.push({
    name: 'gpu builder: reduce max with a NaN',
    kernel: gpuReduceKernel([4, 25], [false, true], 'max', 'f32', wg(16)),
    buffers: { x: rx, out: new Float32Array(4) },
    params: { rows: 4 },
    grid: gpuRowGrid(4),
    compare: 'exact',
  });
  cases.push({
    name: 'gpu builder: reduce sum over the leading axis (compensated f32)',
    kernel: gpuReduceKernel([40, 3], [true, false], 'sum', 'f32', wg(16)),
    buffers: { x: randn(120, 100), out: new Float32Array(3) },
    params: { rows: 3 },
    grid: gpuRowGrid(3),
    compare: TOL,
  });
  const rope = { kind: 'workgroup', threads: 64 } as const;
  cases.push({
    name: 'gpu builder: rope per (token, head, pair) with exact split products',
    kernel: gpuRopeKernel(3, 10, 8, rope),
    buffers: { x: randn(4 * 3 * 10), pos: Int32Array.from([0, 7, 300, 2999]), invFreq: ropeInvFreq(10000, 8), out: new Float32Array(4 * 3 * 10) },
    params: { rows: 4 },
    grid: gpuRopeGrid(4, 3, 10, 8, rope),
    compare: TOL,
  });
  const ew = {
    name: 'gpu_ew_mul_add', shape: [5, 7], out: 'f32' as const,
    inputs: [{ buffer: 'a', elem: 'f32' as const, strides: [7, 1] }, { buffer: 'b', elem: 'f32' as const, strides: [7, 1], offset: 4 }, { buffer: 'c', elem: 'f32' as const, strides: [0, 0] }],
    body: (xs: readonly KNode[]) => k.add(k.mul(xs[0] as KNode, xs[1] as KNode), xs[2] as KNode),
    vectorBody: (xs: readonly KNode[]) => k.add(k.mul(xs[0] as KNode, xs[1] as KNode), xs[2] as KNode),
  };
  const vec = { kind: 'thread', threads: 4, vector: true } as const;
  cases.push({
    name: 'gpu builder: elementwise, one f32x4 per invocation with a ragged tail',
    kernel: gpuElementwiseKernel(ew, vec),
    buffers: { a: randn(35), b: randn(39), c: randn(1), out: new Float32Array(35) },
    params: { n: 35 },
    grid: gpuElementwiseGrid(ew, 35, vec),
    compare: 'exact',
  });
  cases.push({
    name: 'gpu builder: row gather (f32x4 per invocation) with an invalid index',
    kernel: gpuRowCopyKernel({ name: 'gpu_gather_rows', width: 8, mode: 'gather', srcRows: 4, statusCode: 5 }, vec),
    buffers: { src: randn(32), index: Int32Array.from([3, 9, 0]), out: new Float32Array(24), status: new Int32Array(1) },
    params: { rows: 3 },
    grid: gpuRowCopyGrid(3, 8, vec),
    compare: 'exact',
  });
  const scalar = { kind: 'thread', threads: 16, vector: false } as const;
  cases.push({
    name: 'gpu builder: batched matmul, compensated dot products',
    kernel: gpuBatchedMatmulKernel(3, 17, 5, [17, 1], [1, 17], 2, scalar),
    buffers: { a: randn(2 * 3 * 17), b: randn(17 * 5), aBatch: Int32Array.from([0, 51]), bBatch: Int32Array.from([0, 0]), out: new Float32Array(30) },
    params: {},
    grid: gpuBatchedMatmulGrid(3, 5, 2, scalar),
    compare: TOL,
  });
  const att = { sq: 5, sk: 12, heads: 4, kvHeads: 2, headDim: 8, valueDim: 8, scale: 0.35, causal: true };
  const flash = { kind: 'flash', queryBlock: 4, keyBlock: 4, threads: 16 } as const;
  cases.push({
    name: 'gpu builder: flash attention, gathered positions, GQA, kvLen < Sk',
    kernel: flashAttentionKernel(att, flash),
    buffers: {
      q: randn(5 * 4 * 8), k: randn(12 * 2 * 8), v: randn(12 * 2 * 8),
      qPos: Int32Array.from([2, 4, 6, 7, 9]), kPos: Int32Array.from([0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12]), out: new Float32Array(5 * 4 * 8),
    },
    params: { kvLen: 10 },
    grid: flashAttentionGrid(att, flash),
    compare: TOL,
  });
  const dec = { sq: 1, sk: 40, heads: 4, kvHeads: 1, headDim: 16, valueDim: 16, scale: 0.25, causal: true };
  const decode = { kind: 'flash', queryBlock: 4, keyBlock: 8, threads: 32 } as const;
  cases.push({
    name: 'gpu builder: flash attention decode, one workgroup per KV head, 8 threads per row',
    kernel: flashAttentionKernel(dec, decode),
    buffers: {
      q: randn(4 * 16), k: randn(40 * 16), v: randn(40 * 16),
      qPos: Int32Array.from([29]), kPos: Int32Array.from({ length: 40 }, (_, i) => i), out: new Float32Array(4 * 16),
    },
    params: { kvLen: 30 },
    grid: flashAttentionGrid(dec, decode),
    compare: TOL,
  });
  return cases;
}
