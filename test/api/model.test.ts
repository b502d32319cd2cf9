/**
 * The high-level API: loadModel(checkpoint, { backend }) streams an answer with `for await`, the result holds the
 * same tokens and text, the routing of every MoD layer (k_l kept vision tokens for an image), time to first token
 * and tokens/s; the same model loaded from a compiled artifact gives the same tokens; a checkpoint's own Jinja
 * chat_template replaces vicuna_v1.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerCapacities, layerRatios, modelFromHfConfig } from '../../models/index.js';
import { loadModel } from '../../src/api/index.js';
import { main } from '../../src/cli/main.js';
import { newImage } from '../../src/io/image/rgb.js';
import { chatPrompt } from '../../src/io/prompt.js';
import { loadTokenizer } from '../../src/io/tokenizer/index.js';
import type { GeneratedToken, Model } from '../../src/runtime/model.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'modc-api-'));
const ck = join(root, 'ck');
writeCheckpoint(ck, { kind: 'pmod-llava', dtype: 'f32', seed: 9, tokenizer: 'model', visionTower: 'full' });
const cache = join(root, 'cache');
const models: Model[] = [];
afterAll(async () => {
  for (const m of models) await m.dispose();
  rmSync(root, { recursive: true, force: true });
});

async function load(dir: string, opts: Parameters<typeof loadModel>[1]): Promise<Model> {
  const m = await loadModel(dir, opts);
  models.push(m);
  return m;
}

async function collect(m: Model, req: Parameters<Model['generate']>[0]) {
  const stream = m.generate(req);
  const seen: GeneratedToken[] = [];
  for await (const t of stream) seen.push(t);
  return { seen, result: await stream.result };
}

it('streams tokens and reports them with timing and routing', async () => {
  const m = await load(ck, { backend: 'wasm', cacheDir: cache, threads: 2 });
  const { seen, result } = await collect(m, { prompt: 'Hello there', maxNewTokens: 6 });
  expect(seen.map((t) => t.id)).toEqual(result.tokens);
  expect(seen.map((t) => t.index)).toEqual(result.tokens.map((_, i) => i));
  expect(seen.map((t) => t.text).join('')).toBe(result.text);
  expect(result.tokens.length).toBeGreaterThan(0);
  expect(result.timeToFirstTokenMs).toBeGreaterThan(0);
  expect(result.totalMs).toBeGreaterThanOrEqual(result.timeToFirstTokenMs);
  if (result.tokens.length > 1) expect(result.tokensPerSecond).toBeGreaterThan(0);
  expect(result.visionTokens).toBe(0);
  // vicuna_v1 (the checkpoint has no chat_template): the prompt is LLaVA's.
  expect(m.promptText({ prompt: 'Hello there' })).toBe(chatPrompt('Hello there'));
});

it('takes an image: the CLIP tower and projector give N_v rows, each MoD layer keeps k_l of them', async () => {
  const m = await load(ck, { backend: 'wasm', cacheDir: cache, threads: 2 });
  const image = newImage(40, 30, [200, 30, 90]);
  const { result } = await collect(m, { prompt: 'What is this?', image, maxNewTokens: 3 });
  const spec = modelFromHfConfig(JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8')));
  const ratios = spec.mod ? layerRatios(spec.mod.schedule, spec.llm.numLayers) : [];
  const caps = layerCapacities(ratios, result.visionTokens);
  expect(result.visionTokens).toBe(4);
  const layers = Object.keys(result.routing).map(Number);
  expect(layers).toEqual(ratios.flatMap((r, l) => (r === null ? [] : [l])));
  for (const l of layers) {
    const kept = result.routing[l] ?? [];
    expect(kept.length).toBe(caps[l]);
    expect(kept.every((i) => i >= 0 && i < 4)).toBe(true);
  }
  expect(m.promptText({ prompt: 'What is this?', image })).toBe(chatPrompt('<image>\nWhat is this?'));
});

it('gives the same tokens from a compiled artifact as compiling in process', async () => {
  const art = join(root, 'art');
  const r = await main(['compile', ck, '--target', 'wasm', '--vision-tokens', '0', '--text-tokens', '160', '--max-new-tokens', '8', '--out', art], () => undefined, (s) => {
    throw new Error(s);
  });
  expect(r).toBe(0);
  const inProcess = await load(ck, { backend: 'wasm', cacheDir: cache, threads: 2 });
  const fromPlan = await load(art, { checkpoint: ck, threads: 2 });
  const req = { prompt: 'Tell me a story.', maxNewTokens: 8 };
  const [a, b] = [await collect(inProcess, req), await collect(fromPlan, req)];
  expect(b.result.tokens).toEqual(a.result.tokens);
  expect(b.result.text).toBe(a.result.text);
  expect(fromPlan.backend).toMatch(/^wasm \(artifact /);
});

it("encodes an image with the artifact's own tower and projector, as in process", async () => {
  const art = join(root, 'art-vision');
  expect(await main(['compile', ck, '--target', 'wasm', '--vision-tokens', '4', '--text-tokens', '160', '--max-new-tokens', '4', '--out', art], () => undefined, () => undefined)).toBe(0);
  const plan = JSON.parse(readFileSync(join(art, 'plan.json'), 'utf8')) as { vision?: { side: number; weightsDir: string }; weights: { part?: string }[] };
  expect(plan.vision).toMatchObject({ side: 2, weightsDir: 'vision_tower' });
  expect(plan.weights.some((w) => w.part === 'vision')).toBe(true);
  const image = newImage(33, 21, [10, 140, 250]);
  const req = { prompt: 'What colour is it?', image, maxNewTokens: 4 };
  const inProcess = await load(ck, { backend: 'wasm', cacheDir: cache, threads: 2 });
  const fromPlan = await load(art, { checkpoint: ck, threads: 2 });
  const [a, b] = [await collect(inProcess, req), await collect(fromPlan, req)];
  expect(b.result.visionTokens).toBe(4);
  expect(b.result.routing).toEqual(a.result.routing);
  expect(b.result.tokens).toEqual(a.result.tokens);
  expect((await fromPlan.imageView(image))?.view.data).toEqual((await inProcess.imageView(image))?.view.data);
});

it("uses the checkpoint's chat_template from tokenizer_config.json, without a second BOS", async () => {
  const dir = join(root, 'templated');
  writeCheckpoint(dir, { kind: 'pmod-llava', dtype: 'f32', seed: 9, tokenizer: 'model' });
  const cfgPath = join(dir, 'tokenizer_config.json');
  const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(cfgPath, JSON.stringify({ ...cfg, chat_template: "{{ bos_token }}{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}[assistant]" }));
  const m = await load(dir, { backend: 'reference', cacheDir: false });
  expect(m.promptText({ prompt: 'Hi' })).toBe('[user] Hi\n[assistant]');
  const { result } = await collect(m, { prompt: 'Hi', maxNewTokens: 2 });
  // The template's leading "<s>" is dropped: the tokenizer puts BOS first once.
  const tok = loadTokenizer(dir);
  expect(result.promptTokens).toBe(tok.encode('[user] Hi\n[assistant]').length);
  expect(tok.encode('[user] Hi\n[assistant]')[0]).toBe(tok.bosId);
});
