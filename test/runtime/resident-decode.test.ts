/**
 * The device-resident KV cache: 100 decode steps of tiny p-MoD on wasm run one compiled decode plan (no program
 * compiled and no kernel rendered after the first step), the cache grows in place by one row per layer per step,
 * and the tokens and logits equal the reference backend's (which keeps the same state on the host).
 */
import { buildDecodeStep, buildLanguageModel, randomLlavaInputs, TINY_PMOD } from '../../models/index.js';
import { referenceExecutor } from '../../src/backends/reference/index.js';
import { wasmExecutor } from '../../src/backends/wasm/index.js';
import { argmax } from '../../src/runtime/sampling.js';
import { randomWeights } from '../../src/runtime/random.js';
import { GenerationSession } from '../../src/runtime/session.js';

const spec = TINY_PMOD;
const prefill = buildLanguageModel(spec, { kvState: true, lastLogits: true, exportRouting: true });
const decode = buildDecodeStep(spec);
const weights = randomWeights(prefill, 5);
for (let l = 0; l < spec.llm.numLayers; l++) {
  const name = `model.layers.${l}.router.router.weight`;
  if (weights.has(name)) {
    const w = weights.get(name);
    for (let i = 0; i < w.data.length; i++) w.data[i] = Math.fround(Math.cos(i * 0.7 + l) * 0.3);
  }
}
const inputs = randomLlavaInputs(spec, 12, 20, 5);

it('runs 100 decode steps on one compiled plan, matching the reference', async () => {
  const steps = 100;
  const exec = wasmExecutor({ threads: 2, startWorkers: true });
  const ref = referenceExecutor();
  const session = await GenerationSession.create(exec, { prefill, decode }, weights, { capacityBlock: 64 });
  const refSession = await GenerationSession.create(ref, { prefill, decode }, weights, { capacityBlock: 64 });
  try {
    const pre = await session.prefill(inputs, steps);
    const refPre = await refSession.prefill(inputs, steps);
    const start = pre.cache.lengths();
    expect(start).toEqual(refPre.cache.lengths());
    // Capacities: each layer's prefill rows + 100, rounded up to 64 (MoD layers cache fewer rows).
    expect(pre.cache.capacities).toEqual(start.map((n) => Math.ceil((n + steps) / 64) * 64));
    expect(Math.min(...pre.cache.capacities)).toBeLessThan(Math.max(...pre.cache.capacities));
    let token = argmax(pre.logits.data);
    let compiledAfterFirst = -1;
    let renderedAfterFirst = -1;
    for (let i = 0; i < steps; i++) {
      const logits = await session.decodeStep(pre.cache, [token], pre.length + i);
      const want = await refSession.decodeStep(refPre.cache, [token], refPre.length + i);
      let worst = 0;
      for (let j = 0; j < want.data.length; j++) worst = Math.max(worst, Math.abs((logits.data[j] ?? 0) - (want.data[j] ?? 0)));
      expect(worst).toBeLessThan(2e-3);
      if (i === 0) {
        compiledAfterFirst = exec.compiler.compiled;
        renderedAfterFirst = exec.device.compiles;
      }
      token = argmax(want.data);
    }
    // Nothing compiled after the first step, though every layer's cache crossed several 64-row boundaries.
    expect(exec.compiler.compiled).toBe(compiledAfterFirst);
    expect(exec.device.compiles).toBe(renderedAfterFirst);
    expect(pre.cache.lengths()).toEqual(start.map((n) => n + steps));
    // The cache on the device holds what the reference holds on the host.
    for (const l of [0, 3]) {
      const [got, exp] = [await pre.cache.layer(l), await refPre.cache.layer(l)];
      expect(got.positions).toEqual(exp.positions);
      let worst = 0;
      for (let j = 0; j < exp.k.data.length; j++) worst = Math.max(worst, Math.abs((got.k.data[j] ?? 0) - (exp.k.data[j] ?? 0)));
      expect(worst).toBeLessThan(1e-3);
    }
    pre.cache.dispose();
    refPre.cache.dispose();
  } finally {
    session.dispose();
    refSession.dispose();
    await exec.dispose();
  }
}, 120_000);

it('refuses a decode step that does not fit in the cache', async () => {
  const session = await GenerationSession.create(referenceExecutor(), { prefill, decode }, weights, { capacityBlock: 1 });
  const pre = await session.prefill(inputs, 1);
  await session.decodeStep(pre.cache, [3], pre.length);
  await expect(session.decodeStep(pre.cache, [4], pre.length + 1)).rejects.toThrow(/room for 0 more rows; 1 do not fit/);
  pre.cache.dispose();
  session.dispose();
});
