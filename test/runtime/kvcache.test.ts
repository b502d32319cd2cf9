import { makeTensor } from '../../src/ir/index.js';
import { LayerCache, PAD_POSITION } from '../../src/runtime/kvcache.js';

describe('LayerCache', () => {
  const row = (v: number): ReturnType<typeof makeTensor> => makeTensor('f32', [1, 2, 2], [v, v, v, v]);

  it('appends rows with their positions and grows past its capacity', () => {
    const c = new LayerCache(2, 2, 1);
    for (let i = 0; i < 5; i++) c.append(row(i + 1), row(-(i + 1)), [10 + i]);
    const t = c.tensors();
    expect(t.k.shape).toEqual([5, 2, 2]);
    expect(Array.from(t.positions.data)).toEqual([10, 11, 12, 13, 14]);
    expect(Array.from(t.v.data.subarray(16, 20))).toEqual([-5, -5, -5, -5]);
  });

  it('pads to a block with zero rows at a never-visible position, up to a limit', () => {
    const c = new LayerCache(2, 2, 2);
    for (let i = 0; i < 5; i++) c.append(row(i + 1), row(i + 1), [i]);
    const t = c.tensors(4);
    expect(t.k.shape).toEqual([8, 2, 2]);
    expect(Array.from(t.positions.data)).toEqual([0, 1, 2, 3, 4, PAD_POSITION, PAD_POSITION, PAD_POSITION]);
    expect(Array.from(t.k.data.subarray(20))).toEqual(new Array(12).fill(0));
    expect(c.tensors(4, 6).k.shape).toEqual([6, 2, 2]);
    expect(c.tensors(4, 3).k.shape).toEqual([5, 2, 2]); // never shorter than the cache
    // Appending after a padded view overwrites the padding.
    c.append(row(9), row(9), [5]);
    expect(Array.from(c.tensors().positions.data)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(c.length).toBe(6);
  });

  it('rejects rows whose size does not match', () => {
    const c = new LayerCache(2, 2);
    expect(() => c.append(makeTensor('f32', [1, 2, 3]), row(1), [0])).toThrow(/KV cache append/);
  });
});
