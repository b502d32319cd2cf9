/**
 * The conformance suite (every op and fused op, error cases) on WebGPU in Chromium: the page compiles each case
 * for its adapter's Target and runs it with the program runner; results are compared here with the reference
 * interpreter, with the webgpu backend's skips and tolerances. Skips with one line without Chromium or
 * playwright-core, fails under MODC_REQUIRE_WEBGPU=1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interpret } from '../../src/backends/reference/index.js';
import { BACKENDS, mismatch } from '../backends/backends.js';
import { conformanceCases } from '../backends/cases.js';
import { decode, encode } from './codec.js';
import type { PageGraphCase, PageGraphResult } from './conformance-page.js';
import { type BrowserPage, browserMissing, openPage } from './harness.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'conformance-page.ts');
const webgpu = BACKENDS.find((b) => b.name === 'webgpu');
const cases = conformanceCases().filter((c) => webgpu?.skip[c.name] === undefined);

describe('conformance suite on WebGPU in Chromium', () => {
  let page: BrowserPage | undefined;
  let missing: string | undefined;
  const results = new Map<string, PageGraphResult>();

  beforeAll(async () => {
    missing = await browserMissing();
    if (missing === undefined) {
      page = await openPage(entry);
      await page.page.waitForFunction('globalThis.__modcReady !== undefined', undefined, { timeout: 60000 });
      const ready = decode<{ error?: string }>(await page.page.evaluate<string>('globalThis.__modcReady'));
      if (ready.error !== undefined) missing = `the page has no WebGPU adapter: ${ready.error}`;
    }
    if (missing !== undefined) {
      if (process.env.MODC_REQUIRE_WEBGPU === '1') throw new Error(`browser webgpu: ${missing} (MODC_REQUIRE_WEBGPU=1 requires it)`);
      process.stdout.write(`skipping the conformance suite in Chromium: ${missing}\n`);
      return;
    }
    const payload: PageGraphCase[] = cases.map((c) => ({ name: c.name, graph: c.graph, inputs: c.inputs, weights: c.weights.names().map((n) => [n, c.weights.get(n)] as const), ...(c.symbols ? { symbols: c.symbols } : {}) }));
    const p = page as BrowserPage;
    await p.page.evaluate(`globalThis.__modcRun(${JSON.stringify(encode(payload))})`);
    await p.page.waitForFunction('globalThis.__modcResults !== undefined', undefined, { timeout: 900000 });
    for (const r of decode<PageGraphResult[]>(await p.page.evaluate<string>('globalThis.__modcResults'))) results.set(r.name, r);
  }, 1_000_000);

  afterAll(async () => {
    await page?.close();
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (missing !== undefined || webgpu === undefined) return;
    const r = results.get(c.name);
    expect(r).toBeDefined();
    if (r === undefined) return;
    if (c.error) {
      expect('error' in r ? r.error : 'no error').toMatch(c.error);
      return;
    }
    if ('error' in r) throw new Error(`${c.name}: ${r.error}`);
    const want = interpret(c.graph, c.inputs, { weights: c.weights, ...(c.symbols ? { symbols: c.symbols } : {}) });
    for (const [name, w] of Object.entries(want)) {
      const tol = c.compare === 'exact' && (w.dtype === 'i32' || w.dtype === 'u32' || w.dtype === 'bool') ? { abs: 0, rel: 0 } : webgpu.reordered[w.dtype];
      const problem = mismatch(r.outputs[name], w, tol);
      expect(problem === undefined ? 'ok' : `${name}: ${problem}`).toBe('ok');
    }
  });
});
