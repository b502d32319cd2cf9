/**
 * The long property run of the GPU-shaped builders (npm run test:props): random shapes and schedules per
 * builder family, each kernel compared with its CPU counterpart on the Wasm KernelRunner (the same comparisons
 * as gpu-builders.test.ts). MODC_PROP_RUNS sets the runs per family.
 */
import { afterAll, describe, it } from '@jest/globals';
import fc from 'fast-check';
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import type { ElementwiseInput } from '../../src/kernel/builders/elementwise.js';
import { k, type KNode } from '../../src/kernel/index.js';
import { compareAttention } from './gpu-attention-families.js';
import { type Comparison, mismatch } from './gpu-compare.js';
import { compareBatchedMatmul, compareCopy2d, compareElementwise, compareFill, compareRowCopy } from './gpu-elementwise-families.js';
import { compareLayernorm, compareReduce, compareRmsnorm, compareRope, compareSoftmax } from './gpu-row-families.js';

const RUNS = Number(process.env.MODC_PROP_RUNS ?? 300);
const TIMEOUT = 30 * 60 * 1000;
const runner = new KernelRunner(1);
afterAll(() => runner.dispose());

/** Throws with the first mismatch (fast-check then shrinks the case). */
const check = (cs: readonly Comparison[]): void => {
  for (const c of cs) {
    const m = mismatch(c);
    if (m !== 'ok') throw new Error(m);
  }
};

const pow2 = (maxLog: number): fc.Arbitrary<number> => fc.integer({ min: 0, max: maxLog }).map((e) => 2 ** e);
const seed = fc.integer({ min: 1, max: 1 << 30 });
const weight = fc.constantFrom('f32' as const, 'f16' as const, 'bf16' as const);

const rowCase = fc.oneof(
  fc.record({ kind: fc.constant('rmsnorm' as const), rows: fc.integer({ min: 1, max: 6 }), d: fc.integer({ min: 1, max: 90 }), threads: pow2(6), wElem: weight, gather: fc.boolean(), seed }),
  fc.record({ kind: fc.constant('layernorm' as const), rows: fc.integer({ min: 1, max: 5 }), d: fc.integer({ min: 1, max: 90 }), threads: pow2(6), wElem: weight, bElem: weight, shift: fc.constantFrom(0, 3, 40), seed }),
  fc.record({ kind: fc.constant('softmax' as const), outer: fc.integer({ min: 1, max: 3 }), len: fc.integer({ min: 1, max: 40 }), stride: fc.integer({ min: 1, max: 4 }), threads: pow2(5), nans: fc.array(fc.nat(200), { maxLength: 1 }), negInfs: fc.array(fc.nat(200), { maxLength: 3 }), seed }),
  fc.integer({ min: 1, max: 4 }).chain((rank) =>
    fc.record({
      kind: fc.constant('reduce' as const),
      shape: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: rank, maxLength: rank }),
      reduced: fc.array(fc.boolean(), { minLength: rank, maxLength: rank }),
      fn: fc.constantFrom('sum' as const, 'mean' as const, 'max' as const, 'min' as const),
      elem: fc.constantFrom('f32' as const, 'i32' as const),
      threads: pow2(5),
      nans: fc.array(fc.nat(500), { maxLength: 2 }),
      seed,
    }),
  ),
  fc.record({ kind: fc.constant('rope' as const), tokens: fc.integer({ min: 1, max: 5 }), heads: fc.integer({ min: 1, max: 3 }), half: fc.integer({ min: 1, max: 6 }), extra: fc.integer({ min: 0, max: 5 }), threads: pow2(6), maxPos: fc.constantFrom(10, 5000), seed }),
);

