/** The Kernel IR verifier: well-formed builder output passes, each kind of mistake is reported by name. */
import { attentionKernel, ropeTableKernel } from '../../src/kernel/builders/attention.js';
import { CPU_TILING, matmulKernel } from '../../src/kernel/builders/matmul.js';
import { compactKernel, routeRankKernel, routeScoreKernel, stringCombineKernel } from '../../src/kernel/builders/route.js';
import { rmsnormKernel, ropeKernel } from '../../src/kernel/builders/reduce.js';
import { add, assign, barrier, block, decl, f32, global, i32, iff, lid, load, lt, priv, store, v } from '../../src/kernel/dsl.js';
import type { Kernel, KNode } from '../../src/kernel/ir.js';
import { checkKernel, KernelError, verifyKernel } from '../../src/kernel/verify.js';
import { limitProblems } from '../../src/kernel/renderer.js';

const kernel = (body: KNode, extra: Partial<Kernel> = {}): Kernel => ({
  name: 'k',
  buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }],
  params: [],
  shared: [],
  privates: [],
  threads: 1,
  body,
  ...extra,
});

describe('kernel verifier', () => {
  it('accepts every builder', () => {
    const ks = [
      matmulKernel({ name: 'mm', k: 64, n: 40, tiling: CPU_TILING, rmsnormEps: 1e-5, gatherA: true, scatterC: true, epilogue: [{ kind: 'bias', buffer: 'bias' }, { kind: 'unary', fn: 'tanh' }, { kind: 'rowScale', buffer: 'w', mapped: true }, { kind: 'binary', fn: 'add', buffer: 'r', mapped: true, operandFirst: true }] }),
      attentionKernel({ sq: 5, sk: 7, heads: 4, kvHeads: 2, headDim: 8, valueDim: 8, scale: 0.3, causal: true, queryBlock: 2 }),
      attentionKernel({ sq: 5, sk: 7, heads: 4, kvHeads: 2, headDim: 8, valueDim: 8, scale: 0.3, causal: true, queryBlock: 2, rope: { rotaryDim: 8 } }),
      attentionKernel({ sq: 5, sk: 7, heads: 2, kvHeads: 1, headDim: 6, valueDim: 6, scale: 0.3, causal: false, queryBlock: 2 }),
      ropeTableKernel(8),
      routeScoreKernel(16, 0.2, 1),
      routeRankKernel(9, true, true),
      compactKernel(9, true),
      stringCombineKernel(16),
      rmsnormKernel(16, 1e-5),
      ropeKernel(2, 8, 8),
    ];
    for (const k of ks) expect(verifyKernel(k)).toEqual([]);
  });

  it.each([
    ['undeclared variable', kernel(store(global('out'), 0, v('nope', 'f32'))), /variable 'nope' is not in scope/],
    ['unknown buffer', kernel(store(global('missing'), 0, f32(1))), /no global memory named 'missing'/],
    ['store into a read-only buffer', kernel(store(global('x'), 0, f32(1))), /buffer 'x' is read-only/],
    ['value type mismatch', kernel(store(global('out'), 0, i32(1))), /stores i32 into global 'out' of f32/],
    ['assignment of another type', kernel(block(decl('a', f32(0)), assign('a', i32(1)))), /'a' is f32, assigned i32/],
    ['non-constant private index', kernel(block(decl('i', i32(0)), store(priv('r'), v('i'), f32(1))), { privates: [{ name: 'r', elem: 'f32', length: 4 }] }), /needs a constant index/],
    ['private index out of bounds', kernel(store(priv('r'), 4, f32(1)), { privates: [{ name: 'r', elem: 'f32', length: 4 }] }), /out of bounds/],
    ['barrier under an if', kernel(iff(lt(lid(0), 2), barrier()), { threads: 4 }), /barrier in non-uniform control flow/],
    ['statement used as a value', kernel(store(global('out'), 0, block() as KNode)), /a statement used as a value/],
    ['duplicate declaration', kernel(block(), { shared: [{ name: 'x', elem: 'f32', length: 2 }] }), /'x' is declared twice/],
    ['non-integer i32 constant', kernel(store(global('out'), { op: 'const', type: 'i32', src: [], arg: 1.5 }, f32(0))), /not an integer/],
  ] as const)('reports: %s', (_name, k, msg) => {
    expect(verifyKernel(k).join('\n')).toMatch(msg);
    expect(() => checkKernel(k)).toThrow(KernelError);
  });

  it('checks kernels and grids against a device limits table', () => {
    const limits = { maxThreadsPerWorkgroup: 128, sharedBytes: 1024, maxBuffersPerKernel: 2, maxGridSize: 65535 };
    const k = kernel(block(), { threads: 256, shared: [{ name: 'tile', elem: 'f32', length: 512 }], buffers: [{ name: 'a', elem: 'f32', access: 'read' }, { name: 'b', elem: 'f32', access: 'read' }, { name: 'c', elem: 'f32', access: 'write' }] });
    const problems = limitProblems(k, limits, [70000, 1, 1]).join('\n');
    expect(problems).toMatch(/256 threads per workgroup exceed 128/);
    expect(problems).toMatch(/2048 bytes of workgroup memory exceed 1024/);
    expect(problems).toMatch(/3 buffers exceed 2/);
    expect(problems).toMatch(/grid axis 0 has 70000 workgroups, more than 65535/);
    expect(limitProblems(kernel(block()), limits, [1, 1, 1])).toEqual([]);
  });

  it('accepts a barrier in a loop with uniform bounds', () => {
    const k = kernel(block(store(global('out'), lid(0), load(global('x'), add(lid(0), 0))), { op: 'range', type: 'void', src: [i32(0), i32(3), barrier()], arg: { var: 'r', step: 1 } }), { threads: 4 });
    expect(verifyKernel(k)).toEqual([]);
  });
});
