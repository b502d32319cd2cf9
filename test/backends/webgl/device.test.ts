/**
 * The WebGL backend in Node (gpu.js cpu mode: the same rendered kernel source as webgl2 mode, run as JavaScript):
 * the renderer's refusals, how integers travel and where they stop, MAX_TEXTURE_SIZE, the output swap that keeps
 * state handles, and chooseBackend's fallback order. The conformance suite and tiny p-MoD run on this device
 * through test/backends/backends.ts; test/browser/webgl.test.ts runs them on WebGL2 in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { add, cast, decl, f32, gid, global, load, store, v } from '../../../src/kernel/dsl.js';
import type { Kernel } from '../../../src/kernel/ir.js';
import { cacheWriteGatherKernel, gatherFillKernel } from '../../../src/kernel/builders/gather/copies.js';
import { gatherGrid } from '../../../src/kernel/builders/gather/form.js';
import { routeScoreCpuKernel } from '../../../src/kernel/builders/route-score.js';
import { routerScore } from '../../../src/ir/numerics.js';
import { gatherRouteScoreKernel } from '../../../src/kernel/builders/gather/route.js';
import { chooseBackend, FALLBACK_ORDER } from '../../../src/backends/webgl/choose.js';
import { loadGpuJs } from '../../../src/backends/webgl/gpujs.js';
import { openCpuWebGlDevice } from '../../../src/backends/webgl/cpu.js';
import type { WebGlDevice } from '../../../src/backends/webgl/device.js';
import { renderGpuJs } from '../../../src/backends/webgl/render.js';
import { interpret } from '../../../src/backends/reference/index.js';
import { buildGraph, makeTensor, MapStore } from '../../../src/ir/index.js';
import { DeviceExecutor } from '../../../src/runtime/device-executor.js';
import { mismatch } from '../tolerance.js';

const missing = await loadGpuJs().then(() => undefined, (e: Error) => e.message);
if (missing !== undefined) {
  if (process.env.MODC_REQUIRE_WEBGL === '1') throw new Error(`webgl: ${missing} (MODC_REQUIRE_WEBGL=1 requires it)`);
  process.stdout.write(`skipping the WebGL device tests: ${missing}\n`);
}
const maybe = missing === undefined ? describe : describe.skip;

const ints = async (d: WebGlDevice, b: Parameters<WebGlDevice['read']>[0]): Promise<number[]> => Array.from(new Int32Array((await d.read(b)).slice().buffer));

describe('renderer', () => {
  it('renders a gather kernel to one gpu.js function over typed helpers', () => {
    const r = renderGpuJs(gatherFillKernel('iota', 'i32', 'iota'));
    expect(r.source).toMatch(/^function \(mdc_old, p_n\) \{/);
    expect(r.source).toContain('mdc_res = mdc_st_i(v_e);');
    expect(r.args.map((a) => a.kind)).toEqual(['old', 'param']);
    expect([...r.helpers].sort()).toEqual(['mdc_ilt', 'mdc_param_i', 'mdc_st_i']);
  });

  it('refuses kernels WebGL cannot run, naming the kernel and why', () => {
    expect(() => renderGpuJs(routeScoreCpuKernel({ d: 8, alpha: 1, bias: 0, wElem: 'f32', bElem: 'f32', writeRoutable: true, f64: false }, 4))).toThrow(
      /kernel 'route_scores_8_y_f32' is not in gather form: it writes 3 buffers .*the WebGL backend runs gather schedules only/,
    );
    const f64: Kernel = { name: 'k64', buffers: [{ name: 'out', elem: 'f32', access: 'write' }], params: [], shared: [], privates: [], threads: 1, body: store(global('out'), gid(0), cast(cast(f32(1), 'f64'), 'f32')) };
    expect(() => renderGpuJs(f64)).toThrow(/kernel 'k64': cast has type f64/);
    const half: Kernel = { name: 'kh', buffers: [{ name: 'x', elem: 'f16', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }], params: [], shared: [], privates: [], threads: 1, body: store(global('out'), gid(0), load(global('x'), gid(0))) };
    expect(() => renderGpuJs(half)).toThrow(/buffer 'x' is f16/);
  });
});

maybe('device (gpu.js cpu mode)', () => {
  let d: WebGlDevice;
  beforeAll(async () => {
    d = await openCpuWebGlDevice({ maxTextureSize: 8192 });
  });
  afterAll(() => d.dispose());

  it('takes its Target limits from the context limits', async () => {
    expect(d.target.name).toBe('webgl');
    // 8192^2 texels, capped at 2^24 elements (indices are exact in gpu.js's float variables up to there).
    expect(d.target.limits.maxGrid[0]).toBe(2 ** 24);
    expect(d.target.limits.maxBufferBytes).toBe(4 * 2 ** 24);
    expect(d.target.caps.f64).toBe(false);
    const small = await openCpuWebGlDevice({ maxTextureSize: 16 });
    try {
      expect(small.target.limits.maxBufferBytes).toBe(4 * 256);
      expect(() => small.alloc(4 * 257, 'big')).toThrow(/'big' of 1028 bytes needs 257 texels; a buffer is one texture of at most 256 \(MAX_TEXTURE_SIZE 16 squared/);
      const out = small.alloc(4 * 256, 'out');
      const k = await small.compile(gatherFillKernel('fill', 'f32', 1));
      expect(() => small.dispatch(k, [out], [300], gatherGrid(300))).toThrow(/300 outputs exceed one texture of 256 \(MAX_TEXTURE_SIZE 16 squared/);
    } finally {
      await small.dispose();
    }
  });

  it('carries integers exactly up to 2^24 and refuses larger ones', async () => {
    const k: Kernel = {
      name: 'inc', buffers: [{ name: 'x', elem: 'i32', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }], params: [], shared: [], privates: [], threads: 1,
      body: { op: 'block', type: 'void', arg: undefined, src: [decl('e', gid(0)), store(global('out'), v('e'), add(load(global('x'), v('e'), 'i32'), 1))] },
    };
    const c = await d.compile(k);
    const [x, out] = [d.alloc(12, 'x'), d.alloc(12, 'out')];
    d.write(x, new Int32Array([-(2 ** 24), 16777215, -7]));
    d.dispatch(c, [x, out], [], gatherGrid(3));
    expect(await ints(d, out)).toEqual([-(2 ** 24) + 1, 16777216, -6]);
    d.write(x, new Int32Array([1, 16777217, 0]));
    expect(() => d.dispatch(c, [x, out], [], gatherGrid(3))).toThrow(/'x' element 1 is the integer 16777217: integers travel as float32 texel values, exact only up to 2\^24/);
    expect(() => d.alloc(4 * (2 ** 24 + 1), 'index buffer')).toThrow(/'index buffer' of 67108868 bytes needs 16777217 texels; a buffer is one texture of at most 16777216 .*2\^24 so that indices are exact/);
  });

  it('renders an output into new storage and keeps the handle: state updates without copies', async () => {
    const width = 3;
    const k = await d.compile(cacheWriteGatherKernel(width, 'f32'));
    const [rows, cache] = [d.alloc(4 * 2 * width, 'rows'), d.alloc(4 * 4 * width, 'cache')];
    d.write(cache, Float32Array.from({ length: 4 * width }, (_, i) => i));
    d.write(rows, new Float32Array([-1, -2, -3, -4, -5, -6]));
    const handle = cache;
    d.dispatch(k, [rows, cache], [1, 2, 4], gatherGrid(4 * width));
    expect(handle).toBe(cache);
    expect(Array.from(new Float32Array((await d.read(cache)).slice().buffer))).toEqual([0, 1, 2, -1, -2, -3, -4, -5, -6, 9, 10, 11]);
  });

  it('splits a weight larger than one texture into windows of columns (each a gather that keeps the others)', async () => {
    const small = await openCpuWebGlDevice({ maxTextureSize: 16 });
    const exec = new DeviceExecutor('webgl', small);
    try {
      // W [40, 64] is 2560 elements; one texture holds 256: ten windows of 4 rows, each writing its 4 columns of y.
      const graph = buildGraph('split', {}, (b) => b.output('y', b.linear(b.input('x', 'f32', [2, 64]), b.weight('w', 'f32', [40, 64]), b.weight('b', 'f32', [40]))));
      const w = makeTensor('f32', [40, 64], Array.from({ length: 2560 }, (_, i) => Math.fround(Math.sin(i))));
      const weights = new MapStore([['w', w], ['b', makeTensor('f32', [40], Array.from({ length: 40 }, (_, i) => i / 8))]]);
      const inputs = { x: makeTensor('f32', [2, 64], Array.from({ length: 128 }, (_, i) => Math.fround(Math.cos(i * 0.7)))) };
      const prepared = await exec.prepare(graph, weights);
      const got = await prepared.run(inputs);
      expect(mismatch(got.y, interpret(graph, inputs, { weights }).y, { abs: 1e-5, rel: 1e-5 }) ?? 'ok').toBe('ok');
      prepared.dispose();
    } finally {
      await exec.dispose();
    }
  });

  it('computes the canonical router score bit for bit', async () => {
    const [dd, s] = [70, 4];
    const xs = Float32Array.from({ length: s * dd }, (_, i) => Math.fround(Math.sin(i * 0.37) * 5));
    const w = Float32Array.from({ length: dd }, (_, i) => Math.fround(Math.cos(i * 1.1) / 3));
    const c = await d.compile(gatherRouteScoreKernel(dd, 'f32', 'f32'));
    const b = [d.alloc(4 * s * dd, 'x'), d.alloc(4 * dd, 'rw'), d.alloc(4, 'rb'), d.alloc(4 * s, 'scores')] as const;
    d.write(b[0], xs);
    d.write(b[1], w);
    d.write(b[2], new Float32Array([0.125]));
    d.dispatch(c, b, [s], gatherGrid(s));
    const got = Array.from(new Float32Array((await d.read(b[3])).slice().buffer));
    expect(got).toEqual(Array.from({ length: s }, (_, t) => routerScore(xs, t * dd, w, dd, 0.125)));
  });
});

describe('chooseBackend', () => {
  it('tries webgpu, then webgl, then the page\'s wasm, and says why each was passed over', async () => {
    expect(FALLBACK_ORDER).toEqual(['webgpu', 'webgl', 'wasm']);
    // Node has no navigator.gpu and no document: both GPU backends are passed over with their reasons.
    const err = await chooseBackend().then(() => 'chose one', (e: Error) => e.message);
    expect(err).toMatch(/^no backend can run in this browser: webgpu: this page has no navigator\.gpu.*; webgl: no document and no OffscreenCanvas.*; wasm: the page supplied no Wasm executor/);
    const { referenceExecutor } = await import('../../../src/backends/reference/index.js');
    const chosen = await chooseBackend({ wasm: () => Promise.resolve(referenceExecutor()) });
    expect(chosen.name).toBe('wasm');
    expect(chosen.skipped.map((x) => x.name)).toEqual(['webgpu', 'webgl']);
    await chosen.executor.dispose();
    await expect(chooseBackend({ backend: 'webgl' })).rejects.toThrow(/webgl: no document and no OffscreenCanvas/);
  });
});
