/**
 * The WGSL renderer without a device: golden WGSL of a GPU matmul and of the route kernels, each legalisation
 * rule firing where it must, renamed identifiers, refused f64, and kernels over the adapter's limits refused
 * naming the WebGPU limit. UPDATE_GOLDEN=1 rewrites the golden files.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { legalizeForWgsl, WgslError } from '../../../src/backends/webgpu/legalize.js';
import { renderWgsl } from '../../../src/backends/webgpu/render.js';
import { webgpuTarget, type WebGpuLimits } from '../../../src/backends/webgpu/target.js';
import { gpuGemvKernel } from '../../../src/kernel/builders/gpu/gemv.js';
import { gpuMatmulKernel } from '../../../src/kernel/builders/gpu/matmul.js';
import { compactKernel, routeRankKernel, routeScoreKernel } from '../../../src/kernel/builders/route.js';
import { k, type Kernel, type KNode } from '../../../src/kernel/index.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'golden');

/** The limits of Dawn's llvmpipe adapter here (environment.md), and SwiftShader's in Chromium. */
export const LLVMPIPE: WebGpuLimits = {
  maxComputeInvocationsPerWorkgroup: 1024, maxComputeWorkgroupSizeX: 1024, maxComputeWorkgroupStorageSize: 32768, maxStorageBuffersPerShaderStage: 16,
  maxComputeWorkgroupsPerDimension: 65535, maxStorageBufferBindingSize: 134217728, maxBufferSize: 2147483648, maxUniformBufferBindingSize: 65536,
  minUniformBufferOffsetAlignment: 256, minStorageBufferOffsetAlignment: 256,
};
const SWIFTSHADER: WebGpuLimits = { ...LLVMPIPE, maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxStorageBuffersPerShaderStage: 10 };
const target = webgpuTarget({ limits: LLVMPIPE, features: new Set(), device: 'llvmpipe (test)', emulated: true });

function golden(name: string, text: string): void {
  const file = join(dir, name);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const kernel = (body: KNode, extra: Partial<Kernel> = {}): Kernel => ({
  name: 'kern',
  buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }],
  params: [],
  shared: [],
  privates: [],
  threads: 1,
  body,
  ...extra,
});

describe('golden WGSL', () => {
  it('GPU matmul (register tiles, bf16 weights, gathered rows, bias and GELU-style epilogue)', () => {
    const mm = gpuMatmulKernel({
      name: 'mm', k: 64, n: 48, wElem: 'bf16', gatherA: true,
      schedule: { kind: 'gpu-tiled', tileM: 8, tileN: 8, tileK: 8, threads: 4, sharedTiles: false },
      epilogue: [{ kind: 'bias', buffer: 'bias' }, { kind: 'unary', fn: 'erf' }],
    });
    golden('matmul.wgsl', renderWgsl(mm, target).code);
  });

  it('GPU matmul (shared-memory tiles) and GEMV', () => {
    const schedule = { kind: 'gpu-tiled', tileM: 16, tileN: 16, tileK: 8, threads: 16, sharedTiles: true } as const;
    golden('matmul-shared.wgsl', renderWgsl(gpuMatmulKernel({ name: 'mm_shared', k: 40, n: 24, wElem: 'f32', schedule, epilogue: [] }), target).code);
    const gemv = gpuGemvKernel({ name: 'gemv', k: 64, n: 48, wElem: 'f16', schedule: { kind: 'gpu', maxRows: 2, threads: 8, colsPerGroup: 2 }, epilogue: [] });
    golden('gemv.wgsl', renderWgsl(gemv, target).code);
  });

  it('route kernels: rank (NaN tests by bits, ties to the lower index) and order-preserving compaction', () => {
    golden('route-rank.wgsl', renderWgsl(routeRankKernel(12, true, true), target).code);
    golden('route-compact.wgsl', renderWgsl(compactKernel(12, true), target).code);
  });
});

