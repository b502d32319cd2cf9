/**
 * The shared kernel cases on WebGPU in Chromium (SwiftShader without a GPU), through the same WebGPU Device code
 * as Node's Dawn, with the Target made from the page's adapter; expected outputs from the Wasm KernelRunner here.
 * Skips with one line without Chromium or playwright-core, fails under MODC_REQUIRE_WEBGPU=1.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { WEBGPU_SKIPS } from '../backends/webgpu/skips.js';
import { expectedOutputs, outputMismatch } from '../kernel/device-harness.js';
import { kernelCases } from '../kernel/kernel-cases.js';
import { decode, encode } from './codec.js';
import { type BrowserPage, browserMissing, openPage } from './harness.js';
import type { PageCase, PageReady, PageResult } from './page.js';

const entry = join(dirname(fileURLToPath(import.meta.url)), 'page.ts');
const cases = kernelCases().filter((c) => WEBGPU_SKIPS[c.name] === undefined);

describe('kernel cases on WebGPU in Chromium', () => {
  let page: BrowserPage | undefined;
  let ready: PageReady | undefined;
  let results: PageResult[] = [];
  let missing: string | undefined;
  const runner = new KernelRunner(1);

  beforeAll(async () => {
    missing = await browserMissing();
    if (missing === undefined) {
      page = await openPage(entry);
      await page.page.waitForFunction('globalThis.__modcReady !== undefined', undefined, { timeout: 60000 });
      ready = await page.page.evaluate<PageReady>('globalThis.__modcReady');
      if (ready.error !== undefined) missing = `the page has no WebGPU adapter: ${ready.error}`;
    }
    if (missing !== undefined) {
      if (process.env.MODC_REQUIRE_WEBGPU === '1') throw new Error(`browser webgpu: ${missing} (MODC_REQUIRE_WEBGPU=1 requires it)`);
      process.stdout.write(`skipping WebGPU kernel cases in Chromium: ${missing}\n`);
      return;
    }
    const payload: PageCase[] = cases.map((c) => ({ name: c.name, kernel: c.kernel, buffers: c.buffers, params: c.params, grid: c.grid }));
    const p = page as BrowserPage;
    await p.page.evaluate(`globalThis.__modcRun(${JSON.stringify(encode(payload))})`);
    await p.page.waitForFunction('globalThis.__modcResults !== undefined', undefined, { timeout: 240000 });
    results = decode<PageResult[]>(await p.page.evaluate<string>('globalThis.__modcResults'));
  }, 300000);

  afterAll(async () => {
    await page?.close();
    await runner.dispose();
  });

  it('makes the Target from the page adapter (requested limits, not compatibility defaults)', () => {
    if (missing !== undefined || ready?.target === undefined || ready.adapterLimits === undefined) return;
    const { target, adapterLimits: lim } = ready;
    process.stdout.write(`chromium adapter: ${ready.adapter}; ${lim.maxStorageBuffersPerShaderStage} storage buffers, ${lim.maxComputeInvocationsPerWorkgroup} invocations\n`);
    expect(target.limits.maxBuffersPerKernel).toBe(lim.maxStorageBuffersPerShaderStage);
    expect(target.limits.maxThreadsPerWorkgroup).toBe(Math.min(lim.maxComputeInvocationsPerWorkgroup ?? 0, lim.maxComputeWorkgroupSizeX ?? 0));
    expect(target.limits.sharedBytes).toBe(lim.maxComputeWorkgroupStorageSize);
    for (const s of Object.values(target.schedules)) if ('threads' in s) expect(s.threads).toBeLessThanOrEqual(target.limits.maxThreadsPerWorkgroup);
  });

  for (const c of cases)
    it(c.name, () => {
      if (missing !== undefined) return;
      const r = results.find((x) => x.name === c.name);
      expect(r === undefined ? 'no result' : 'error' in r ? r.error : 'ok').toBe('ok');
      if (r === undefined || 'error' in r) return;
      for (const [buf, want] of Object.entries(expectedOutputs(c, runner))) expect(`${buf}: ${outputMismatch(r.outputs[buf], want, c.compare) ?? 'ok'}`).toBe(`${buf}: ok`);
    });
});
