/**
 * The CUDA device's driver-API marshalling, against a fake libcuda built here with gcc (fake-libcuda.c: device
 * memory is malloc'd host memory and every call is logged with its arguments), and the shared kernel suite on a
 * real NVIDIA GPU where one is installed (skipped with one line elsewhere).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CudaDevice } from '../../../src/backends/cuda-ptx/cuda-device.js';
import { k, type Kernel } from '../../../src/kernel/index.js';
import { describeDeviceCases } from '../../kernel/device-suite.js';

const here = dirname(fileURLToPath(import.meta.url));

describeDeviceCases('cuda', () => CudaDevice.probe());

/** A kernel with every kind of parameter: y[i] = x[i] * scale + offset for i < n. */
const affine: Kernel = {
  name: 'affine',
  buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'y', elem: 'f32', access: 'write' }],
  params: [{ name: 'n', type: 'i32' }, { name: 'scale', type: 'f32' }],
  shared: [],
  privates: [],
  threads: 64,
  body: k.block(
    k.decl('i', k.add(k.mul(k.gid(0), 64), k.lid(0))),
    k.iff(k.lt(k.v('i'), k.param('n')), k.store(k.global('y'), k.v('i'), k.add(k.mul(k.load(k.global('x'), k.v('i')), k.param('scale', 'f32')), k.f32(0.5)))),
  ),
};

