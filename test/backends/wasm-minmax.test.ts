/**
 * f32x4 min / max on the Wasm renderer (pseudo-min / -max plus a NaN select, or one pseudo-op with a constant
 * operand): the numerics policy's results (NaN if either operand is NaN), lane by lane, for data and constant
 * operands on either side, infinities included.
 */
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { binary, block, f32, global, load, splat, store } from '../../src/kernel/dsl.js';
import type { Kernel, KNode } from '../../src/kernel/ir.js';

const A = [Number.NaN, 1, -0, Number.NEGATIVE_INFINITY, 5, Number.NaN, -3, 2];
const B = [2, Number.NaN, 0, -1, Number.POSITIVE_INFINITY, Number.NaN, -3, -7];

function kernel(fn: 'min' | 'max', form: (a: KNode, b: KNode) => KNode): Kernel {
  return {
    name: `v_${fn}`,
    buffers: [{ name: 'a', elem: 'f32', access: 'read' }, { name: 'b', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }],
    params: [],
    shared: [],
    privates: [],
    threads: 1,
    body: block(...[0, 4].map((o) => store(global('out'), o, form(load(global('a'), o, 'f32x4'), load(global('b'), o, 'f32x4'))))),
  };
}

const policy = (fn: 'min' | 'max', x: number, y: number): number => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : fn === 'min' ? Math.min(x, y) : Math.max(x, y));
/** Equal, NaN equal to NaN, and any sign of a zero result. */
const same = (x: number, y: number): boolean => (Number.isNaN(x) && Number.isNaN(y)) || x === y;

describe('wasm f32x4 min / max', () => {
  const runner = new KernelRunner(1);
  afterAll(() => runner.dispose());

  it.each(['min', 'max'] as const)('%s of two vectors propagates NaN from either side', (fn) => {
    const out = new Float32Array(8);
    runner.run(kernel(fn, (a, b) => binary(fn, a, b)), { a: Float32Array.from(A), b: Float32Array.from(B), out }, {}, [1, 1, 1]);
    for (let i = 0; i < 8; i++) expect(same(out[i] ?? 0, policy(fn, Math.fround(A[i] ?? 0), Math.fround(B[i] ?? 0)))).toBe(true);
  });

  it.each(['min', 'max'] as const)('%s with a constant on either side keeps the data NaN', (fn) => {
    for (const c of [-127, 0, Number.NEGATIVE_INFINITY, 3.5]) {
      for (const first of [true, false]) {
        const out = new Float32Array(8);
        runner.run(kernel(fn, (a) => (first ? binary(fn, splat(f32(c)), a) : binary(fn, a, splat(f32(c))))), { a: Float32Array.from(A), b: Float32Array.from(B), out }, {}, [1, 1, 1]);
        for (let i = 0; i < 8; i++) expect(same(out[i] ?? 0, policy(fn, Math.fround(A[i] ?? 0), c))).toBe(true);
      }
    }
  });
});
