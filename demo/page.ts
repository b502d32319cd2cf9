/**
 * The demo page: a compiled tiny p-MoD LLaVA model run in the browser without the compiler. WebGPU when the page
 * has an adapter (pipelines from the artifact's WGSL), else WebGL2 (the gpu.js artifact's kernels), else Wasm (the
 * artifact's modules on the page's thread).
 * The image goes through the artifact's CLIP tower and projector, the answer streams token by token, and each MoD
 * layer's routing is drawn over the image as the tower saw it, with k_l and a bar of kept vs dense tokens.
 * `?backend=webgl` / `?backend=wasm` force a fallback, `?tokens=N` sets the answer's length. The state is on `globalThis.__demo`
 * for tests.
 */
/// <reference lib="dom" />
/// <reference types="@webgpu/types" />
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { artifactKernelCache } from '../src/backends/wasm/artifact-kernels.js';
import { PageWasmDevice } from '../src/backends/wasm/page-device.js';
import { openAdapterDevice } from '../src/backends/webgpu/adapter.js';
import { artifactShaders, missingFeatures } from '../src/backends/webgpu/artifact-shaders.js';
import { openWebGlDevice } from '../src/backends/webgl/browser.js';
import { makeTensor } from '../src/ir/index.js';
import { VICUNA_TEMPLATE } from '../src/io/chat-template.js';
import { cropPixels, keptMask } from '../src/io/image/heatmap.js';
import { type RgbImage, rgbImage } from '../src/io/image/rgb.js';
import { bindManifest } from '../src/io/manifest-binding.js';
import { IMAGE_TOKEN_INDEX } from '../src/io/prompt.js';
import { SafetensorsBuffers } from '../src/io/safetensors/buffer.js';
import { type ArtifactWithCode, loadArtifact } from '../src/runtime/artifact.js';
import type { Device } from '../src/runtime/device.js';
import { type Generator, Model, type SpliceFn } from '../src/runtime/model.js';
import { PlanSession } from '../src/runtime/plan-session.js';
import { PlanVision, towerInput } from '../src/runtime/plan-vision.js';
import { DeviceResidency } from '../src/runtime/runner.js';

/** What a test reads: the phase, the backend, the answer and each MoD layer's kept count against k_l. */
export interface DemoState {
  phase: 'loading' | 'ready' | 'running' | 'done' | 'error';
  backend?: string;
  error?: string;
  text: string;
  tokens: number;
  visionTokens?: number;
  layers: { layer: number; kept: number; capacity: number; keptTokens: readonly number[] }[];
  timeToFirstTokenMs?: number;
  tokensPerSecond?: number;
}

declare global {
  var __demo: DemoState | undefined;
}

const state: DemoState = { phase: 'loading', text: '', tokens: 0, layers: [] };
globalThis.__demo = state;

const el = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e as T;
};
const status = (s: string): void => {
  el('status').textContent = s;
};

async function bytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

function fetchArtifact(base: string): Promise<ArtifactWithCode> {
  return fetch(`${base}plan.json`)
    .then((r) => {
      if (!r.ok) throw new Error(`${base}plan.json: HTTP ${r.status}`);
      return r.text();
    })
    .then((plan) => loadArtifact({ name: `${base}plan.json`, plan, read: (p) => bytes(`${base}${p}`) }));
}

/**
 * The fallback order webgpu -> webgl -> wasm: WebGPU with the WGSL artifact when there is an adapter, else WebGL2
 * with the gpu.js artifact, else Wasm; `?backend=webgl` or `?backend=wasm` starts the chain later.
 */
async function openBackend(which: string): Promise<{ name: string; device: Device; artifact: ArtifactWithCode }> {
  let why = `forced by ?backend=${which}`;
  if (which !== 'wasm' && which !== 'webgl') {
    const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
    const adapter = gpu === undefined ? null : await gpu.requestAdapter();
    if (adapter !== null) {
      const artifact = await fetchArtifact('/webgpu/');
      const device = await openAdapterDevice(adapter, 'navigator.gpu', { shaders: artifactShaders(artifact) });
      const missing = missingFeatures(artifact.artifact.target, device.target);
      if (missing.length === 0) return { name: `WebGPU: ${device.target.device}`, device: device as Device, artifact };
      await device.dispose();
      why = `the adapter lacks ${missing.join(', ')}`;
    } else why = gpu === undefined ? 'no navigator.gpu' : 'no WebGPU adapter';
  }
  if (which !== 'wasm') {
    try {
      const device = await openWebGlDevice();
      const artifact = await fetchArtifact('/webgl/');
      if (artifact.artifact.renderer.kind !== 'gpujs') throw new Error('/webgl/ is not a WebGL (gpu.js) artifact');
      return { name: `WebGL: ${device.target.device} (${why})`, device: device as Device, artifact };
    } catch (e) {
      why = `${why}; WebGL: ${(e as Error).message}`;
    }
  }
  const artifact = await fetchArtifact('/wasm/');
  const r = artifact.artifact.renderer;
  if (r.kind !== 'wasm') throw new Error('/wasm/ is not a Wasm artifact');
  return { name: `Wasm (${why})`, device: new PageWasmDevice({ kernels: artifactKernelCache(artifact), renderer: r }) as Device, artifact };
}

