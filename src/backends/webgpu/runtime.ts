/**
 * `modc/runtime-webgpu`: what a compiled WebGPU model needs in a page, and nothing of the compiler. A plan
 * (plan.json's text) and its WGSL shaders are checked (content hash, every field, each shader's SHA-256), the
 * weights (a safetensors ArrayBuffer, several by file name, or a URL) bound to the plan's weight manifest from
 * their headers, and each vision-token count's prefill and decode programs run on a WebGPU device (the one given,
 * or navigator.gpu's) with pipelines built from the shipped WGSL. The exported TS module (`modc compile --target
 * webgpu --emit ts`) imports only this.
 */
/// <reference types="@webgpu/types" />
import type { TensorStore } from '../../ir/index.js';
import { bindManifest } from '../../io/manifest-binding.js';
import { SafetensorsBuffers } from '../../io/safetensors/buffer.js';
import { type Artifact, type ArtifactEntry, type ArtifactWithCode, checkKernelFile, readArtifact } from '../../runtime/artifact.js';
import type { TensorMap } from '../../runtime/executor.js';
import { PlanSession, type PlanGenerateOptions, type PlanGenerateResult, type PlanPrefill } from '../../runtime/plan-session.js';
import type { ResidentCache } from '../../runtime/session.js';
import { DeviceResidency } from '../../runtime/runner.js';
import { openAdapterDevice, WebGpuUnavailable } from './adapter.js';
import { artifactShaders, missingFeatures } from './artifact-shaders.js';
import { WebGpuDevice } from './device.js';
import { readLimits, WEBGPU_LIMIT_NAMES } from './target.js';

export { Sampler, type SamplingOptions } from '../../runtime/sampling.js';
export type { PlanGenerateResult, PlanPrefill } from '../../runtime/plan-session.js';
export type { ResidentCache } from '../../runtime/session.js';
export type { Artifact } from '../../runtime/artifact.js';
export { WebGpuUnavailable };

/** A compiled WebGPU model as the exported module holds it: plan.json's text and the shaders by path. */
export interface WebGpuPlan {
  readonly plan: string;
  readonly shaders: Readonly<Record<string, string>>;
}

/** Weights: one safetensors file's bytes, several by file name, or the URL of a file or of a checkpoint directory. */
export type WeightsSource = URL | ArrayBuffer | Readonly<Record<string, ArrayBuffer>>;

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url.href}: HTTP ${r.status} ${r.statusText}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The weights' files: a directory URL gets the files the manifest recorded (model.safetensors when none). */
async function weightFiles(a: Artifact, w: WeightsSource): Promise<Record<string, Uint8Array>> {
  if (w instanceof ArrayBuffer) return { 'model.safetensors': new Uint8Array(w) };
  if (w instanceof URL) {
    if (w.pathname.endsWith('.safetensors')) return { [w.pathname.split('/').pop() ?? 'model.safetensors']: await fetchBytes(w) };
    const names = [...new Set(a.weights.flatMap((x) => (x.checkpoint ? [x.checkpoint.file] : [])))];
    const files = names.length ? names : ['model.safetensors'];
    const base = w.href.endsWith('/') ? w : new URL(`${w.href}/`);
    return Object.fromEntries(await Promise.all(files.map(async (f) => [f, await fetchBytes(new URL(f, base))] as const)));
  }
  return Object.fromEntries(Object.entries(w).map(([k, v]) => [k, new Uint8Array(v)]));
}

/** A GPUDevice the caller opened, described from its own limits and features. */
function wrapDevice(gpu: GPUDevice, shaders: ReturnType<typeof artifactShaders>): WebGpuDevice {
  const limits = readLimits(gpu.limits as unknown as Readonly<Record<(typeof WEBGPU_LIMIT_NAMES)[number], number>>);
  return new WebGpuDevice(gpu, { limits, features: new Set([...gpu.features].map(String)), device: 'the GPUDevice given to load()', emulated: false }, { shaders });
}