describe('CUDA device against a fake libcuda', () => {
  let dir = '';
  let lib = '';
  let oldJit = '';
  let log = '';
  /** Builds the fake with its log path and JIT limit compiled in (jest gives each test file its own process.env). */
  const build = (name: string, maxIsa: number): string => {
    const out = join(dir, name);
    const r = spawnSync('gcc', ['-shared', '-fPIC', '-O1', `-DFAKE_CUDA_LOG="${log}"`, `-DFAKE_CUDA_MAX_ISA=${maxIsa}`, '-o', out, join(here, 'fake-libcuda.c')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc could not build the fake libcuda: ${r.error?.message ?? r.stderr}`);
    return out;
  };
  const calls = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'modc-fakecuda-'));
    log = join(dir, 'calls.log');
    lib = build('libcuda-fake.so', 84);
    oldJit = build('libcuda-fake-isa70.so', 70);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const fresh = (): void => writeFileSync(log, '');

  it('opens the device: attributes become the Target, driver and capability choose .version / .target', async () => {
    fresh();
    const dev = await CudaDevice.open({ library: lib });
    expect(dev.info).toMatchObject({ name: 'Fake H200', computeCapability: 90, driverVersion: 12040, sharedBytesPerBlock: 49152, multiprocessors: 132, totalMemoryBytes: 141 * 2 ** 30 });
    expect([dev.choice.version, dev.choice.target]).toEqual(['7.8', 'sm_90']);
    expect(dev.target.limits.maxGrid).toEqual([2147483647, 65535, 65535]);
    await dev.dispose();
    const c = calls();
    expect(c[0]).toBe('cuInit flags=0');
    expect(c).toContain('cuDevicePrimaryCtxRetain dev=0 -> 0x1000');
    expect(c.some((l) => /^cuStreamCreate flags=1 -> 0x/.test(l))).toBe(true);
    expect(c.slice(-1)[0]).toBe('cuDevicePrimaryCtxRelease_v2 dev=0');
  });

  it('marshals copies and a launch: device pointers, i32 and f32 params, grid, block, the stream', async () => {
    fresh();
    const dev = await CudaDevice.open({ library: lib, profile: true });
    const kern = await dev.compile(affine);
    const x = dev.alloc(400, 'x');
    const y = dev.alloc(400, 'y');
    const data = Float32Array.from({ length: 100 }, (_, i) => i / 4);
    dev.write(x, data);
    dev.dispatch(kern, [x, y], [100, 1.5], [2, 1, 1]);
    await dev.flush();
    // Device memory is host memory in the fake: what was written reads back.
    const back = new Float32Array((await dev.read(x)).buffer);
    expect(Array.from(back)).toEqual(Array.from(data));
    expect(dev.timings.get('affine')).toBe(0.25);
    dev.free(x);
    dev.free(y);
    await dev.dispose();
    const c = calls();
    const hex = (p: number): string => `0x${p.toString(16)}`;
    const stream = /cuStreamCreate flags=1 -> (0x[0-9a-f]+)/.exec(c.join('\n'))?.[1];
    expect(c).toContain('cuModuleLoadDataEx options=4 .version 7.8 .target sm_90');
    expect(c).toContain('cuModuleGetFunction name=affine');
    expect(c).toContain(`cuMemAlloc_v2 bytes=400 -> ${hex(x.ptr)}`);
    expect(c).toContain(`cuMemsetD8Async ptr=${hex(x.ptr)} value=0 bytes=400 stream=${stream}`);
    expect(c).toContain(`cuMemcpyHtoDAsync_v2 dst=${hex(x.ptr)} bytes=400 stream=${stream}`);
    expect(c).toContain(`cuLaunchKernel affine grid=2x1x1 block=64x1x1 shmem=0 stream=${stream} extra=(nil) params=${hex(x.ptr)},${hex(y.ptr)},100,1.5`);
    expect(c).toContain(`cuMemcpyDtoHAsync_v2 src=${hex(x.ptr)} bytes=400 stream=${stream}`);
    const launch = c.findIndex((l) => l.startsWith('cuLaunchKernel'));
    expect(c[launch - 1]).toMatch(/^cuEventRecord event=0x[0-9a-f]+ stream=/);
    expect(c[launch + 1]).toMatch(/^cuEventRecord event=0x[0-9a-f]+ stream=/);
    expect(c.filter((l) => l.startsWith('cuMemFree_v2'))).toEqual([`cuMemFree_v2 ptr=${hex(x.ptr)}`, `cuMemFree_v2 ptr=${hex(y.ptr)}`]);
  });

  it('surfaces the JIT error log and says which PTX ISA the driver accepts', async () => {
    const dev = await CudaDevice.open({ library: oldJit });
    await expect(dev.compile(affine)).rejects.toThrow(
      "cuModuleLoadDataEx failed for kernel 'affine' (.version 7.8, .target sm_90): ptxas application ptx input, line 9; fatal   : Unsupported .version 7.8; current version is '7.0'; the driver (CUDA 12.4) accepts PTX ISA up to 7.0: compile with --ptx-version 7.0",
    );
    await dev.dispose();
  });

  it('refuses an override the driver cannot load, and a kernel over the device limits before launch', async () => {
    await expect(CudaDevice.open({ library: lib, isa: '9.0' })).rejects.toThrow('PTX ISA 9.0 cannot be used for sm_90: sm_90 takes PTX ISA 7.8 - 8.4 with this driver (CUDA 12.4 loads up to 8.4)');
    fresh();
    const dev = await CudaDevice.open({ library: lib });
    const wide = { ...affine, name: 'wide', threads: 2048 };
    const kern = await dev.compile(wide);
    const [x, y] = [dev.alloc(16, 'x'), dev.alloc(16, 'y')];
    expect(() => dev.dispatch(kern, [x, y], [4, 1], [1, 1, 1])).toThrow("cuda: refused before launch: kernel 'wide': 2048 threads per workgroup exceed 1024");
    expect(() => dev.dispatch(kern, [x, y], [4, 1], [1, 70000, 1])).toThrow('grid axis 1 has 70000 workgroups, more than 65535');
    expect(calls().some((l) => l.startsWith('cuLaunchKernel'))).toBe(false);
    await dev.dispose();
  });

  it('where there is no driver the error names libcuda.so.1', async () => {
    const why = await CudaDevice.probe({ library: 'libcuda-missing-for-test.so.1' });
    expect(why).toMatch(/^cuda: cannot load the NVIDIA driver library libcuda-missing-for-test\.so\.1 \(.*\): no NVIDIA driver is installed on this machine$/);
    const { loadDriver } = await import('../../../src/backends/cuda-ptx/cuda/driver.js');
    await expect(loadDriver('/nonexistent/libcuda.so.1')).rejects.toThrow('cannot load the NVIDIA driver library /nonexistent/libcuda.so.1');
  });
});
