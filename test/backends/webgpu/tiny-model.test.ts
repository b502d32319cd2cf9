/**
 * The tiny p-MoD model through the program runner (DeviceExecutor) on the WebGPU Device over Dawn: routing
 * decisions exactly as the reference, logits within 2e-4, and a second run bit-identical. Matmul and GEMV use the
 * packed CPU schedule here until lowering takes the GPU matmul builders (like the registry's ptx-emu entry); the
 * other families run their GPU schedules. Skips with one line without an adapter (fails under MODC_REQUIRE_WEBGPU=1).
 */
import { buildLanguageModel, layerCapacities, layerRatios, randomLlavaInputs, TINY_PMOD } from '../../../models/index.js';
import { interpret } from '../../../src/backends/reference/index.js';
import { WebGpuUnavailable } from '../../../src/backends/webgpu/adapter.js';
import { openDawnDevice } from '../../../src/backends/webgpu/node.js';
import { CPU_TILING } from '../../../src/kernel/builders/matmul.js';
import { DeviceExecutor } from '../../../src/runtime/device-executor.js';
import { randomWeights } from '../../../src/runtime/random.js';
import { Sampler } from '../../../src/runtime/sampling.js';
import { GenerationSession } from '../../../src/runtime/session.js';
import { referenceExecutor } from '../../../src/backends/reference/index.js';
import { buildDecodeStep } from '../../../models/index.js';
import type { HostArray } from '../../../src/backends/wasm/kernel-runner.js';
import { outputMismatch } from '../../kernel/device-harness.js';

const mismatch = (got: { data: unknown } | undefined, want: { data: unknown } | undefined, tol: { abs: number; rel: number }): string | undefined =>
  want === undefined ? 'no reference output' : outputMismatch(got?.data as HostArray | undefined, want.data as HostArray, tol);

const spec = TINY_PMOD;
const graph = buildLanguageModel(spec, { exportRouting: true });
const weights = randomWeights(graph, 11);
for (let l = 0; l < spec.llm.numLayers; l++) {
  const name = `model.layers.${l}.router.router.weight`;
  if (weights.has(name)) {
    const w = weights.get(name);
    for (let i = 0; i < w.data.length; i++) w.data[i] = Math.fround(Math.sin(i * 1.3 + l) * 0.2);
  }
}
const inputs = randomLlavaInputs(spec, 20, 40, 11);
const ratios = layerRatios(spec.mod?.schedule ?? { kind: 'constant', layout: 'deep_all', ratio: 1 }, spec.llm.numLayers);
const caps = layerCapacities(ratios, 40);

/** A DeviceExecutor on Dawn, or undefined after one line saying what is missing. */
async function openExecutor(): Promise<DeviceExecutor<unknown, unknown> | undefined> {
  try {
    const device = await openDawnDevice({ schedules: { matmul: { kind: 'cpu-packed', tiling: CPU_TILING }, gemv: { kind: 'cpu-packed', maxRows: 4, tiling: CPU_TILING } } });
    return new DeviceExecutor('webgpu', device) as DeviceExecutor<unknown, unknown>;
  } catch (e) {
    if (!(e instanceof WebGpuUnavailable)) throw e;
    if (process.env.MODC_REQUIRE_WEBGPU === '1') throw new Error(`webgpu: ${e.message} (MODC_REQUIRE_WEBGPU=1 requires it)`);
    process.stdout.write(`skipping tiny p-MoD on webgpu: ${e.message}\n`);
    return undefined;
  }
}

describe('tiny p-MoD on webgpu (Dawn)', () => {
  it('routes exactly like the reference, logits within 2e-4, deterministic', async () => {
    const exec = await openExecutor();
    if (exec === undefined) return;
    try {
      const want = interpret(graph, inputs, { weights });
      const prepared = await exec.prepare(graph, weights);
      const got = await prepared.run(inputs);
      ratios.forEach((r, l) => {
        if (r === null) return;
        const name = `routing.layer${l}`;
        expect(got[name]?.shape).toEqual([caps[l]]);
        expect(Array.from(got[name]?.data ?? [])).toEqual(Array.from(want[name]?.data ?? []));
      });
      expect(mismatch(got.logits, want.logits, { abs: 2e-4, rel: 2e-4 }) ?? 'ok').toBe('ok');
      const again = await prepared.run(inputs);
      expect(Array.from(again.logits?.data ?? [])).toEqual(Array.from(got.logits?.data ?? []));
      prepared.dispose();
    } finally {
      await exec.dispose();
    }
  }, 300000);

  it('generates the reference greedy tokens with the device-resident KV cache', async () => {
    const exec = await openExecutor();
    if (exec === undefined) return;
    const graphs = { prefill: buildLanguageModel(spec, { kvState: true, lastLogits: true }), decode: buildDecodeStep(spec) };
    const opts = { maxNewTokens: 6, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] };
    try {
      const ref = await GenerationSession.create(referenceExecutor(), graphs, weights, { capacityBlock: 16 });
      const want = await ref.generate(inputs, opts);
      ref.dispose();
      const s = await GenerationSession.create(exec, graphs, weights, { capacityBlock: 16 });
      const got = await s.generate(inputs, opts);
      s.dispose();
      expect(got.tokens).toEqual(want.tokens);
      got.logits.forEach((row, i) => row.forEach((x, j) => expect(Math.abs(x - (want.logits[i]?.[j] ?? Number.NaN))).toBeLessThan(2e-3)));
    } finally {
      await exec.dispose();
    }
  }, 300000);
});
