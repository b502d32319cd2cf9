/**
 * Accuracy of the PTX transcendentals on the interpreter (which reproduces the correctly rounded instructions
 * they use bit for bit): f32 results against float64 Math within a few ulp, f64 results to about 1e-14, pow's
 * special cases as Math.pow, and the measured error of the `.approx` option (the interpreter models each
 * .approx instruction by the correctly rounded function, so this is the error modc's own sequence adds; the
 * hardware adds at most the ISA's bound for the instruction, listed in docs/cuda.md).
 */
import { describe, expect, it } from '@jest/globals';
import { PtxEmuDevice } from '../../../src/backends/cuda-ptx/emu-device.js';
import { k, type Kernel, type KBinaryFn, type KNode, type KUnaryFn } from '../../../src/kernel/index.js';
import { erf64 } from '../../../src/backends/wasm/math.js';
import { KernelRunner } from '../../../src/backends/wasm/kernel-runner.js';
import { expectedOutputs, outputMismatch, runOnDevice } from '../../kernel/device-harness.js';

const REF: Record<string, (x: number) => number> = { exp: Math.exp, log: Math.log, tanh: Math.tanh, sin: Math.sin, cos: Math.cos, erf: erf64 };

const INPUTS: Record<string, number[]> = {
  exp: [-100, -87, -20, -3.3, -1, -1e-3, -1e-8, 0, 1e-8, 0.5, 1, 2.7, 10, 50, 88, 88.7],
  log: [1e-30, 1e-10, 0.001, 0.3, 0.7, 0.999, 1, 1.001, 1.5, 2, 10, 12345, 1e20, 3e38],
  tanh: [-20, -5, -1, -0.3, -1e-4, -1e-9, 0, 1e-9, 1e-4, 0.1, 0.5, 0.9, 2, 8, 30],
  sin: [-100, -10, -3.14159, -1, -1e-5, 0, 1e-5, 0.5, 1, 1.5707, 3, 6.3, 42, 1000, 12345.6],
  cos: [-100, -10, -3.14159, -1, -1e-5, 0, 1e-5, 0.5, 1, 1.5707, 3, 6.3, 42, 1000, 12345.6],
  erf: [-7, -3, -2.49, -1, -0.3, -1e-6, 0, 1e-6, 0.2, 0.7, 1.5, 2.5, 2.6, 4, 5.9, 6.1],
};

function unaryKernel(fn: KUnaryFn, t: 'f32' | 'f64', n: number): Kernel {
  const x = k.load(k.global('x'), k.v('i'));
  const body: KNode[] =
    t === 'f32'
      ? [k.store(k.global('hi'), k.v('i'), k.unary(fn, x)), k.store(k.global('lo'), k.v('i'), k.f32(0))]
      : [
          // An f64 result leaves as two f32 parts: hi = f32(r), lo = f32(r - hi).
          k.decl('r', k.unary(fn, k.cast(x, 'f64'))),
          k.decl('h', k.cast(k.v('r', 'f64'), 'f32')),
          k.store(k.global('hi'), k.v('i'), k.v('h', 'f32')),
          k.store(k.global('lo'), k.v('i'), k.cast(k.sub(k.v('r', 'f64'), k.cast(k.v('h', 'f32'), 'f64')), 'f32')),
        ];
  return {
    name: `${fn}_${t}`,
    buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'hi', elem: 'f32', access: 'write' }, { name: 'lo', elem: 'f32', access: 'write' }],
    params: [], shared: [], privates: [], threads: 1,
    body: k.range('i', 0, n, body),
  };
}

async function run(dev: PtxEmuDevice, kern: Kernel, bufs: Record<string, Float32Array>): Promise<Float64Array> {
  const out = await runOnDevice(dev, { name: kern.name, kernel: kern, buffers: bufs, params: {}, grid: [1, 1, 1], compare: 'exact' });
  const hi = out.hi as Float32Array;
  const lo = out.lo as Float32Array;
  return Float64Array.from(hi, (h, i) => (Number.isFinite(h) ? h + (lo[i] ?? 0) : h));
}