describe('legalisation rules', () => {
  const applied = (kern: Kernel): Readonly<Record<string, number>> => legalizeForWgsl(kern, target.caps).applied;

  it('fires each rule where WGSL differs from the Kernel IR', () => {
    const ix = k.load(k.global('ix'), k.v('i'), 'i32');
    const x = k.load(k.global('x'), k.v('i'));
    const body = k.range('i', 0, 4, [
      k.store(k.global('oi'), k.v('i'), k.add(k.div(ix, ix), k.rem(ix, k.i32(0)))),
      k.store(k.global('oi'), k.add(k.v('i'), 4), k.binary('shl', ix, ix)),
      k.store(k.global('oi'), k.add(k.v('i'), 8), k.cast(x, 'i32')),
      k.store(k.global('oi'), k.add(k.v('i'), 12), k.cast(k.binary('xor', k.cmp('lt', x, x), k.cmp('ne', x, x)), 'i32')),
      k.store(k.global('out'), k.v('i'), k.add(k.min(x, k.f32(0)), k.cast(k.ngroups(0), 'f32'))),
      k.store(k.global('out'), k.add(k.v('i'), 4), k.cast(k.gid(0), 'f32')),
    ]);
    const kern = kernel(body, { buffers: [...kernel(body).buffers, { name: 'ix', elem: 'i32', access: 'read' }, { name: 'oi', elem: 'i32', access: 'write' }] });
    const a = applied(kern);
    expect(a['int-div-rem-policy']).toBe(2);
    expect(a['shift-amount-mod-32']).toBe(1);
    expect(a['float-to-int-saturate']).toBe(1);
    expect(a['nan-by-bits']).toBe(1);
    expect(a['bool-via-i32']).toBe(1);
    expect(a['nan-min-max']).toBe(1);
    expect(a['fold-grid']).toBe(2);
    const code = renderWgsl(kern, target).code;
    expect(code).not.toMatch(/\^/); // bool xor became !=
    expect(code).toContain('& 31i'); // shift amount modulo 32
    expect(code).toContain('mdc_p.mdc_ngroups_x');
  });

  it('renames identifiers WGSL reserves or the renderer owns', () => {
    const body = k.block(k.decl('loop', k.load(k.global('var'), 0)), k.decl('mdc_lid', k.param('fn', 'f32')), k.store(k.global('out'), 0, k.add(k.v('loop', 'f32'), k.v('mdc_lid', 'f32'))));
    const kern = kernel(body, { buffers: [{ name: 'var', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }], params: [{ name: 'fn', type: 'f32' }] });
    const r = legalizeForWgsl(kern, target.caps);
    expect([...r.renamed.entries()].sort()).toEqual([['fn', 'fn_k'], ['loop', 'loop_k'], ['mdc_lid', 'kmdc_lid_k'], ['var', 'var_k']]);
    const code = renderWgsl(kern, target).code;
    expect(code).toContain('var<storage, read> var_k: array<f32>;');
    expect(code).toContain('var loop_k: f32 = var_k[0i];');
    expect(code).toContain('fn_k: f32,');
  });

  it('broadcasts a barrier loop bound read from read_write memory with workgroupUniformLoad', () => {
    const body = k.range('j', 0, k.load(k.global('count'), 0, 'i32'), [k.store(k.shared('s'), k.lid(0), k.f32(1)), k.barrier()]);
    const kern = kernel(body, { buffers: [{ name: 'count', elem: 'i32', access: 'readwrite' }], shared: [{ name: 's', elem: 'f32', length: 4 }], threads: 4 });
    expect(applied(kern)['uniform-loop-bounds']).toBe(1);
    expect(renderWgsl(kern, target).code).toContain('workgroupUniformLoad(&mdc_uniform[0i])');
    // The same bound from a read-only buffer is uniform for WGSL too: nothing to do.
    const ro = kernel(body, { buffers: [{ name: 'count', elem: 'i32', access: 'read' }], shared: [{ name: 's', elem: 'f32', length: 4 }], threads: 4 });
    expect(applied(ro)['uniform-loop-bounds']).toBeUndefined();
  });

  it('holds packed 16-bit and 8-bit buffers in u32 words, atomic when written', () => {
    const body = k.range('i', 0, 8, [k.store(k.global('h'), k.v('i'), k.load(k.global('b'), k.v('i'))), k.store(k.global('q'), k.v('i'), k.load(k.global('u'), k.v('i'), 'i32'))]);
    const kern = kernel(body, { buffers: [{ name: 'b', elem: 'bf16', access: 'read' }, { name: 'h', elem: 'f16', access: 'write' }, { name: 'u', elem: 'u8', access: 'read' }, { name: 'q', elem: 'u8', access: 'write' }] });
    const code = renderWgsl(kern, target).code;
    expect(code).toContain('var<storage, read> b: array<u32>;');
    expect(code).toContain('var<storage, read_write> h: array<atomic<u32>>;');
    expect(code).toContain('atomicAnd(&h[w], ~(0xffffu << sh));');
    expect(code).toContain('atomicOr(&q[w], (x & 0xffu) << sh);');
    // Native f16 loads only where the adapter has shader-f16.
    const f16 = webgpuTarget({ limits: LLVMPIPE, features: new Set(['shader-f16']), device: 'f16 adapter', emulated: false });
    const ro = kernel(k.store(k.global('out'), 0, k.load(k.global('hf'), 0)), { buffers: [{ name: 'hf', elem: 'f16', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }] });
    expect(renderWgsl(ro, f16).code).toMatch(/^enable f16;\n[^]*var<storage, read> hf: array<f16>;/);
    expect(renderWgsl(ro, target).code).toContain('var<storage, read> hf: array<u32>;');
  });
});

