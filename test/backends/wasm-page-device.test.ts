/**
 * The page Wasm device: a compiled artifact's modules run on the calling thread give exactly the Node WasmDevice's
 * logits, routing and tokens; the device and everything it imports use neither binaryen nor a Node module (so a
 * page bundle needs neither); a kernel the artifact has no module for is an error, not a render.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint, spliceImage } from '../../models/index.js';
import { artifactKernelCache } from '../../src/backends/wasm/artifact-kernels.js';
import { WasmDevice } from '../../src/backends/wasm/device.js';
import { PageWasmDevice } from '../../src/backends/wasm/page-device.js';
import { main } from '../../src/cli/main.js';
import { makeTensor, Rng } from '../../src/index.js';
import { artifactDirSource } from '../../src/io/artifact-dir.js';
import { bindManifest } from '../../src/io/manifest-binding.js';
import { SafetensorsBuffers } from '../../src/io/safetensors/buffer.js';
import { type ArtifactWithCode, loadArtifact } from '../../src/runtime/artifact.js';
import type { Device } from '../../src/runtime/device.js';
import { PlanSession } from '../../src/runtime/plan-session.js';
import { Sampler } from '../../src/runtime/sampling.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { reachable } from '../helpers/imports.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'modc-page-device-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('imports neither binaryen nor any Node module', () => {
  const seen = reachable(ROOT, 'src/backends/wasm/page-device.ts');
  const sources = [...seen.keys()].map((f) => readFileSync(join(ROOT, f), 'utf8'));
  expect(sources.filter((s) => /from ['"](binaryen|node:[a-z_/]+)['"]/.test(s.replace(/^import type .*$/gm, '')))).toEqual([]);
  expect(seen.has('src/backends/wasm/render.ts')).toBe(false);
});

it('runs a compiled artifact exactly as the Node WasmDevice does', async () => {
  const ck = join(dir, 'ck');
  writeCheckpoint(ck, { kind: 'pmod-llava', dtype: 'bf16', seed: 4, numLayers: 4, tokenizer: false });
  const art = join(dir, 'art');
  expect(await main(['compile', ck, '--target', 'wasm', '--vision-tokens', '8', '--text-tokens', '9', '--max-new-tokens', '4', '--out', art], () => undefined, () => undefined)).toBe(0);
  const a: ArtifactWithCode = await loadArtifact(artifactDirSource(art));
  const store = bindManifest('model.safetensors', a.artifact.weights, new SafetensorsBuffers({ 'model.safetensors': new Uint8Array(readFileSync(join(ck, 'model.safetensors'))) }), () => 'not used');
  const rng = new Rng(3);
  const ids = Array.from({ length: 9 }, () => 3 + rng.int(380));
  ids.splice(2, 0, -200);
  const opened = openCheckpoint(ck);
  opened.close();
  const inputs = spliceImage(opened.spec, ids, makeTensor('f32', [8, 64], Array.from({ length: 512 }, () => rng.normal())), 4).inputs;
  const r = a.artifact.renderer;
  if (r.kind !== 'wasm') throw new Error('not a wasm artifact');
  const run = async (device: Device) => {
    const s = await PlanSession.load(device, a, PlanSession.entryFor(a, 8), store);
    try {
      return await s.generate(inputs, { maxNewTokens: 4, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
    } finally {
      s.dispose();
      await device.dispose();
    }
  };
  const page = await run(new PageWasmDevice({ kernels: artifactKernelCache(a), renderer: r }) as Device);
  const node = await run(new WasmDevice({ threads: 2, kernelCache: artifactKernelCache(a), relaxedSimd: r.relaxedFma }) as Device);
  expect(Array.from(page.prefill.allLogits.data)).toEqual(Array.from(node.prefill.allLogits.data));
  for (const name of Object.keys(node.prefill.outputs)) expect(Array.from(page.prefill.outputs[name]?.data ?? [])).toEqual(Array.from(node.prefill.outputs[name]?.data ?? []));
  expect(page.tokens).toEqual(node.tokens);
  expect(page.logits.map((x) => Array.from(x))).toEqual(node.logits.map((x) => Array.from(x)));

  // A device whose cache lacks the kernel refuses it.
  const bare = new PageWasmDevice({ kernels: { get: () => undefined, put: () => undefined }, renderer: r });
  const k = a.kernels[0];
  if (k === undefined) throw new Error('no kernels');
  await expect(bare.compile(k)).rejects.toThrow(/has no compiled module here \(this device renders nothing\)/);
});