/** An operand of an elementwise op over `shape`: row-major (with an offset), broadcast on some dims, scalar, or permuted. */
const operand = (shape: readonly number[], name: string): fc.Arbitrary<ElementwiseInput> => {
  const rowMajor = (s: readonly number[]): number[] => s.map((_, i) => s.slice(i + 1).reduce((a, b) => a * b, 1));
  return fc.oneof(
    fc.integer({ min: 0, max: 6 }).map((offset) => ({ buffer: name, elem: 'f32' as const, strides: rowMajor(shape), offset })),
    fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }).map((keep) => {
      const st = rowMajor(shape);
      return { buffer: name, elem: 'f32' as const, strides: st.map((x, i) => (keep[i] ? x : 0)) };
    }),
    fc.constant({ buffer: name, elem: 'f32' as const, strides: shape.map(() => 0), offset: 1 }),
    fc.shuffledSubarray(shape.map((_, i) => i), { minLength: shape.length, maxLength: shape.length }).map((perm) => {
      // The operand is stored with dims in `perm` order: output dim perm[j] has the stride of stored dim j.
      const stored = rowMajor(perm.map((p) => shape[p] ?? 1));
      const strides = shape.map(() => 0);
      perm.forEach((p, j) => (strides[p] = stored[j] ?? 0));
      return { buffer: name, elem: 'f32' as const, strides };
    }),
  );
};

const elementwiseCase = fc
  .array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 3 })
  .chain((shape) => fc.record({ shape: fc.constant(shape), inputs: fc.tuple(operand(shape, 'a'), operand(shape, 'b'), operand(shape, 'c')), threads: pow2(6), vector: fc.boolean(), seed }));

const body = (xs: readonly KNode[]): KNode => k.add(k.mul(xs[0] as KNode, xs[1] as KNode), k.sub(xs[2] as KNode, xs[0] as KNode));

const copyCase = fc.oneof(
  fc.record({ kind: fc.constant('rowCopy' as const), rows: fc.integer({ min: 1, max: 6 }), width: fc.integer({ min: 1, max: 13 }), srcRows: fc.integer({ min: 1, max: 8 }), mode: fc.constantFrom('gather' as const, 'scatter' as const), bad: fc.array(fc.nat(10), { maxLength: 2 }), threads: pow2(5), vector: fc.boolean(), seed }),
  fc.record({ kind: fc.constant('fill' as const), n: fc.integer({ min: 1, max: 70 }), elem: fc.constantFrom('f32' as const, 'i32' as const, 'f16' as const, 'bf16' as const, 'u8' as const), iota: fc.boolean(), threads: pow2(5), vector: fc.boolean() }),
  fc.record({ kind: fc.constant('copy2d' as const), rows: fc.integer({ min: 1, max: 5 }), inRow: fc.integer({ min: 1, max: 12 }), pad: fc.integer({ min: 0, max: 9 }), offset: fc.integer({ min: 0, max: 9 }), elem: fc.constantFrom('f32' as const, 'i32' as const, 'f16' as const), threads: pow2(5), vector: fc.boolean(), seed }),
  fc.record({ kind: fc.constant('bmm' as const), m: fc.integer({ min: 1, max: 6 }), kk: fc.integer({ min: 1, max: 40 }), n: fc.integer({ min: 1, max: 6 }), tA: fc.boolean(), tB: fc.boolean(), batches: fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { minLength: 1, maxLength: 3 }), threads: pow2(5), seed }),
);

const attentionCase = fc
  .record({
    sq: fc.integer({ min: 1, max: 7 }),
    sk: fc.integer({ min: 1, max: 24 }),
    kvHeads: fc.integer({ min: 1, max: 2 }),
    group: fc.integer({ min: 1, max: 3 }),
    headDim: fc.integer({ min: 1, max: 12 }),
    valueDim: fc.integer({ min: 1, max: 12 }),
    causal: fc.boolean(),
    queryBlock: pow2(4),
    keyBlock: fc.integer({ min: 1, max: 9 }),
    threads: pow2(5),
    shuffled: fc.boolean(),
    seed,
  })
  .chain((c) => fc.record({ c: fc.constant(c), kvLen: fc.integer({ min: 0, max: c.sk }), kPos: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: c.sk, maxLength: c.sk }), qPos: fc.array(fc.integer({ min: -2, max: 42 }), { minLength: c.sq, maxLength: c.sq }) }));

