/**
 * The WebGPU Device on Dawn beyond the shared kernel cases: limits refused before dispatch naming the limit, a
 * WGSL validation failure naming kernel / line / node, grids folded past 65535 workgroups, barrier loops with
 * bounds from read_write memory, race-free packed 16-/8-bit stores, the pipeline cache, buffer reuse, ordering
 * of writes between dispatches, and a lost device. Skips with one line without an adapter (fails under
 * MODC_REQUIRE_WEBGPU=1).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { WebGpuBuffer, WebGpuDevice } from '../../../src/backends/webgpu/device.js';
import { openDawnDevice } from '../../../src/backends/webgpu/node.js';
import { k, type Kernel, type KNode } from '../../../src/kernel/index.js';
import { DeviceError } from '../../../src/runtime/device.js';
import { openDawnOrWhy } from './dawn.js';

let device: WebGpuDevice | undefined;
let missing: string | undefined;

beforeAll(async () => {
  const d = await openDawnOrWhy();
  if (typeof d === 'string') {
    missing = d;
    if (process.env.MODC_REQUIRE_WEBGPU === '1') throw new Error(`webgpu: ${d} (MODC_REQUIRE_WEBGPU=1 requires it)`);
    process.stdout.write(`skipping Dawn device tests: ${d}\n`);
  } else device = d;
});
afterAll(async () => {
  await device?.dispose();
});

/** Runs `f` with the device, or does nothing where there is none (the line above said why). */
const withDevice = (f: (d: WebGpuDevice) => Promise<void>) => async (): Promise<void> => {
  if (missing !== undefined || device === undefined) return;
  await f(device);
};

const kernel = (name: string, body: KNode, extra: Partial<Kernel> = {}): Kernel => ({
  name,
  buffers: [{ name: 'out', elem: 'i32', access: 'write' }],
  params: [],
  shared: [],
  privates: [],
  threads: 1,
  body,
  ...extra,
});

async function readI32(d: WebGpuDevice, b: WebGpuBuffer, n: number): Promise<Int32Array> {
  return new Int32Array((await d.read(b, 0, 4 * n)).slice().buffer);
}

