/**
 * The WebGL fallback in Chromium with WebGPU off (WebGL2 on SwiftShader), through gpu.js's webgl2 mode: the
 * page chooses its backend (webgpu -> webgl -> wasm, so WebGL here), then runs the conformance suite against the
 * reference (in the page) and tiny p-MoD prefill and greedy generation against the reference (here): routing
 * exact, last prefill logits within 2e-4, the tokens equal. Skips with one line without Chromium or
 * playwright-core or gpu.js, fails under MODC_REQUIRE_WEBGL=1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDecodeStep, buildLanguageModel, randomLlavaInputs, TINY_PMOD } from '../../models/index.js';
import { referenceExecutor } from '../../src/backends/reference/index.js';
import { loadGpuJs } from '../../src/backends/webgl/gpujs.js';
import { randomWeights } from '../../src/runtime/random.js';
import { Sampler } from '../../src/runtime/sampling.js';
import { GenerationSession, type GenerateResult } from '../../src/runtime/session.js';
import { BACKENDS } from '../backends/backends.js';
import { conformanceCases } from '../backends/cases.js';
import { decode } from './codec.js';
import { type BrowserPage, browserMissing, openPage } from './harness.js';
import { MODEL_CASE, nonZeroRouters } from './model-case.js';
import type { CaseResult, ModelResult, WebGlReady, WebGlRequest } from './webgl-page.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'webgl-page.ts');
const entryOf = BACKENDS.find((b) => b.name === 'webgl');
if (entryOf === undefined) throw new Error('test/backends/backends.ts has no webgl entry');
const webgl = entryOf;

async function request<R>(page: BrowserPage, req: WebGlRequest, timeout: number): Promise<R> {
  await page.page.evaluate('globalThis.__modcResults = undefined');
  await page.page.evaluate(`globalThis.__modcRun(${JSON.stringify(JSON.stringify(req))})`);
  await page.page.waitForFunction('globalThis.__modcResults !== undefined', undefined, { timeout });
  return decode<R>(await page.page.evaluate<string>('globalThis.__modcResults'));
}

describe('WebGL fallback in Chromium (WebGPU off)', () => {
  let page: BrowserPage | undefined;
  let ready: WebGlReady | undefined;
  let missing: string | undefined;

  beforeAll(async () => {
    missing = await browserMissing();
    if (missing === undefined) missing = await loadGpuJs().then(() => undefined, (e: Error) => e.message);
    if (missing === undefined) {
      page = await openPage(entry, {}, { webgpu: false });
      await page.page.waitForFunction('globalThis.__modcReady !== undefined', undefined, { timeout: 60000 });
      ready = await page.page.evaluate<WebGlReady>('globalThis.__modcReady');
      if (ready.error !== undefined) missing = `the page has no backend: ${ready.error}`;
      else if (ready.backend !== 'webgl') missing = `the page chose ${ready.backend ?? '?'} instead of webgl (is WebGPU really off?)`;
    }
    if (missing !== undefined) {
      if (process.env.MODC_REQUIRE_WEBGL === '1') throw new Error(`browser webgl: ${missing} (MODC_REQUIRE_WEBGL=1 requires it)`);
      process.stdout.write(`skipping WebGL in Chromium: ${missing}\n`);
    }
  }, 120000);

  afterAll(async () => {
    await page?.close();
  });

  it('falls back from WebGPU to WebGL, saying why', () => {
    if (missing !== undefined) return;
    process.stdout.write(`chromium webgl: ${ready?.device ?? '?'}\n`);
    expect(ready?.skipped?.map((s) => s.name)).toEqual(['webgpu']);
    expect(ready?.device).toMatch(/MAX_TEXTURE_SIZE \d+/);
  });

  it('passes the conformance suite', async () => {
    if (missing !== undefined || page === undefined) return;
    const results = await request<CaseResult[]>(page, { kind: 'conformance', skip: Object.keys(webgl.skip), reordered: webgl.reordered }, 500000);
    const names = conformanceCases().map((c) => c.name).filter((n) => webgl.skip[n] === undefined);
    expect(results.map((r) => r.name)).toEqual(names);
    const slow = [...results].sort((a, b) => b.ms - a.ms).slice(0, 3);
    process.stdout.write(`webgl conformance in chromium: ${results.length} cases, ${(results.reduce((a, r) => a + r.ms, 0) / 1000).toFixed(1)} s; slowest ${slow.map((r) => `${r.name} ${r.ms.toFixed(0)} ms`).join(', ')}\n`);
    for (const r of results) expect(`${r.name}: ${r.problem ?? 'ok'}`).toBe(`${r.name}: ok`);
  }, 520000);

  it('runs tiny p-MoD prefill and greedy generation like the reference', async () => {
    if (missing !== undefined || page === undefined) return;
    const got = await request<ModelResult>(page, { kind: 'model' }, 280000);
    if (got.error !== undefined) throw new Error(`the page failed: ${got.error}\n${page.log.join('\n')}`);
    const spec = TINY_PMOD;
    const prefill = buildLanguageModel(spec, { kvState: true, lastLogits: true, exportRouting: true });
    const weights = randomWeights(prefill, MODEL_CASE.seed);
    nonZeroRouters(weights, spec.llm.numLayers);
    const session = await GenerationSession.create(referenceExecutor(), { prefill, decode: buildDecodeStep(spec) }, weights);
    let want: GenerateResult;
    try {
      want = await session.generate(randomLlavaInputs(spec, MODEL_CASE.text, MODEL_CASE.vision, MODEL_CASE.seed), { maxNewTokens: MODEL_CASE.tokens, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
    } finally {
      session.dispose();
    }
    process.stdout.write(`webgl tiny p-MoD in chromium: prefill + ${MODEL_CASE.tokens} tokens in ${((got.ms ?? 0) / 1000).toFixed(1)} s\n`);
    for (const [name, kept] of Object.entries(want.prefill.outputs)) if (name.startsWith('routing.')) expect(`${name}: ${Array.from(got.routing?.[name] ?? [])}`).toBe(`${name}: ${Array.from(kept.data)}`);
    const last = got.lastLogits ?? new Float32Array(0);
    expect(last.length).toBe(want.prefill.logits.data.length);
    let worst = 0;
    want.prefill.logits.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (last[i] ?? Number.NaN)) / Math.max(1, Math.abs(v)))));
    expect(worst).toBeLessThan(2e-4);
    expect(got.tokens).toEqual(want.tokens);
  }, 300000);
});
