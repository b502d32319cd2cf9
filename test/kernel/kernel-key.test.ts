/** Structural kernel keys (compile caches and the program's kernel table) and the verifier's memo. */
import { block, decl, f32, global, i32, store, v } from '../../src/kernel/dsl.js';
import { type Kernel, kernelKey, type KNode, nodeKey } from '../../src/kernel/ir.js';
import { checkKernel, KernelError } from '../../src/kernel/verify.js';

const kernelStoring = (x: KNode, name = 'k'): Kernel => ({
  name,
  buffers: [{ name: 'out', elem: 'f32', access: 'write' }],
  params: [],
  shared: [],
  privates: [],
  threads: 1,
  body: block(store(global('out'), i32(0), x)),
});

describe('kernel keys', () => {
  it('tell apart +inf, -inf, NaN, 0 and -0 constants', () => {
    const keys = [Infinity, -Infinity, NaN, 0, -0, 1].map((c) => kernelKey(kernelStoring(f32(c))));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('are equal for equal structure and differ when a name could mimic the key syntax', () => {
    expect(kernelKey(kernelStoring(f32(2)))).toBe(kernelKey(kernelStoring(f32(2))));
    const a = block(decl('x', f32(1)), decl('y', f32(2)));
    const b = block(decl('x', f32(1)), decl('y', f32(2)));
    expect(nodeKey(a)).toBe(nodeKey(b));
    expect(nodeKey(decl('a),decl:f32:1#b(', f32(1)))).not.toBe(nodeKey(block(decl('a', f32(1)), decl('b', f32(1)))));
    expect(nodeKey(v('xy', 'f32'))).not.toBe(nodeKey(v('x', 'f32')));
  });

  it('are computed once per kernel object', () => {
    const k = kernelStoring(f32(3));
    expect(kernelKey(k)).toBe(kernelKey(k));
  });
});

describe('checkKernel', () => {
  it('throws for a bad kernel every time and passes a good one again', () => {
    const good = kernelStoring(f32(1));
    checkKernel(good);
    expect(() => checkKernel(good)).not.toThrow();
    const bad = kernelStoring(v('undeclared', 'f32'));
    expect(() => checkKernel(bad)).toThrow(KernelError);
    expect(() => checkKernel(bad)).toThrow(KernelError);
  });
});
