/**
 * The tiny p-MoD model through the program runner on ptx-emu: every kernel lowering emits is rendered to PTX and
 * the PTX interpreted. Lowering has builders for CPU schedules only in this build, so the Target carries the Wasm
 * Target's CPU schedules (one thread per workgroup); the GPU schedules join when their builders land. Routing is
 * exact, logits within 2e-4 of the reference, greedy tokens equal.
 */
import { describe, expect, it } from '@jest/globals';
import { buildDecodeStep, buildLanguageModel, layerCapacities, layerRatios, randomLlavaInputs, TINY_PMOD } from '../../../models/index.js';
import { PtxEmuDevice } from '../../../src/backends/cuda-ptx/emu-device.js';
import { interpret, referenceExecutor } from '../../../src/backends/reference/index.js';
import { wasmTarget } from '../../../src/backends/wasm/target.js';
import { DeviceExecutor } from '../../../src/runtime/device-executor.js';
import type { Executor } from '../../../src/runtime/executor.js';
import { randomWeights } from '../../../src/runtime/random.js';
import { Sampler } from '../../../src/runtime/sampling.js';
import { GenerationSession } from '../../../src/runtime/session.js';
import { mismatch } from '../backends.js';

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
const emuExecutor = (): Executor => new DeviceExecutor('ptx-emu', new PtxEmuDevice({ schedules: wasmTarget({ threads: 1 }).schedules }));

describe('tiny p-MoD on ptx-emu', () => {
  it('routes exactly like the reference; logits within 2e-4', async () => {
    const want = interpret(graph, inputs, { weights });
    const ratios = layerRatios(spec.mod?.schedule ?? { kind: 'constant', layout: 'deep_all', ratio: 1 }, spec.llm.numLayers);
    const caps = layerCapacities(ratios, 40);
    const exec = emuExecutor();
    try {
      const prepared = await exec.prepare(graph, weights);
      const got = await prepared.run(inputs);
      ratios.forEach((r, l) => {
        if (r === null) return;
        expect(got[`routing.layer${l}`]?.shape).toEqual([caps[l]]);
        expect(Array.from(got[`routing.layer${l}`]?.data ?? [])).toEqual(Array.from(want[`routing.layer${l}`]?.data ?? []));
      });
      expect(mismatch(got.logits, want.logits, { abs: 2e-4, rel: 2e-4 }) ?? 'ok').toBe('ok');
      prepared.dispose();
    } finally {
      await exec.dispose();
    }
  }, 120_000);

  it('generates the reference greedy tokens with the device-resident KV cache', async () => {
    const decodeGraph = buildDecodeStep(spec);
    const prefillGraph = buildLanguageModel(spec, { kvState: true, lastLogits: true });
    const run = async (exec: Executor): Promise<{ tokens: readonly number[]; logits: readonly Float32Array[] }> => {
      const s = await GenerationSession.create(exec, { prefill: prefillGraph, decode: decodeGraph }, weights, { capacityBlock: 16 });
      try {
        return await s.generate(inputs, { maxNewTokens: 4, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
      } finally {
        s.dispose();
      }
    };
    const exec = emuExecutor();
    try {
      const [want, got] = [await run(referenceExecutor()), await run(exec)];
      expect(got.tokens).toEqual(want.tokens);
      got.logits.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(v - (want.logits[i]?.[j] ?? Number.NaN))).toBeLessThan(2e-3)));
    } finally {
      await exec.dispose();
    }
  }, 120_000);
});