describe(`GPU builders match their CPU counterparts on ${RUNS} random cases per family`, () => {
  it('row kernels: rmsnorm, layernorm, softmax, reduce, rope', () => {
    fc.assert(fc.property(rowCase, (c) => {
      if (c.kind === 'rmsnorm') check(compareRmsnorm(runner, c));
      else if (c.kind === 'layernorm') check(compareLayernorm(runner, c));
      else if (c.kind === 'softmax') check(compareSoftmax(runner, c));
      else if (c.kind === 'reduce') check(compareReduce(runner, c));
      else check(compareRope(runner, { tokens: c.tokens, heads: c.heads, d: 2 * c.half + c.extra, rotaryDim: 2 * c.half, threads: c.threads, maxPos: c.maxPos, seed: c.seed }));
    }), { numRuns: RUNS });
  }, TIMEOUT);

  it('elementwise: flat, broadcast, scalar and permuted operands', () => {
    fc.assert(fc.property(elementwiseCase, (c) => {
      const spec = { name: 'ew_prop', shape: c.shape, out: 'f32' as const, inputs: c.inputs, body, vectorBody: body };
      const len = (x: ElementwiseInput): number => (x.offset ?? 0) + x.strides.reduce((a, st, i) => a + st * ((c.shape[i] ?? 1) - 1), 0) + 1;
      const data = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.9 + s));
      const [a, b, cc] = c.inputs;
      check(compareElementwise(runner, { spec, inputs: { a: data(len(a), c.seed), b: data(len(b), c.seed + 1), c: data(len(cc), c.seed + 2) }, schedule: { kind: 'thread', threads: c.threads, vector: c.vector } }));
    }), { numRuns: RUNS });
  }, TIMEOUT);

  it('copies and computed matmuls: row gather / scatter, fill, 2-D copies, batched matmul', () => {
    fc.assert(fc.property(copyCase, (c) => {
      if (c.kind === 'rowCopy') {
        const srcRows = c.mode === 'scatter' ? Math.max(c.srcRows, c.rows) : c.srcRows;
        check(compareRowCopy(runner, { rows: c.rows, width: c.width, srcRows, mode: c.mode, badRows: c.bad, schedule: { kind: 'thread', threads: c.threads, vector: c.vector }, seed: c.seed }));
      } else if (c.kind === 'fill') check(compareFill(runner, { n: c.n, elem: c.elem, value: c.iota ? 'iota' : c.elem === 'u8' || c.elem === 'i32' ? 77 : -1.25, schedule: { kind: 'thread', threads: c.threads, vector: c.vector } }));
      else if (c.kind === 'copy2d') check(compareCopy2d(runner, { rows: c.rows, inRow: c.inRow, outRow: c.inRow + c.pad + c.offset, offset: c.offset, elem: c.elem, schedule: { kind: 'thread', threads: c.threads, vector: c.vector }, seed: c.seed }));
      else check(compareBatchedMatmul(runner, { m: c.m, k: c.kk, n: c.n, transposeA: c.tA, transposeB: c.tB, aBatches: c.batches.map((x) => x[0]), bBatches: c.batches.map((x) => x[1]), threads: c.threads, seed: c.seed }));
    }), { numRuns: RUNS });
  }, TIMEOUT);

  it('flash attention: random positions (in any order), GQA, kvLen, schedules', () => {
    fc.assert(fc.property(attentionCase, ({ c, kvLen, kPos, qPos }) => {
      const kp = c.shuffled ? kPos : [...kPos].sort((x, y) => x - y);
      check(compareAttention(runner, {
        sq: c.sq, sk: c.sk, heads: c.kvHeads * c.group, kvHeads: c.kvHeads, headDim: c.headDim, valueDim: c.valueDim, causal: c.causal, kvLen,
        schedule: { kind: 'flash', queryBlock: c.queryBlock, keyBlock: c.keyBlock, threads: c.threads }, kPos: kp, qPos, seed: c.seed,
      }));
    }), { numRuns: RUNS });
  }, TIMEOUT);
});