/** The checkpoint's tokenizer.json through tokenizers.js, with BOS added as tokenizer_config.json says. */
async function tokenizer(): Promise<ConstructorParameters<typeof Model>[0]['tokenizer']> {
  const [json, config] = await Promise.all(['/model/tokenizer.json', '/model/tokenizer_config.json'].map(async (u) => JSON.parse(new TextDecoder().decode(await bytes(u))) as Record<string, unknown>));
  const hf = new HfTokenizer(json ?? {}, config ?? {});
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined);
  const id = (t: string | undefined): number | undefined => (t === undefined ? undefined : hf.token_to_id(t));
  const bosId = id(text(config?.bos_token));
  const eosId = id(text(config?.eos_token));
  const addBos = config?.add_bos_token !== false;
  return {
    bosId,
    eosId,
    encode: (t, o = {}) => [...((o.addBos ?? true) && addBos && bosId !== undefined ? [bosId] : []), ...hf.encode(t, { add_special_tokens: false }).ids],
    decode: (ids) => (ids.length === 0 ? '' : hf.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: false })),
  };
}

/** LLaVA's splice: the image position becomes the N_v vision rows. */
const splice: SpliceFn = (ids, vision, _reserve) => {
  const at = ids.indexOf(IMAGE_TOKEN_INDEX);
  const nv = vision?.shape[0] ?? 0;
  if (at < 0 || vision === undefined) throw new Error('the demo prompt carries the image');
  const seq = [...ids.slice(0, at), ...new Array<number>(nv).fill(0), ...ids.slice(at + 1)];
  return {
    inputs: { input_ids: makeTensor('i32', [seq.length], seq), vision_embeds: vision, vision_positions: makeTensor('i32', [nv], Array.from({ length: nv }, (_, i) => at + i)) },
    visionStart: at,
    visionTokens: nv,
  };
};

async function loadModel(which: string): Promise<{ model: Model; artifact: ArtifactWithCode; name: string }> {
  const backend = await openBackend(which);
  const { artifact, device } = backend;
  const a = artifact.artifact;
  const v = a.vision;
  if (v === undefined) throw new Error('the demo artifact has no vision tower');
  status('loading the weights…');
  const [lm, tower] = await Promise.all([bytes('/model/model.safetensors'), bytes(`/model/${v.weightsDir}/model.safetensors`)]);
  const weights = bindManifest('the demo weights', a.weights, new SafetensorsBuffers({ 'model.safetensors': lm, [`${v.weightsDir}/model.safetensors`]: tower }), () => 'not read by this plan');
  const residency = new DeviceResidency(device as Device<unknown, unknown>);
  const sessions = new Map<number, Promise<Generator>>();
  let vision: Promise<PlanVision<unknown, unknown>> | undefined;
  const model = new Model({
    name: a.model.name,
    backend: backend.name,
    tokenizer: await tokenizer(),
    chat: VICUNA_TEMPLATE,
    eosTokenIds: a.model.eosTokenIds,
    splice,
    generator: (nv) => {
      let s = sessions.get(nv);
      if (s === undefined) sessions.set(nv, (s = PlanSession.load(device, artifact, PlanSession.entryFor(artifact, nv), weights, residency)));
      return s;
    },
    encodeImage: async (image) => (await (vision ??= PlanVision.load(device, artifact, weights, residency))).encode(image, PlanSession.entryFor(artifact, v.side * v.side)),
    imageView: (image) => Promise.resolve({ view: cropPixels(towerInput(image, v), v.processor), side: v.side }),
    dispose: () => device.dispose(),
  });
  return { model, artifact, name: backend.name };
}

/** An image file (or the default) as RGB pixels, decoded by the browser. */
async function decode(blob: Blob): Promise<RgbImage> {
  const bmp = await createImageBitmap(blob);
  const c = document.createElement('canvas');
  c.width = bmp.width;
  c.height = bmp.height;
  const ctx = c.getContext('2d');
  if (ctx === null) throw new Error('no 2d canvas');
  ctx.drawImage(bmp, 0, 0);
  const rgba = ctx.getImageData(0, 0, c.width, c.height).data;
  const rgb = new Uint8Array(c.width * c.height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) rgb.set([rgba[i] ?? 0, rgba[i + 1] ?? 0, rgba[i + 2] ?? 0], j);
  return rgbImage(c.width, c.height, rgb);
}

