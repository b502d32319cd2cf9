/**
 * The browser demo (`npm run demo`) in Debian's Chromium: on WebGPU (SwiftShader without a GPU) the page streams
 * tokens and draws one heatmap per MoD layer whose kept count is that layer's k_l in the plan; with WebGPU off it
 * falls back to WebGL2 (gpu.js on SwiftShader), and with ?backend=wasm to Wasm, each keeping the same vision tokens
 * in every layer (routing is exact on every backend); the
 * page is saved as a screenshot (to MODC_DEMO_SCREENSHOT when set). The page's TypeScript is type-checked
 * strictly. Skips with one line without Chromium or playwright-core, fails under MODC_REQUIRE_WEBGPU=1.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { startDemo } from '../../demo/server.js';
import { decodeImage } from '../../src/io/image/decode.js';
import { browserMissing, launchChromium } from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'modc-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface DemoState {
  phase: string;
  backend?: string;
  error?: string;
  text: string;
  tokens: number;
  visionTokens?: number;
  layers: { layer: number; kept: number; capacity: number; keptTokens: number[] }[];
}

it('demo/page.ts type-checks strictly (DOM and WebGPU types)', () => {
  const program = ts.createProgram([join(ROOT, 'demo', 'page.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    // Node's declarations too: a type-only import (the Tokenizer interface) reaches a module that reads files.
    // Nothing of Node runs in the page: esbuild bundles it for the browser platform, where node: modules fail.
    types: ['@webgpu/types', 'node'],
    skipLibCheck: true,
  });
  expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
}, 120_000);

it('streams tokens and draws k_l kept patches per MoD layer on WebGPU, and on the WebGL and Wasm fallbacks', async () => {
  const missing = await browserMissing();
  if (missing !== undefined) {
    if (process.env.MODC_REQUIRE_WEBGPU === '1') throw new Error(`browser webgpu: ${missing} (MODC_REQUIRE_WEBGPU=1 requires it)`);
    process.stdout.write(`skipping the demo in Chromium: ${missing}\n`);
    return;
  }
  const demo = await startDemo({ dataDir: join(dir, 'data') });
  const plan = JSON.parse(readFileSync(join(demo.dataDir, 'webgpu', 'plan.json'), 'utf8')) as { entries: { visionTokens: number; layers: { capacity: number | null }[] }[] };
  const entry = plan.entries[0];
  if (entry === undefined) throw new Error('the demo plan has no entry');
  const capacities = entry.layers.flatMap((l, i) => (l.capacity === null ? [] : [[i, l.capacity] as const]));
  const run = async (webgpu: boolean, query: string, screenshot?: string): Promise<DemoState> => {
    const browser = await launchChromium({ webgpu });
    try {
      const page = await browser.open(`${demo.url}${query}`);
      await page.page.setViewportSize({ width: 1200, height: 900 });
      await page.page.waitForFunction('globalThis.__demo?.phase === "done" || globalThis.__demo?.phase === "error"', undefined, { timeout: 500_000 });
      const state = await page.page.evaluate<DemoState>('globalThis.__demo');
      if (state.phase === 'error') throw new Error(`the demo failed: ${state.error ?? ''}\n${page.log.join('\n')}`);
      // The heatmap as drawn: one panel per MoD layer, its kept count and k_l in data attributes.
      const panels = await page.page.evaluate<{ layer: number; kept: number; capacity: number }[]>(
        'Array.from(document.querySelectorAll("figure.layer"), (f) => ({ layer: Number(f.dataset.layer), kept: Number(f.dataset.kept), capacity: Number(f.dataset.capacity) }))',
      );
      expect(panels.map((p) => [p.layer, p.kept])).toEqual(capacities);
      expect(panels.every((p) => p.kept === p.capacity)).toBe(true);
      if (screenshot !== undefined) await page.page.screenshot({ path: screenshot, fullPage: true });
      return state;
    } finally {
      await browser.close();
    }
  };
  try {
    const shot = process.env.MODC_DEMO_SCREENSHOT ?? join(dir, 'demo.png');
    const gpu = await run(true, '?tokens=6', shot);
    expect(gpu.backend).toMatch(/^WebGPU: /);
    expect(gpu.tokens).toBe(6);
    expect(gpu.visionTokens).toBe(entry.visionTokens);
    const png = decodeImage(readFileSync(shot), shot);
    expect(png.width).toBeGreaterThanOrEqual(1200);
    // The routers' scores are bit-identical on every backend: the same tokens are kept in every layer.
    const gl = await run(false, '?tokens=6');
    expect(gl.backend).toMatch(/^WebGL: .*\(no (navigator\.gpu|WebGPU adapter)\)$/);
    expect(gl.tokens).toBe(6);
    expect(gl.layers.map((l) => l.keptTokens)).toEqual(gpu.layers.map((l) => l.keptTokens));
    const wasm = await run(false, '?tokens=6&backend=wasm');
    expect(wasm.backend).toMatch(/^Wasm \(forced by \?backend=wasm\)/);
    expect(wasm.tokens).toBe(6);
    expect(wasm.layers.map((l) => l.keptTokens)).toEqual(gpu.layers.map((l) => l.keptTokens));
  } finally {
    await demo.close();
  }
}, 900_000);