export class CompiledModel {
  private readonly sessions = new Map<number, Promise<PlanSession<unknown, unknown>>>();

  private constructor(
    readonly artifact: Artifact,
    private readonly loaded: ArtifactWithCode,
    readonly device: WebGpuDevice,
    private readonly weights: TensorStore,
    private readonly residency: DeviceResidency<unknown>,
    private readonly ownsDevice: boolean,
  ) {}

  /**
   * Checks the plan and its shaders, binds the weights to its manifest (one error lists every missing, mis-shaped
   * or mis-typed tensor) and opens the device (`gpu`, or navigator.gpu's adapter with its own limits).
   */
  static async load(p: WebGpuPlan, weights: WeightsSource, gpu?: GPUDevice): Promise<CompiledModel> {
    const base = await readArtifact(p.plan, 'plan.json');
    const enc = new TextEncoder();
    const code = new Map<string, Uint8Array>();
    for (const k of base.artifact.kernels) {
      const text = p.shaders[k.code.path];
      if (text === undefined) throw new Error(`${k.code.path}: the plan lists this shader, the module does not hold it`);
      const bytes = enc.encode(text);
      await checkKernelFile(k.code, bytes);
      code.set(k.code.path, bytes);
    }
    const loaded: ArtifactWithCode = { ...base, code };
    const files = await weightFiles(base.artifact, weights);
    const store = bindManifest(Object.keys(files).join(', '), base.artifact.weights, new SafetensorsBuffers(files), () => 'not used by this plan');
    const shaders = artifactShaders(loaded);
    let device: WebGpuDevice;
    if (gpu !== undefined) device = wrapDevice(gpu, shaders);
    else {
      const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
      if (nav === undefined) throw new WebGpuUnavailable('this page has no navigator.gpu (WebGPU is off; Chromium needs --enable-unsafe-webgpu without a GPU)');
      const adapter = await nav.requestAdapter();
      if (adapter === null) throw new WebGpuUnavailable('navigator.gpu.requestAdapter() returned no adapter');
      device = await openAdapterDevice(adapter, 'navigator.gpu', { shaders });
    }
    const missing = missingFeatures(base.artifact.target, device.target);
    if (missing.length) {
      if (gpu === undefined) await device.dispose();
      throw new WebGpuUnavailable(`the plan's shaders need ${missing.join(' and ')}, which this device lacks`);
    }
    return new CompiledModel(base.artifact, loaded, device, store, new DeviceResidency(device as never), gpu === undefined);
  }

  /** The entry for N_v vision tokens. */
  entry(visionTokens: number): ArtifactEntry {
    return PlanSession.entryFor(this.loaded, visionTokens);
  }

  session(visionTokens: number): Promise<PlanSession<unknown, unknown>> {
    let s = this.sessions.get(visionTokens);
    if (s === undefined) {
      s = PlanSession.load(this.device as never, this.loaded, this.entry(visionTokens), this.weights, this.residency);
      this.sessions.set(visionTokens, s);
      s.catch(() => this.sessions.delete(visionTokens));
    }
    return s;
  }

  async prefill(inputs: TensorMap): Promise<PlanPrefill> {
    return (await this.session(inputs.vision_embeds?.shape[0] ?? 0)).prefill(inputs);
  }

  /** One new token at `position` appended to `cache` (from a prefill of this model); its logits. */
  async decode(cache: ResidentCache, token: number, position: number, visionTokens: number): Promise<Float32Array> {
    return (await this.session(visionTokens)).decodeStep(cache, token, position);
  }

  async generate(inputs: TensorMap, opts: PlanGenerateOptions): Promise<PlanGenerateResult> {
    return (await this.session(inputs.vision_embeds?.shape[0] ?? 0)).generate(inputs, opts);
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) (await s).dispose();
    this.sessions.clear();
    if (this.ownsDevice) await this.device.dispose();
  }
}