/** One MoD layer: the tower's view with dropped patches darkened, k_l, and kept vs dense. */
function layerPanel(view: RgbImage, side: number, layer: number, kept: readonly number[], capacity: number, nv: number): HTMLElement {
  const fig = document.createElement('figure');
  fig.className = 'layer';
  fig.dataset.layer = String(layer);
  fig.dataset.kept = String(kept.length);
  fig.dataset.capacity = String(capacity);
  const canvas = document.createElement('canvas');
  canvas.width = view.width;
  canvas.height = view.height;
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('no 2d canvas');
  const img = ctx.createImageData(view.width, view.height);
  for (let i = 0; i < view.width * view.height; i++) img.data.set([view.data[3 * i] ?? 0, view.data[3 * i + 1] ?? 0, view.data[3 * i + 2] ?? 0, 255], 4 * i);
  ctx.putImageData(img, 0, 0);
  const mask = keptMask(kept, side);
  const cell = view.width / side;
  ctx.fillStyle = 'rgba(0, 0, 0, 0.72)';
  mask.forEach((on, i) => {
    if (!on) ctx.fillRect((i % side) * cell, Math.floor(i / side) * cell, cell, cell);
  });
  ctx.strokeStyle = 'rgba(255, 255, 255, 0.35)';
  for (let i = 1; i < side; i++) {
    ctx.beginPath();
    ctx.moveTo(i * cell, 0);
    ctx.lineTo(i * cell, view.height);
    ctx.moveTo(0, i * cell);
    ctx.lineTo(view.width, i * cell);
    ctx.stroke();
  }
  const cap = document.createElement('figcaption');
  cap.textContent = `layer ${layer}: kept ${kept.length} of ${nv} (k_l = ${capacity})`;
  const bar = document.createElement('div');
  bar.className = 'bar';
  const fill = document.createElement('span');
  fill.style.width = `${((100 * kept.length) / Math.max(1, nv)).toFixed(1)}%`;
  bar.append(fill);
  fig.append(cap, canvas, bar);
  return fig;
}

/** New tokens per answer (?tokens=N, default 24). */
const maxNewTokens = Number(new URLSearchParams(location.search).get('tokens') ?? 24);

async function run(model: Model, artifact: ArtifactWithCode, image: RgbImage): Promise<void> {
  state.phase = 'running';
  state.text = '';
  state.tokens = 0;
  state.layers = [];
  el('answer').textContent = '';
  el('layers').textContent = '';
  status('encoding the image and running the prompt…');
  const stream = model.generate({ prompt: el<HTMLInputElement>('prompt').value, image, maxNewTokens });
  for await (const t of stream) {
    state.text += t.text;
    state.tokens = t.index + 1;
    // Random weights give arbitrary bytes: control characters are shown as a middle dot.
    el('answer').textContent = state.text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\u00b7');
    status(`generating: ${state.tokens} tokens`);
  }
  const r = await stream.result;
  const view = await model.imageView(image);
  const entry = PlanSession.entryFor(artifact, r.visionTokens);
  state.visionTokens = r.visionTokens;
  for (const [l, kept] of Object.entries(r.routing).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    const capacity = entry.layers[Number(l)]?.capacity ?? 0;
    state.layers.push({ layer: Number(l), kept: kept.length, capacity, keptTokens: kept });
    if (view !== undefined) el('layers').append(layerPanel(view.view, view.side, Number(l), kept, capacity, r.visionTokens));
  }
  state.timeToFirstTokenMs = r.timeToFirstTokenMs;
  state.tokensPerSecond = r.tokensPerSecond;
  el('stats').textContent = `${r.tokens.length} tokens; first after ${r.timeToFirstTokenMs.toFixed(0)} ms, then ${r.tokensPerSecond.toFixed(1)} tokens/s; ${r.visionTokens} vision tokens`;
  status('done');
  state.phase = 'done';
}

async function start(): Promise<void> {
  const which = new URLSearchParams(location.search).get('backend') ?? 'auto';
  const { model, artifact, name } = await loadModel(which);
  state.backend = name;
  el('backend').textContent = name;
  const preview = el<HTMLImageElement>('preview');
  let image = await decode(await (await fetch('/default.png')).blob());
  preview.src = '/default.png';
  const button = el<HTMLButtonElement>('run');
  const go = (): void => {
    button.disabled = true;
    run(model, artifact, image)
      .catch(fail)
      .finally(() => (button.disabled = false));
  };
  el<HTMLInputElement>('file').addEventListener('change', (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f === undefined) return;
    preview.src = URL.createObjectURL(f);
    decode(f)
      .then((img) => {
        image = img;
        go();
      })
      .catch(fail);
  });
  button.addEventListener('click', go);
  state.phase = 'ready';
  go();
}

function fail(e: unknown): void {
  state.phase = 'error';
  state.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  status(`error: ${state.error}`);
}

start().catch(fail);
