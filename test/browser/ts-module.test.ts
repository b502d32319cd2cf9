/**
 * The standalone TS module (`modc compile --target webgpu --emit ts --out model.ts`): it imports nothing but
 * modc/runtime-webgpu, type-checks with tsc --strict together with a page that uses it (and a page passing vision
 * rows of the wrong shape does not), and bundled by esbuild into a page it runs tiny p-MoD in Chromium (WebGPU on
 * SwiftShader) with the reference interpreter's logits, routing and greedy tokens. Skips with one line without
 * Chromium or playwright-core, fails under MODC_REQUIRE_WEBGPU=1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { openCheckpoint, spliceImage } from '../../models/index.js';
import { referenceExecutor } from '../../src/backends/reference/index.js';
import { main } from '../../src/cli/main.js';
import { makeTensor, Rng } from '../../src/index.js';
import { Sampler } from '../../src/runtime/sampling.js';
import { GenerationSession } from '../../src/runtime/session.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { type BrowserPage, browserMissing, openPage } from './harness.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNTIME = join(ROOT, 'src', 'backends', 'webgpu', 'runtime.ts');
const dir = mkdtempSync(join(tmpdir(), 'modc-tsmodule-'));
const ck = join(dir, 'ck');
const modelTs = join(dir, 'model.ts');
const NV = 16;
const NEW = 3;

// The prompt: 10 text tokens around the vision rows, as a page would pass them.
const rng = new Rng(21);
const ids = Array.from({ length: 10 }, () => 3 + rng.int(380));
ids.splice(3, 0, -200);
const vision = Array.from({ length: NV * 64 }, () => rng.normal());

const PAGE = `
import { dispose, generate, load, MODEL, prefill, type PrefillInputs } from './model.js';
declare global { var __modcGo: ((weights: string, ids: number[], vision: number[], positions: number[]) => void) | undefined; var __modcResult: string | undefined; }
globalThis.__modcGo = (weights, ids, vision, positions) => {
  void (async () => {
    try {
      const bytes = Uint8Array.from(atob(weights), (c) => c.charCodeAt(0));
      const model = await load(bytes.buffer);
      const inputs: PrefillInputs<16> = {
        input_ids: Int32Array.from(ids),
        vision_embeds: { shape: [16, MODEL.hiddenSize], data: Float32Array.from(vision) },
        vision_positions: { shape: [16], data: Int32Array.from(positions) },
      };
      const pre = await prefill(model, inputs);
      const gen = await generate(model, inputs, { maxNewTokens: ${NEW} });
      globalThis.__modcResult = JSON.stringify({ logits: Array.from(pre.logits.data), routing: Object.fromEntries(Object.entries(pre.routing).map(([k, v]) => [k, Array.from(v)])), tokens: gen.tokens, adapter: model.runtime.device.target.device });
      await dispose(model);
    } catch (e) {
      globalThis.__modcResult = JSON.stringify({ error: String(e instanceof Error ? e.stack ?? e.message : e) });
    }
  })();
};
`;

let missing: string | undefined;
let page: BrowserPage | undefined;

beforeAll(async () => {
  writeCheckpoint(ck, { kind: 'pmod-llava', dtype: 'f32', seed: 12, numLayers: 4, tokenizer: false });
  const r = await main(['compile', ck, '--target', 'webgpu', '--emulated', '--vision-tokens', String(NV), '--text-tokens', '12', '--max-new-tokens', String(NEW), '--emit', 'ts', '--out', modelTs], () => undefined, (s) => {
    throw new Error(s);
  });
  expect(r).toBe(0);
  writeFileSync(join(dir, 'page.ts'), PAGE);
  missing = await browserMissing();
  if (missing !== undefined) {
    if (process.env.MODC_REQUIRE_WEBGPU === '1') throw new Error(`browser webgpu: ${missing} (MODC_REQUIRE_WEBGPU=1 requires it)`);
    process.stdout.write(`skipping the TS module in Chromium: ${missing}\n`);
  }
}, 300_000);

afterAll(async () => {
  await page?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** tsc --strict over `files` with modc/runtime-webgpu mapped to its source; the diagnostics' messages. */
