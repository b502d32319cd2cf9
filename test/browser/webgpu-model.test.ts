/**
 * Tiny p-MoD compiled and run in Chromium on WebGPU (SwiftShader without a GPU): the page bundles the compiler
 * core, compiles for the page adapter's Target, and generates 32 greedy tokens with the KV cache resident on the
 * GPU. Routing must equal the reference exactly, the last prefill logits be within 2e-4, and the tokens equal.
 * Skips with one line without Chromium or playwright-core, fails under MODC_REQUIRE_WEBGPU=1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDecodeStep, buildLanguageModel, randomLlavaInputs, TINY_PMOD } from '../../models/index.js';
import { referenceExecutor } from '../../src/backends/reference/index.js';
import { randomWeights } from '../../src/runtime/random.js';
import { Sampler } from '../../src/runtime/sampling.js';
import { GenerationSession, type GenerateResult } from '../../src/runtime/session.js';
import { decode } from './codec.js';
import { type BrowserPage, browserMissing, openPage } from './harness.js';
import { MODEL_CASE, nonZeroRouters } from './model-case.js';
import type { ModelPageResult } from './model-page.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'model-page.ts');

describe('tiny p-MoD in Chromium on WebGPU', () => {
  let page: BrowserPage | undefined;
  let got: ModelPageResult | undefined;
  let want: GenerateResult | undefined;
  let missing: string | undefined;

  beforeAll(async () => {
    missing = await browserMissing();
    if (missing === undefined) {
      page = await openPage(entry);
      await page.page.waitForFunction('globalThis.__modcModel !== undefined', undefined, { timeout: 280000 });
      got = decode<ModelPageResult>(await page.page.evaluate<string>('globalThis.__modcModel'));
      if (got.error !== undefined && /WebGPU|adapter/i.test(got.error)) missing = `the page has no WebGPU adapter: ${got.error}`;
    }
    if (missing !== undefined) {
      if (process.env.MODC_REQUIRE_WEBGPU === '1') throw new Error(`browser webgpu: ${missing} (MODC_REQUIRE_WEBGPU=1 requires it)`);
      process.stdout.write(`skipping tiny p-MoD in Chromium: ${missing}\n`);
      return;
    }
    const spec = TINY_PMOD;
    const prefill = buildLanguageModel(spec, { kvState: true, lastLogits: true, exportRouting: true });
    const weights = randomWeights(prefill, MODEL_CASE.seed);
    nonZeroRouters(weights, spec.llm.numLayers);
    const session = await GenerationSession.create(referenceExecutor(), { prefill, decode: buildDecodeStep(spec) }, weights);
    want = await session.generate(randomLlavaInputs(spec, MODEL_CASE.text, MODEL_CASE.vision, MODEL_CASE.seed), { maxNewTokens: MODEL_CASE.tokens, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
    session.dispose();
  }, 300000);

  afterAll(async () => {
    await page?.close();
  });

  it('routes, predicts and generates like the reference', () => {
    if (missing !== undefined || want === undefined) return;
    if (got?.error !== undefined) throw new Error(`the page failed: ${got.error}\n${page?.log.join('\n') ?? ''}`);
    process.stdout.write(`chromium adapter: ${got?.adapter ?? '?'}\n`);
    for (const [name, kept] of Object.entries(want.prefill.outputs)) if (name.startsWith('routing.')) expect(`${name}: ${Array.from(got?.routing?.[name] ?? [])}`).toBe(`${name}: ${Array.from(kept.data)}`);
    const last = got?.lastLogits ?? new Float32Array(0);
    expect(last.length).toBe(want.prefill.logits.data.length);
    let worst = 0;
    want.prefill.logits.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (last[i] ?? Number.NaN)) / Math.max(1, Math.abs(v)))));
    expect(worst).toBeLessThan(2e-4);
    expect(got?.tokens).toEqual(want.tokens);
  });
});