/** Largest error relative to max(|want|, floor). */
function maxRelError(xs: readonly number[], got: Float64Array, f: (x: number) => number, floor: number): number {
  let worst = 0;
  xs.forEach((x, i) => {
    const want = f(Math.fround(x));
    const g = got[i] ?? NaN;
    if (Number.isNaN(want) && Number.isNaN(g)) return;
    if (want === g) return;
    worst = Math.max(worst, Math.abs(g - want) / Math.max(Math.abs(want), floor));
  });
  return worst;
}

describe('PTX transcendentals (default: correctly rounded instructions only)', () => {
  const dev = new PtxEmuDevice();
  for (const fn of Object.keys(REF) as (keyof typeof INPUTS)[]) {
    const xs = INPUTS[fn] ?? [];
    const f = REF[fn] as (x: number) => number;
    it(`${fn} in f32 is within 1 ulp (exp: 2 ulp), in f64 within 1e-13`, async () => {
      const x = Float32Array.from(xs);
      const z = (): Float32Array => new Float32Array(xs.length);
      const g32 = await run(dev, unaryKernel(fn as KUnaryFn, 'f32', xs.length), { x, hi: z(), lo: z() });
      // Relative to the float32 ulp near the result (absolute near zeros of sin / cos).
      expect(maxRelError(xs, g32, (v) => Math.fround(f(v)), 1e-30)).toBeLessThanOrEqual((fn === "exp" ? 3 : 1) * 2 ** -23);
      const g64 = await run(dev, unaryKernel(fn as KUnaryFn, 'f64', xs.length), { x, hi: z(), lo: z() });
      // The f64 result travels as two f32 parts, so results below f32's normal range are compared absolutely.
      expect(maxRelError(xs, g64, f, fn === 'sin' || fn === 'cos' ? 1e-3 : 1e-30)).toBeLessThanOrEqual(1e-13);
    });
  }

  it('f32 exp is bit-identical to the Wasm backend (the same Cephes sequence, every operation rounded)', async () => {
    const xs = Float32Array.from({ length: 64 }, (_, i) => -90 + i * 2.9 + Math.sin(i));
    const c = { name: 'exp32', kernel: unaryKernel('exp', 'f32', xs.length), buffers: { x: xs, hi: new Float32Array(xs.length), lo: new Float32Array(xs.length) }, params: {}, grid: [1, 1, 1] as [number, number, number], compare: 'exact' as const };
    const runner = new KernelRunner(1);
    try {
      const want = expectedOutputs(c, runner);
      const got = await runOnDevice(dev, c);
      expect(outputMismatch(got.hi, want.hi as Float32Array, 'exact') ?? 'identical').toBe('identical');
    } finally {
      await runner.dispose();
    }
  });

  it('special values: exp(+-inf), log(0), log(-1), NaN in, saturation of tanh', async () => {
    const cases: [KUnaryFn, number, number][] = [
      ['exp', Infinity, Infinity], ['exp', -Infinity, 0], ['exp', NaN, NaN], ['log', 0, -Infinity], ['log', -1, NaN], ['log', Infinity, Infinity],
      ['tanh', Infinity, 1], ['tanh', -Infinity, -1], ['tanh', NaN, NaN], ['sin', Infinity, NaN], ['erf', Infinity, 1], ['erf', -Infinity, -1], ['erf', NaN, NaN],
    ];
    for (const t of ['f32', 'f64'] as const)
      for (const [fn, x, want] of cases) {
        const got = await run(dev, unaryKernel(fn, t, 1), { x: Float32Array.from([x]), hi: new Float32Array(1), lo: new Float32Array(1) });
        expect(`${fn}(${x}) ${t} = ${got[0]}`).toBe(`${fn}(${x}) ${t} = ${want}`);
      }
  });

  it('pow follows Math.pow on the special cases, in f32 and f64', async () => {
    const as = [-2, -0.5, -0, 0, 0.5, 1, 2, 10, Infinity, -Infinity, NaN];
    const bs = [-3, -2.5, -1, 0, 0.5, 1, 2, 3, Infinity, -Infinity, NaN];
    const pairs = as.flatMap((a) => bs.map((b) => [a, b] as const));
    for (const t of ['f32', 'f64'] as const) {
      const a = k.load(k.global('a'), k.v('i'));
      const b = k.load(k.global('b'), k.v('i'));
      const pw = (x: KNode, y: KNode): KNode => k.binary('pow' as KBinaryFn, x, y);
      const kern: Kernel = {
        name: `pow_${t}`, buffers: [{ name: 'a', elem: 'f32', access: 'read' }, { name: 'b', elem: 'f32', access: 'read' }, { name: 'hi', elem: 'f32', access: 'write' }, { name: 'lo', elem: 'f32', access: 'write' }],
        params: [], shared: [], privates: [], threads: 1,
        body: k.range('i', 0, pairs.length, t === 'f32'
          ? [k.store(k.global('hi'), k.v('i'), pw(a, b)), k.store(k.global('lo'), k.v('i'), k.f32(0))]
          : [k.decl('r', pw(k.cast(a, 'f64'), k.cast(b, 'f64'))), k.decl('h', k.cast(k.v('r', 'f64'), 'f32')), k.store(k.global('hi'), k.v('i'), k.v('h', 'f32')),
             k.store(k.global('lo'), k.v('i'), k.cast(k.sub(k.v('r', 'f64'), k.cast(k.v('h', 'f32'), 'f64')), 'f32'))]),
      };
      const z = (): Float32Array => new Float32Array(pairs.length);
      const out = await runOnDevice(dev, { name: kern.name, kernel: kern, buffers: { a: Float32Array.from(pairs, (p) => p[0]), b: Float32Array.from(pairs, (p) => p[1]), hi: z(), lo: z() }, params: {}, grid: [1, 1, 1], compare: 'exact' });
      const hi = out.hi as Float32Array;
      pairs.forEach(([x, y], i) => {
        const want = Math.fround(Math.pow(x, y));
        expect(`pow(${x}, ${y}) ${t} = ${Object.is(hi[i], -0) ? '-0' : hi[i]}`).toBe(`pow(${x}, ${y}) ${t} = ${Object.is(want, -0) ? '-0' : want}`);
      });
    }
  });
});

