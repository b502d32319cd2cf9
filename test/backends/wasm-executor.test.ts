/** The Wasm executor's contract details: plan cache, memory limit errors, relaxed-SIMD probe, CLI registration. */
import { buildLanguageModel, randomLlavaInputs, TINY_PMOD } from '../../models/index.js';
import { relaxedSimdAvailable, wasmExecutor, wasmTarget } from '../../src/backends/wasm/index.js';
import { BACKEND_NAMES } from '../../src/cli/backends.js';
import { buildGraph, type HostTensor, makeTensor, type TensorStore } from '../../src/ir/index.js';
import { lowerToProgram, planKey } from '../../src/passes/lower/index.js';
import { programText } from '../../src/kernel/program.js';
import { DeviceMemoryError } from '../../src/runtime/runner.js';
import { randomWeights } from '../../src/runtime/random.js';

describe('wasm executor', () => {
  it('is registered as a CLI backend', () => {
    expect(BACKEND_NAMES).toContain('wasm');
  });

  it('probes relaxed SIMD once (Node 20 enables it through the V8 flag)', () => {
    const a = relaxedSimdAvailable();
    expect(relaxedSimdAvailable()).toBe(a);
    expect(typeof a).toBe('boolean');
  });

  it('refuses weights that cannot fit in 4 GiB with a clear error', async () => {
    const g = buildGraph('huge', {}, (b) => {
      const x = b.input('x', 'f32', [1, 16384]);
      b.output('y', b.linear(x, b.weight('big.weight', 'f16', [140000, 16384])));
    });
    // get() must not be called: the check comes from dtypes and shapes alone, before any weight is read.
    const store: TensorStore = {
      has: () => true,
      get: (): HostTensor => {
        throw new Error('a weight was read before the memory check');
      },
    };
    const exec = wasmExecutor({ threads: 1 });
    try {
      await expect(exec.prepare(g, store)).rejects.toThrow(DeviceMemoryError);
      await expect(exec.prepare(g, store)).rejects.toThrow(/needs 4\.27 GiB of weights \(in their stored dtypes\).*holds 4\.00 GiB/);
    } finally {
      await exec.dispose();
    }
  });

  it('names a missing weight', async () => {
    const g = buildGraph('w', {}, (b) => b.output('y', b.linear(b.input('x', 'f32', [2, 4]), b.weight('proj.weight', 'f32', [3, 4]))));
    const exec = wasmExecutor({ threads: 1 });
    try {
      await expect(exec.prepare(g, { has: () => false, get: () => makeTensor('f32', [1]) })).rejects.toThrow(/weight 'proj.weight' is not in the weight store/);
    } finally {
      await exec.dispose();
    }
  });

  it('lowers a program per symbol values: the plan is data keyed by graph hash and symbols', () => {
    const g = buildLanguageModel(TINY_PMOD, { exportRouting: true });
    const target = wasmTarget({ threads: 1 });
    const p16 = lowerToProgram(g, { T: 16, N_v: 32 }, { target });
    const p8 = lowerToProgram(g, { T: 16, N_v: 8 }, { target });
    expect(planKey(g, { T: 16, N_v: 32 })).not.toBe(planKey(g, { T: 16, N_v: 8 }));
    expect(planKey(g, { N_v: 32, T: 16 })).toBe(planKey(g, { T: 16, N_v: 32 }));
    // Every temporary allocated is freed once, except the outputs.
    const outs = new Set(p16.outputs.map((o) => o.buffer));
    const allocs = p16.steps.filter((s) => s.op === 'alloc').map((s) => s.buffer);
    const frees = p16.steps.filter((s) => s.op === 'free').map((s) => s.buffer);
    expect(new Set(frees).size).toBe(frees.length);
    expect(allocs.filter((b) => !outs.has(b)).sort()).toEqual([...frees].sort());
    // Linear weights are packed once; the router, norms and the embedding stay plain.
    expect(p16.weights.filter((w) => w.layout.kind === 'packed').length).toBe(TINY_PMOD.llm.numLayers * 7 + 1);
    expect(programText(p8)).toMatch(/dispatch route_scores_64/);
    expect(programText(p8)).toMatch(/dispatch route_select_/);
    expect(programText(p8)).toMatch(/dispatch string_scatter_64/);
  });

  it('caches plans and gives identical results on repeated runs', async () => {
    const g = buildLanguageModel(TINY_PMOD, { exportRouting: true });
    const w = randomWeights(g, 1);
    const exec = wasmExecutor({ threads: 2 });
    try {
      const prepared = await exec.prepare(g, w);
      const a = await prepared.run(randomLlavaInputs(TINY_PMOD, 8, 12, 1));
      const b = await prepared.run(randomLlavaInputs(TINY_PMOD, 8, 12, 1));
      const c = await prepared.run(randomLlavaInputs(TINY_PMOD, 8, 20, 1));
      expect(Array.from(b.logits?.data ?? [])).toEqual(Array.from(a.logits?.data ?? []));
      expect(c.logits?.shape).toEqual([28, TINY_PMOD.llm.vocabSize]);
      prepared.dispose();
    } finally {
      await exec.dispose();
    }
  });
});