describe('refusals', () => {
  it('refuses f64 naming the kernel and the node', () => {
    expect(() => renderWgsl(routeScoreKernel(16, 0.2, 1), target)).toThrow(/kernel 'route_scores_16': node \/range\/block\[0\]\/decl is f64, which WGSL lacks/);
  });

  it('refuses kernels over the adapter limits, naming the WebGPU limit', () => {
    const ss = webgpuTarget({ limits: SWIFTSHADER, features: new Set(), device: 'SwiftShader (test)', emulated: true });
    const wide = kernel(k.store(k.global('out'), k.lid(0), k.f32(1)), { threads: 512 });
    expect(() => renderWgsl(wide, ss)).toThrow(/512 threads per workgroup exceed the adapter's maxComputeInvocationsPerWorkgroup \/ maxComputeWorkgroupSizeX of 256/);
    expect(renderWgsl(wide, target).threads).toBe(512);
    const many = kernel(k.store(k.global('out'), 0, k.f32(1)), { buffers: [...Array.from({ length: 11 }, (_, i) => ({ name: `b${i}`, elem: 'f32' as const, access: 'read' as const })), { name: 'out', elem: 'f32', access: 'write' }] });
    expect(() => renderWgsl(many, ss)).toThrow(/12 storage buffers exceed the adapter's maxStorageBuffersPerShaderStage of 10/);
    const big = kernel(k.store(k.shared('s'), 0, k.f32(1)), { shared: [{ name: 's', elem: 'f32', length: 9000 }] });
    expect(() => renderWgsl(big, ss)).toThrow(WgslError);
    expect(() => renderWgsl(big, ss)).toThrow(/36000 bytes of workgroup memory exceed the adapter's maxComputeWorkgroupStorageSize of 32768/);
  });

  it('makes the Target from the adapter: threads of every schedule within its limits', () => {
    const ss = webgpuTarget({ limits: SWIFTSHADER, features: new Set(['subgroups']), device: 'SwiftShader (test)', emulated: true, subgroupSize: 4 });
    expect(ss.limits.maxBuffersPerKernel).toBe(10);
    expect(ss.caps).toMatchObject({ f64: false, f64Math: false, f16Storage: true, bf16Storage: true, f16Math: false, subgroups: true, subgroupSize: 4, aliasedBindings: false });
    for (const s of Object.values(ss.schedules)) if ('threads' in s) expect(s.threads).toBeLessThanOrEqual(256);
    expect(ss.limits.maxGrid[0]).toBeGreaterThan(65535);
  });
});