describe('webgpu device on Dawn', () => {
  it('refuses dispatches over the adapter limits before dispatch, naming the limit', withDevice(async (d) => {
    await expect(d.compile(kernel('too_wide', k.store(k.global('out'), k.lid(0), k.i32(1)), { threads: 2048 }))).rejects.toThrow(/too_wide.*maxComputeInvocationsPerWorkgroup/);
    const many = kernel('too_many', k.store(k.global('out'), 0, k.i32(1)), {
      buffers: [...Array.from({ length: 17 }, (_, i) => ({ name: `in${i}`, elem: 'f32' as const, access: 'read' as const })), { name: 'out', elem: 'i32', access: 'write' }],
    });
    await expect(d.compile(many)).rejects.toThrow(/too_many.*18 storage buffers exceed the adapter's maxStorageBuffersPerShaderStage of 16/);
    const one = await d.compile(kernel('grid_check', k.store(k.global('out'), 0, k.i32(1))));
    const out = d.alloc(4, 'out');
    try {
      expect(() => d.dispatch(one, [out], [], [65536, 65536, 2])).toThrow(/grid_check.*more than 4294967295 \(maxComputeWorkgroupsPerDimension 65535/);
      const limit = d.adapter.limits.maxStorageBufferBindingSize;
      const huge = d.alloc(limit + 16, 'huge');
      try {
        expect(() => d.dispatch(one, [huge], [], [1, 1, 1])).toThrow(new RegExp(`grid_check.*'huge'.*exceeds the adapter's maxStorageBufferBindingSize of ${limit}`));
      } finally {
        d.free(huge);
      }
      const two = await d.compile(kernel('alias', k.store(k.global('out'), 0, k.load(k.global('x'), 0, 'i32')), { buffers: [{ name: 'x', elem: 'i32', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }] }));
      expect(() => d.dispatch(two, [out, out], [], [1, 1, 1])).toThrow(/alias.*both 'x' and 'out'.*aliasedBindings/);
      await d.flush();
    } finally {
      d.free(out);
    }
  }));

  it('reports a kernel that fails WGSL validation with the kernel, the WGSL line and the Kernel IR node', withDevice(async (d) => {
    // A constant index past a workgroup array: the Kernel IR verifier bounds-checks private arrays only, WGSL
    // rejects it at shader creation.
    const bad = kernel('out_of_bounds', k.block(k.decl('fine', k.i32(3)), k.store(k.shared('s'), k.i32(10), k.f32(1)), k.store(k.global('out'), 0, k.v('fine'))), {
      shared: [{ name: 's', elem: 'f32', length: 4 }],
    });
    const err = await d.compile(bad).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/kernel 'out_of_bounds' failed WGSL validation/);
    expect(msg).toMatch(/WGSL line \d+:\d+: .*10/);
    expect(msg).toMatch(/\| s\[10i\] = 1f;/);
    expect(msg).toMatch(/Kernel IR node \/block\[1\]\/store: shared\.s\[10\] = 1\.0/);
  }));

  it('folds grids over 65535 workgroups and recovers the logical workgroup ids', withDevice(async (d) => {
    const n = 70001;
    const ids = kernel('grid_ids', k.store(k.global('out'), k.add(k.gid(0), k.mul(k.gid(1), k.ngroups(0))), k.add(k.mul(k.gid(1), 1000000), k.gid(0))));
    const c = await d.compile(ids);
    const out = d.alloc(4 * 75000, 'ids');
    d.write(out, new Int32Array(n + 8).fill(-7));
    d.dispatch(c, [out], [], [n, 1, 1]);
    const got = await readI32(d, out, n + 8);
    const wrong = got.findIndex((x, i) => x !== (i < n ? i : -7));
    expect(wrong).toBe(-1);
    const [gx, gy] = [300, 250];
    d.dispatch(c, [out], [], [gx, gy, 1]);
    const got2 = await readI32(d, out, gx * gy);
    expect(got2.findIndex((x, i) => x !== Math.floor(i / gx) * 1000000 + (i % gx))).toBe(-1);
    d.free(out);
  }));

  it('runs a barrier loop whose bound comes from read_write memory', withDevice(async (d) => {
    // Each of 4 rounds: every thread adds its id to shared memory, barrier, thread 0 accumulates the sum.
    const body = k.block(
      k.decl('acc', k.i32(0)),
      k.range('round', 0, k.load(k.global('count'), 0, 'i32'), [
        k.store(k.shared('s'), k.lid(0), k.add(k.lid(0), k.v('round'))),
        k.barrier(),
        k.iff(k.cmp('eq', k.lid(0), 0), k.range('j', 0, 8, k.assign('acc', k.add(k.v('acc'), k.load(k.shared('s'), k.v('j'), 'i32'))))),
        k.barrier(),
      ]),
      k.iff(k.cmp('eq', k.lid(0), 0), k.store(k.global('out'), 0, k.v('acc'))),
    );
    const kern = kernel('uniform_bound', body, { buffers: [{ name: 'count', elem: 'i32', access: 'readwrite' }, { name: 'out', elem: 'i32', access: 'write' }], shared: [{ name: 's', elem: 'i32', length: 8 }], threads: 8 });
    const c = await d.compile(kern);
    const [count, out] = [d.alloc(4, 'count'), d.alloc(4, 'out')];
    d.write(count, Int32Array.of(4));
    d.dispatch(c, [count, out], [], [1, 1, 1]);
    // sum over rounds r < 4 of sum_t (t + r) = 4 * 28 + 8 * 6
    expect([...(await readI32(d, out, 1))]).toEqual([4 * 28 + 8 * 6]);
    d.free(count);
    d.free(out);
  }));

  it('stores into packed f16 / bf16 / u8 words from many threads without losing neighbours', withDevice(async (d) => {
    // 256 threads, thread t writes element t: neighbours share a u32 word (2 halves, 4 bytes).
    const n = 256;
    const body = k.block(
      k.decl('t', k.add(k.mul(k.gid(0), 64), k.lid(0))),
      k.store(k.global('h'), k.v('t'), k.cast(k.v('t'), 'f32')),
      k.store(k.global('b'), k.v('t'), k.unary('neg', k.cast(k.v('t'), 'f32'))),
      k.store(k.global('u'), k.v('t'), k.add(k.v('t'), 3)),
    );
    const kern = kernel('packed_stores', body, { buffers: [{ name: 'h', elem: 'f16', access: 'write' }, { name: 'b', elem: 'bf16', access: 'write' }, { name: 'u', elem: 'u8', access: 'write' }], threads: 64 });
    const c = await d.compile(kern);
    const bufs = [d.alloc(2 * n, 'h'), d.alloc(2 * n, 'b'), d.alloc(n, 'u')];
    for (let rep = 0; rep < 3; rep++) d.dispatch(c, bufs, [], [n / 64, 1, 1]);
    const [h, b, u] = await Promise.all(bufs.map((x) => d.read(x)));
    const h16 = new Uint16Array((h as Uint8Array).slice().buffer);
    const b16 = new Uint16Array((b as Uint8Array).slice().buffer);
    const { numberToF16Bits, numberToBf16Bits } = await import('../../../src/ir/index.js');
    expect([...h16]).toEqual(Array.from({ length: n }, (_, t) => numberToF16Bits(t)));
    expect([...b16]).toEqual(Array.from({ length: n }, (_, t) => numberToBf16Bits(-t)));
    expect([...(u as Uint8Array)]).toEqual(Array.from({ length: n }, (_, t) => (t + 3) & 255));
    for (const x of bufs) d.free(x);
  }));

  it('compiles a kernel once (in-flight compiles shared), reuses freed buffers zero-filled, orders writes between dispatches', withDevice(async (d) => {
    const copy = kernel('copy_x', k.range('i', 0, 4, k.store(k.global('out'), k.v('i'), k.load(k.global('x'), k.v('i'), 'i32'))), {
      buffers: [{ name: 'x', elem: 'i32', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }],
    });
    const before = d.compiles;
    const [c1, c2] = await Promise.all([d.compile(copy), d.compile({ ...copy })]);
    expect(d.compiles - before).toBe(1);
    expect(c1.pipeline).toBe(c2.pipeline);
    const x = d.alloc(16, 'x');
    const [o1, o2] = [d.alloc(16, 'o1'), d.alloc(16, 'o2')];
    d.write(x, Int32Array.of(1, 2, 3, 4));
    d.dispatch(c1, [x, o1], [], [1, 1, 1]);
    d.write(x, Int32Array.of(5, 6, 7, 8)); // after the first dispatch in command order
    d.dispatch(c1, [x, o2], [], [1, 1, 1]);
    expect([...(await readI32(d, o1, 4))]).toEqual([1, 2, 3, 4]);
    expect([...(await readI32(d, o2, 4))]).toEqual([5, 6, 7, 8]);
    const pooled = d.pooledBytes;
    d.free(x);
    expect(d.pooledBytes).toBeGreaterThan(pooled);
    const again = d.alloc(16, 'again');
    expect(again.gpu).toBe(x.gpu);
    expect([...(await readI32(d, again, 4))]).toEqual([0, 0, 0, 0]);
    for (const b of [again, o1, o2]) d.free(b);
    expect(() => d.free(o1)).toThrow(/freed twice/);
  }));

  it('reports a lost device clearly', async () => {
    if (missing !== undefined) return;
    const d = await openDawnDevice();
    const c = await d.compile(kernel('after_loss', k.store(k.global('out'), 0, k.i32(1))));
    const out = d.alloc(4, 'out');
    d.gpu.destroy();
    await d.gpu.lost;
    expect(() => d.dispatch(c, [out], [], [1, 1, 1])).toThrow(DeviceError);
    expect(() => d.dispatch(c, [out], [], [1, 1, 1])).toThrow(/webgpu: device lost \(destroyed\).*during dispatch of 'after_loss'/);
    await expect(d.flush()).rejects.toThrow(/device lost/);
    await d.dispose();
  });
});

describe("Dawn's null backend (compiles, never runs)", () => {
  it('validates the shader-f16 variants and the real-GPU schedules the llvmpipe adapter cannot run', async () => {
    if (missing !== undefined) return;
    const d = await openDawnDevice({ dawnFlags: ['backend=null'], featureLevel: 'core' });
    try {
      expect(d.target.caps.f16Math).toBe(true);
      expect(d.target.schedules.matmul).toMatchObject({ kind: 'gpu-tiled', sharedTiles: true });
      const { gpuMatmulKernel } = await import('../../../src/kernel/builders/gpu/matmul.js');
      const { gpuGemvKernel } = await import('../../../src/kernel/builders/gpu/gemv.js');
      const { matmul, gemv } = d.target.schedules;
      if (matmul.kind !== 'gpu-tiled' || gemv.kind !== 'gpu') throw new Error('expected GPU schedules');
      const base = { k: 256, n: 96, wElem: 'f16' as const, epilogue: [{ kind: 'bias' as const, buffer: 'bias', elem: 'f16' as const }] };
      const mm = await d.compile(gpuMatmulKernel({ ...base, name: 'mm_f16', schedule: matmul }));
      const gv = await d.compile(gpuGemvKernel({ ...base, name: 'gemv_f16', schedule: gemv }));
      for (const c of [mm, gv]) {
        expect(c.wgsl.code).toMatch(/^enable f16;/);
        expect(c.wgsl.code).toContain('var<storage, read> w: array<f16>;');
      }
    } finally {
      await d.dispose();
    }
  });
});
