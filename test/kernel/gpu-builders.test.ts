/**
 * The GPU-shaped kernel builders (src/kernel/builders/gpu) on the Wasm renderer, which runs a multi-thread
 * workgroup as loops split at barriers: each compared with its CPU builder (or a host formula) over ragged
 * sizes, GQA, masked rows, NaN inputs, f16 / bf16 weights and kvLen < Sk.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { type Comparison, mismatch } from './gpu-compare.js';
import { compareLayernorm, compareReduce, compareRmsnorm, compareRope, compareSoftmax } from './gpu-row-families.js';

const runner = new KernelRunner(1);
afterAll(() => runner.dispose());

const expectAll = (cs: readonly Comparison[]): void => {
  for (const c of cs) expect(mismatch(c)).toBe('ok');
};

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
  it('RoPE over (token, head, pair) with pass-through columns', () => {
    expectAll(compareRope(runner, { tokens: 5, heads: 3, d: 12, rotaryDim: 8, threads: 32, maxPos: 4000, seed: 12 }));
    expectAll(compareRope(runner, { tokens: 2, heads: 2, d: 6, rotaryDim: 6, threads: 4, maxPos: 9, seed: 13 }));
  });
});
