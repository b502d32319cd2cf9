/**
 * The browser model test's page: compiles tiny p-MoD in the page (the compiler core, browser-safe: passes,
 * lowering, the runner) for the page adapter's Target, runs prefill and greedy generation with the KV cache
 * resident on the GPU, and reports the last prefill logits, the routing and the tokens. Weights are the seeded
 * random weights the test also builds in Node (same generator, same seed).
 */
import { buildDecodeStep } from '../../models/decode.js';
import { randomLlavaInputs } from '../../models/inputs.js';
import { buildLanguageModel } from '../../models/llama.js';
import { TINY_PMOD } from '../../models/zoo.js';
import { openBrowserDevice } from '../../src/backends/webgpu/browser.js';
import { DeviceExecutor } from '../../src/runtime/device-executor.js';
import { randomWeights } from '../../src/runtime/random.js';
import { Sampler } from '../../src/runtime/sampling.js';
import { GenerationSession } from '../../src/runtime/session.js';
import { encode } from './codec.js';
import { nonZeroRouters, MODEL_CASE } from './model-case.js';

export interface ModelPageResult {
  readonly error?: string;
  readonly adapter?: string;
  readonly lastLogits?: Float32Array;
  readonly routing?: Readonly<Record<string, Int32Array>>;
  readonly tokens?: readonly number[];
  readonly generatedLogits?: readonly Float32Array[];
}

const g = globalThis as unknown as { __modcModel?: string };

async function main(): Promise<void> {
  const spec = TINY_PMOD;
  const prefill = buildLanguageModel(spec, { kvState: true, lastLogits: true, exportRouting: true });
  const decode = buildDecodeStep(spec);
  const weights = randomWeights(prefill, MODEL_CASE.seed);
  nonZeroRouters(weights, spec.llm.numLayers);
  const device = await openBrowserDevice();
  const exec = new DeviceExecutor('webgpu', device);
  const session = await GenerationSession.create(exec, { prefill, decode }, weights);
  try {
    const inputs = randomLlavaInputs(spec, MODEL_CASE.text, MODEL_CASE.vision, MODEL_CASE.seed);
    const res = await session.generate(inputs, { maxNewTokens: MODEL_CASE.tokens, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
    const routing: Record<string, Int32Array> = {};
    for (const [k, v] of Object.entries(res.prefill.outputs)) if (k.startsWith('routing.')) routing[k] = Int32Array.from(v.data);
    const out: ModelPageResult = { adapter: device.target.device, lastLogits: Float32Array.from(res.prefill.logits.data), routing, tokens: res.tokens, generatedLogits: res.logits };
    g.__modcModel = encode(out);
  } finally {
    session.dispose();
    await exec.dispose();
  }
}

main().catch((e: unknown) => {
  g.__modcModel = encode({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) } satisfies ModelPageResult);
});