function typeCheck(files: string[]): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: ['@webgpu/types'],
    typeRoots: [join(ROOT, 'node_modules'), join(ROOT, 'node_modules', '@types')],
    skipLibCheck: true,
    baseUrl: ROOT,
    paths: { 'modc/runtime-webgpu': [RUNTIME] },
  };
  const program = ts.createProgram(files, options);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

it('imports only modc/runtime-webgpu and type-checks strictly with a page using it; wrong shapes do not', () => {
  const src = readFileSync(modelTs, 'utf8');
  const imports = [...src.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  expect(imports).toEqual(['modc/runtime-webgpu']);
  expect(src).toMatch(/export async function load\(weights: URL \| ArrayBuffer \| Record<string, ArrayBuffer>, device\?: GPUDevice\): Promise<Model>/);
  expect(src).toMatch(/readonly vision_embeds: Tensor<readonly \[N, 64\], Float32Array>/);
  expect(typeCheck([modelTs, join(dir, 'page.ts')])).toEqual([]);
  // Vision rows of 8 tokens: no entry of the plan has N_v = 8, and the types say so.
  const wrong = join(dir, 'wrong.ts');
  writeFileSync(wrong, `import { type PrefillInputs } from './model.js';\nexport const x: PrefillInputs = { input_ids: new Int32Array(4), vision_embeds: { shape: [8, 64], data: new Float32Array(512) }, vision_positions: { shape: [8], data: new Int32Array(8) } };\n`);
  const errors = typeCheck([modelTs, wrong]);
  expect(errors.length).toBeGreaterThan(0);
  expect(errors.join('\n')).toMatch(/'8' is not assignable to type '16'/);
}, 300_000);

it('bundled into a page, runs in Chromium with the reference logits, routing and tokens', async () => {
  if (missing !== undefined) return;
  const checkpoint = openCheckpoint(ck);
  const spliced = spliceImage(checkpoint.spec, ids, makeTensor('f32', [NV, 64], vision), NEW);
  const positions = Array.from(spliced.inputs.vision_positions?.data ?? []);
  const session = await GenerationSession.create(referenceExecutor(), checkpoint, checkpoint.weights);
  const ref = await session.generate(spliced.inputs, { maxNewTokens: NEW, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
  session.dispose();
  checkpoint.close();

  page = await openPage(join(dir, 'page.ts'), {}, { alias: { 'modc/runtime-webgpu': RUNTIME } });
  const weights = readFileSync(join(ck, 'model.safetensors')).toString('base64');
  await page.page.evaluate(`globalThis.__modcGo(${JSON.stringify(weights)}, ${JSON.stringify(Array.from(spliced.inputs.input_ids?.data ?? []))}, ${JSON.stringify(vision)}, ${JSON.stringify(positions)})`);
  await page.page.waitForFunction('globalThis.__modcResult !== undefined', undefined, { timeout: 400_000 });
  const got = JSON.parse(await page.page.evaluate<string>('globalThis.__modcResult')) as { error?: string; logits: number[]; routing: Record<string, number[]>; tokens: number[]; adapter: string };
  if (got.error !== undefined) throw new Error(`${got.error}\n${page.log.join('\n')}`);
  process.stdout.write(`TS module ran on ${got.adapter}\n`);
  const want = ref.prefill.logits.data;
  expect(got.logits).toHaveLength(want.length);
  let worst = 0;
  want.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (got.logits[i] ?? Number.NaN)))));
  expect(worst).toBeLessThan(1e-3);
  for (const [name, kept] of Object.entries(ref.prefill.outputs).filter(([n]) => n.startsWith('routing.'))) expect(got.routing[name.replace('routing.', '')]).toEqual(Array.from(kept.data));
  expect(got.tokens).toEqual(ref.tokens);
}, 600_000);
