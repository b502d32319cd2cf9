/**
 * Horizontal dispatch fusion (src/passes/lower/horizontal.ts): on random graphs the fused program gives exactly
 * the unfused program's outputs on the Wasm device (every workgroup writes its own outputs in its own order), and
 * it fuses a fair share of them; on the decode step of tiny p-MoD, q/k/v and gate/up each become one dispatch
 * (golden program). Dependent dispatches never fuse.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDecodeStep, decodeDynamicSymbols, TINY_PMOD, withoutRouting } from '../../models/index.js';
import { WasmDevice, wasmTarget } from '../../src/backends/wasm/index.js';
import { elementwiseGrid, elementwiseKernel } from '../../src/kernel/builders/elementwise.js';
import type { KernelProgram } from '../../src/kernel/program.js';
import { programText } from '../../src/kernel/program.js';
import type { Target } from '../../src/kernel/target.js';
import { fuseIndependentDispatches } from '../../src/passes/lower/horizontal.js';
import { compile } from '../../src/runtime/compile.js';
import { DeviceResidency, ProgramRunner } from '../../src/runtime/runner.js';
import { arbGraph } from '../../src/testing/index.js';

const RUNS = Number(process.env.MODC_PROP_RUNS ?? 40);
const fused = wasmTarget({ threads: 2 });
const unfused: Target = { ...fused, schedules: { ...fused.schedules, fuseDispatches: false } };
const fuse = (p: KernelProgram): KernelProgram => fuseIndependentDispatches(p, { maxBuffers: fused.limits.maxBuffersPerKernel, verify: true });
const dispatches = (p: KernelProgram): number => p.steps.filter((s) => s.op === 'dispatch').length;

const device = new WasmDevice({ threads: 2, startWorkers: true });
afterAll(() => device.dispose());

describe('horizontal dispatch fusion', () => {
  it('gives the unfused program\'s outputs bit for bit on random graphs, and fuses a fair share of them', async () => {
    let changed = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(arbGraph({ maxSteps: 10 }), async (c) => {
        runs++;
        const plain = compile(c.graph, unfused, { T: c.plan.T, N_v: c.plan.N_v, ...c.symbols });
        const merged = fuse(plain);
        if (dispatches(merged) < dispatches(plain)) changed++;
        const outs = [];
        for (const p of [plain, merged]) {
          const runner = await ProgramRunner.load(device, p, c.weights, new DeviceResidency(device));
          try {
            outs.push(await runner.run(c.inputs));
          } finally {
            runner.dispose();
          }
        }
        const [a, b] = outs;
        for (const name of Object.keys(a ?? {})) {
          const x = a?.[name];
          const y = b?.[name];
          expect(y?.shape).toEqual(x?.shape);
          // Bit patterns, so NaN payloads and signed zeros count too.
          expect(new Uint32Array(Float32Array.from(y?.data ?? []).buffer)).toEqual(new Uint32Array(Float32Array.from(x?.data ?? []).buffer));
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.MODC_PROPS_SEED ?? 20261202) },
    );
    expect(changed).toBeGreaterThanOrEqual(0.1 * runs);
  }, 600_000);

  it('fuses q, k, v and gate, up of a decode step (golden program)', () => {
    const spec = withoutRouting(TINY_PMOD);
    const caps = Object.fromEntries(Array.from({ length: spec.llm.numLayers }, (_, l) => [`C${l}`, 64]));
    const p = compile(buildDecodeStep(spec), fused, { N: 1, ...caps }, { dynamic: decodeDynamicSymbols(spec.llm.numLayers) });
    const names = p.steps.flatMap((s) => (s.op === 'dispatch' ? [p.kernels[s.kernel]?.name ?? ''] : []));
    const d = spec.llm.hiddenSize;
    const q = `gemv_${d}x${d}`;
    expect(names.filter((n) => n.startsWith(`${q}+`))).toHaveLength(spec.llm.numLayers);
    const gu = `gemv_${d}x${spec.llm.intermediateSize}`;
    expect(names.filter((n) => n === `${gu}+${gu}`)).toHaveLength(spec.llm.numLayers);
    const unf = compile(buildDecodeStep(spec), unfused, { N: 1, ...caps }, { dynamic: decodeDynamicSymbols(spec.llm.numLayers) });
    expect(dispatches(p)).toBeLessThan(dispatches(unf));
    const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'lower', 'tiny-dense-decode.program.txt');
    const text = `${programText(p)}\n`;
    if (process.env.UPDATE_GOLDEN) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    expect(text).toBe(readFileSync(file, 'utf8'));
  });

  it('never fuses a dispatch with one whose output it reads, or whose input it overwrites', () => {
    // out1 = in0 + 1; out2 = out1 * 2 (reads out1); out3 = in0 - 1 (independent of both); in0 = ... is not
    // expressible in a program, so the overwrite case writes out1 again after a reader.
    const k = (name: string): ReturnType<typeof elementwiseKernel> =>
      elementwiseKernel({ name, shape: [64], inputs: [{ buffer: 'in0', elem: 'f32', strides: [1] }], out: 'f32', body: ([x]) => x as never });
    const kernels = [k('copy_a'), k('copy_b')];
    const grid = elementwiseGrid(64);
    const step = (kernel: number, from: number, to: number, node: string) => ({ op: 'dispatch' as const, kernel, buffers: { in0: from, out: to }, params: { n: 64 }, grid, parallel: false, node });
    const buffers = [0, 1, 2, 3].map((id) => ({ id, elems: 64, elem: 'f32' as const, role: 'temp' as const, label: `b${id}` }));
    const base: KernelProgram = {
      kernels, buffers, inputs: [], outputs: [], weights: [], constants: [], dynamic: [], status: 0, statusMessages: {},
      steps: [step(0, 0, 1, 'a'), step(1, 1, 2, 'b reads a'), step(0, 0, 3, 'c independent'), step(1, 2, 1, 'd overwrites what b read')],
    };
    const out = fuse(base);
    const nodes = out.steps.flatMap((s) => (s.op === 'dispatch' ? [s.node] : []));
    expect(nodes).toEqual(['a', 'b reads a + c independent', 'd overwrites what b read']);
  });
});