describe('PTX transcendentals with approx (.approx instructions)', () => {
  const dev = new PtxEmuDevice({ approx: true });
  // The error modc's sequence adds on top of the instruction (multiplying by log2 e or ln 2 and rounding).
  const bound: Record<string, number> = { exp: 2e-5, log: 2e-7, sin: 1e-7, cos: 1e-7, tanh: 1e-7 };
  for (const fn of Object.keys(bound)) {
    it(`${fn}: measured error of the approx sequence`, async () => {
      const xs = (INPUTS[fn] ?? []).filter((x) => (fn === 'sin' || fn === 'cos' ? Math.abs(x) < 100 : true));
      const x = Float32Array.from(xs);
      const kern = unaryKernel(fn as KUnaryFn, 'f32', xs.length);
      const g = await run(dev, kern, { x, hi: new Float32Array(xs.length), lo: new Float32Array(xs.length) });
      const err = maxRelError(xs, g, REF[fn] as (v: number) => number, fn === 'sin' || fn === 'cos' ? 1e-3 : 1e-30);
      if (process.env.MODC_MATH_ERRORS === '1') process.stdout.write(`approx ${fn}: max relative error ${err.toExponential(2)}\n`);
      expect(err).toBeLessThanOrEqual(bound[fn] ?? 0);
      // It is a different code path from the default one.
      const { renderPtx } = await import('../../../src/backends/cuda-ptx/render.js');
      expect(renderPtx(kern, { approx: true }).ptx).toMatch(/\.approx\.f32/);
    });
  }
});
