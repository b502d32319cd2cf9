/**
 * Building a compiled-model artifact (`modc compile ... --out DIR`): the model from a zoo name, a config or a
 * checkpoint directory (read from its headers only), per vision-token count a prefill program (logits of every
 * position, routing, the KV cache written into state) and a decode program (cache lengths dynamic) at KV-cache
 * capacities sized for the longest prompt plus the new tokens, the projector, one rendered file per distinct
 * kernel, and the weight manifest (with checkpoint byte ranges when compiled from a checkpoint).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { relative } from 'node:path';
import binaryen from 'binaryen';
import {
  buildDecodeStep,
  buildLanguageModel,
  buildProjector,
  checkTokenCounts,
  ConfigError,
  hasVisionInput,
  inspectCheckpoint,
  layerCapacities,
  layerRatios,
  type ModelSpec,
  openVisionTower,
  patchesPerSide,
  readCheckpointConfig,
  resolveModel,
  type VisionTower,
} from '../../models/index.js';
import { renderPtx } from '../backends/cuda-ptx/render.js';
import { choosePtxTarget } from '../backends/cuda-ptx/isa.js';
import { relaxedSimdAvailable } from '../backends/wasm/features.js';
import { renderKernel } from '../backends/wasm/render.js';
import { backendInfo } from '../backends/registry.js';
import { renderWgsl } from '../backends/webgpu/render.js';
import { renderGpuJs } from '../backends/webgl/render.js';
import { WEBGL2_MINIMUMS, webglTarget } from '../backends/webgl/target.js';
import { type WebGpuLimits, webgpuTarget } from '../backends/webgpu/target.js';
import { type Graph, hashString } from '../ir/index.js';
import { compilerBuildId, compilerVersion } from '../io/build-id.js';
import { type CheckpointLayout, SafetensorsStore, weightSpecs } from '../io/index.js';
import { type Kernel, kernelKey } from '../kernel/ir.js';
import type { KernelProgram } from '../kernel/program.js';
import type { Target } from '../kernel/target.js';
import { type Artifact, type ArtifactEntry, type ArtifactKernel, type ArtifactVision, type ArtifactWeight, artifactText, PLAN_FORMAT, PLAN_FORMAT_VERSION, type RendererInfo, sha256Hex, type WgslLayout } from '../runtime/artifact.js';
import { compile } from '../runtime/compile.js';
import { encodeProgram } from '../runtime/plan-codec.js';
import { prefillCacheLengths } from '../runtime/session.js';
import { UsageError } from './args.js';

/**
 * The compile targets of `modc compile --out`: registry backends with a Target ('ptx' is the cuda backend's: the
 * driver's device, or sm_80 offline; 'ptx-emu' the interpreter's smaller tiles); 'webgpu' is every WebGPU device
 * (the spec's default limits, no optional feature) unless `adapter: 'local'`; 'webgl' is every WebGL2 context
 * (the WebGL2 minimums: MAX_TEXTURE_SIZE 2048, 16 texture units) through gpu.js.
 */
export const ARTIFACT_TARGETS = ['wasm', 'webgpu', 'webgl', 'ptx', 'ptx-emu'] as const;
export type ArtifactTarget = (typeof ARTIFACT_TARGETS)[number];

export interface ArtifactRequest {
  /** A zoo name, a config.json, a checkpoint directory or a models/*.ts file. */
  readonly model: string;
  readonly target: ArtifactTarget;
  readonly visionTokens: readonly number[];
  /** The prefill's text tokens: the longest prompt (shorter ones are padded). */
  readonly textTokens: number;
  /** New tokens the KV cache holds after the longest prompt. */
  readonly maxNewTokens: number;
  readonly threads: number;
  /** WebGPU: schedules for CPU-emulated adapters (SwiftShader, llvmpipe) instead of GPUs'. */
  readonly emulated?: boolean;
  /** WebGPU: every device ('portable', the default) or this machine's adapter ('local', through Dawn). */
  readonly adapter?: 'portable' | 'local';
  /** The CLIP tower's directory, when the checkpoint neither holds it nor names a local one. */
  readonly visionTower?: string;
}

export interface BuiltArtifact {
  readonly artifact: Artifact;
  /** plan.json's text. */
  readonly plan: string;
  /** Kernel files by their path in the artifact. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/** Cache capacities are rounded up to this many rows, like a GenerationSession's. */
const CAPACITY_BLOCK = 64;

type Located = ReadonlyMap<string, NonNullable<ArtifactWeight['checkpoint']>>;

interface Source {
  readonly kind: Artifact['source']['kind'];
  readonly spec: ModelSpec;
  readonly modelType?: string;
  readonly eosTokenIds: readonly number[];
  readonly layout: CheckpointLayout | undefined;
  /** Graph weight name -> where it is in the checkpoint. */
  readonly located: Located;
  /** The CLIP tower, when the checkpoint has one (a local vision_tower/ directory or embedded). */
  readonly tower?: { readonly graph: Graph; readonly tower: VisionTower; readonly weightsDir: string; readonly located: Located };
}

/** File offset of a safetensors file's data section (8 + the header length in its first 8 bytes). */
function dataStart(file: string): number {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(8);
    readSync(fd, b, 0, 8, 0);
    return 8 + Number(b.readBigUInt64LE(0));
  } finally {
    closeSync(fd);
  }
}

/** Where each named tensor of a checkpoint directory is: its file (relative to `dir`) and absolute byte range. */
function locate(dir: string, names: ReadonlyMap<string, string>): Located {
  const tensors = SafetensorsStore.fromDir(dir);
  try {
    const located = new Map<string, NonNullable<ArtifactWeight['checkpoint']>>();
    const starts = new Map<string, number>();
    for (const [weight, tensor] of names) {
      const t = tensors.info(tensor);
      let start = starts.get(t.file);
      if (start === undefined) starts.set(t.file, (start = dataStart(t.file)));
      located.set(weight, { tensor, file: relative(dir, t.file), dtype: t.stDtype, begin: start + t.begin, end: start + t.end });
    }
    return located;
  } finally {
    tensors.close();
  }
}

/** The checkpoint's CLIP tower (a separate directory's or embedded), or undefined when it has none. */
function towerOf(dir: string, spec: ModelSpec, towerDir: string | undefined): Source['tower'] {
  if (spec.vision === undefined || spec.vision.imageAspectRatio === 'anyres') return undefined;
  let t: ReturnType<typeof openVisionTower>;
  try {
    t = openVisionTower(dir, spec, readCheckpointConfig(dir).config, towerDir !== undefined ? { towerDir } : {});
  } catch (e) {
    if (e instanceof ConfigError) return undefined;
    throw e;
  }
  const embedded = t.source.startsWith(`${dir} (embedded`);
  const root = embedded ? dir : t.source;
  const names = new Map(weightSpecs([t.graph]).map((w) => [w.name, w.name] as const));
  return { graph: t.graph, tower: t.tower, weightsDir: embedded ? '.' : relative(dir, root) || '.', located: locate(root, names) };
}

function isCheckpointDir(arg: string): boolean {
  try {
    SafetensorsStore.fromDir(arg).close();
    return true;
  } catch {
    return false;
  }
}

async function resolveSource(arg: string, towerDir: string | undefined): Promise<Source> {
  if (!isCheckpointDir(arg)) return { kind: 'model', spec: await resolveModel(arg), eosTokenIds: [], layout: undefined, located: new Map() };
  const tensors = SafetensorsStore.fromDir(arg);
  let info: ReturnType<typeof inspectCheckpoint>;
  try {
    info = inspectCheckpoint(arg, tensors);
  } finally {
    tensors.close();
  }
  const tower = towerOf(arg, info.spec, towerDir);
  return {
    kind: 'checkpoint',
    spec: info.spec,
    modelType: info.modelType,
    eosTokenIds: info.generation.eosTokenIds,
    layout: info.layout,
    located: locate(arg, info.plan.bindings),
    ...(tower ? { tower } : {}),
  };
}

/**
 * The WebGPU spec's default limits, which every adapter offers (a device is requested with the adapter's own,
 * higher ones), except 10 storage buffers per stage instead of 8: the route select kernel binds 9. Chromium's and
 * Dawn's adapters offer at least 10; a device that offers fewer is refused when the artifact is loaded.
 */
const PORTABLE_WEBGPU_LIMITS: WebGpuLimits = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 10,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBufferBindingSize: 134217728,
  maxBufferSize: 268435456,
  maxUniformBufferBindingSize: 65536,
  minUniformBufferOffsetAlignment: 256,
  minStorageBufferOffsetAlignment: 256,
};

/** The Target and renderer of a compile target name. */
async function targetFor(name: ArtifactTarget, threads: number, emulated: boolean, adapter: 'portable' | 'local'): Promise<{ target: Target; renderer: RendererInfo }> {
  if (name === 'webgpu' && adapter === 'local') {
    const info = backendInfo('webgpu');
    if (info.target === undefined) throw new UsageError('this build has no webgpu target');
    return { target: await info.target({ threads }), renderer: { kind: 'wgsl' } };
  }
  if (name === 'webgpu') {
    const device = `any WebGPU device (the spec's default limits with 10 storage buffers, no optional feature; ${emulated ? 'schedules for CPU-emulated adapters' : 'GPU schedules'})`;
    return { target: webgpuTarget({ limits: PORTABLE_WEBGPU_LIMITS, features: new Set(), device, emulated }), renderer: { kind: 'wgsl' } };
  }
  if (name === 'webgl') {
    // The minimums every WebGL2 context meets: the plan runs on any of them (larger weights are split into windows).
    const limits = { ...WEBGL2_MINIMUMS, renderer: 'any WebGL2 context with EXT_color_buffer_float (the WebGL2 minimums)' };
    return { target: webglTarget(limits, 'webgl2'), renderer: { kind: 'gpujs' } };
  }
  const backend = name === 'ptx' ? 'cuda' : name;
  const info = backendInfo(backend);
  if (info.target === undefined) throw new UsageError(`backend '${backend}' has no compile target`);
  const target = await info.target({ threads });
  if (name === 'wasm') return { target, renderer: { kind: 'wasm', relaxedFma: relaxedSimdAvailable() } };
  const choice = choosePtxTarget();
  return { target, renderer: { kind: 'ptx', version: choice.version, target: choice.target } };
}

const fileStem = (k: Kernel, hash: string): string => `kernels/${k.name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80)}-${hash.slice(0, 8)}`;

/** The text form of a Wasm binary. */
function watText(binary: Uint8Array): string {
  const mod = binaryen.readBinary(binary);
  try {
    mod.setFeatures(binaryen.Features.All);
    return mod.emitText();
  } finally {
    mod.dispose();
  }
}

/** Renders one kernel for the artifact: its code file, a readable text file for binaries, its imports or bindings. */
function render(k: Kernel, renderer: RendererInfo, target: Target): { code: Uint8Array; ext: string; text?: Uint8Array; imports?: readonly string[]; wgsl?: WgslLayout } {
  const enc = new TextEncoder();
  if (renderer.kind === 'wasm') {
    const r = renderKernel(k, { relaxedFma: renderer.relaxedFma });
    return { code: r.binary, ext: 'wasm', text: enc.encode(watText(r.binary)), imports: r.imports };
  }
  if (renderer.kind === 'ptx') return { code: enc.encode(renderPtx(k, { target: choosePtxTarget() }).ptx), ext: 'ptx' };
  if (renderer.kind === 'gpujs') return { code: enc.encode(renderGpuJs(k).source), ext: 'js' };
  const w = renderWgsl(k, target);
  return { code: enc.encode(w.code), ext: 'wgsl', wgsl: { uniformBytes: w.uniformBytes, paramOffsets: w.paramOffsets, bindings: w.bindings.map((b) => ({ name: b.name, storage: b.storage })) } };
}

/** The kernel table shared by the programs (one entry per distinct kernel object), with the rendered files. */
async function kernelTable(programs: readonly KernelProgram[], renderer: RendererInfo, target: Target) {
  const entries: ArtifactKernel[] = [];
  const index = new Map<string, number>();
  const byKernel = new Map<Kernel, number>();
  const files = new Map<string, Uint8Array>();
  const byHash = new Map<string, Pick<ArtifactKernel, 'code' | 'text' | 'imports' | 'wgsl'>>();
  for (const p of programs)
    for (const k of p.kernels) {
      if (byKernel.has(k)) continue;
      const key = kernelKey(k);
      const id = `${k.name}|${key}`;
      let i = index.get(id);
      if (i === undefined) {
        const hash = hashString(key);
        let rendered = byHash.get(hash);
        if (rendered === undefined) {
          const r = render(k, renderer, target);
          const stem = fileStem(k, hash);
          const code = { path: `${stem}.${r.ext}`, sha256: await sha256Hex(r.code), bytes: r.code.length };
          files.set(code.path, r.code);
          let text: ArtifactKernel['text'];
          if (r.text) {
            text = { path: `${stem}.wat`, sha256: await sha256Hex(r.text), bytes: r.text.length };
            files.set(text.path, r.text);
          }
          rendered = { code, ...(text ? { text } : {}), ...(r.imports ? { imports: r.imports } : {}), ...(r.wgsl ? { wgsl: r.wgsl } : {}) };
          byHash.set(hash, rendered);
        }
        i = entries.push({ kernel: k, hash, ...rendered }) - 1;
        index.set(id, i);
      }
      byKernel.set(k, i);
    }
  return { entries, files, indexOf: (k: Kernel): number => byKernel.get(k) ?? -1 };
}

/** Every weight the programs read, in first-use order, with where a checkpoint holds it (the tower's marked 'vision'). */
function weightManifest(programs: readonly KernelProgram[], src: Source, towerProgram: number | undefined): ArtifactWeight[] {
  const out = new Map<string, ArtifactWeight>();
  programs.forEach((p, i) => {
    const vision = i === towerProgram;
    for (const w of p.weights) {
      if (out.has(w.name)) continue;
      const located = vision ? src.tower?.located.get(w.name) : src.located.get(w.name);
      const candidates = vision ? [w.name] : (src.layout?.candidates(w.name) ?? [w.name]);
      out.set(w.name, { name: w.name, dtype: w.dtype, shape: w.shape, candidates, ...(located ? { checkpoint: located } : {}), ...(vision ? { part: 'vision' as const } : {}) });
    }
  });
  return [...out.values()];
}

interface Graphs {
  readonly prefill: Graph;
  readonly decode: Graph;
  readonly projector: Graph | undefined;
}

/** One entry: the programs for N_v vision tokens, with the cache sized for the longest prompt plus the new tokens. */
function entryFor(spec: ModelSpec, g: Graphs, target: Target, nv: number, req: ArtifactRequest, add: (p: KernelProgram) => number): ArtifactEntry {
  const L = spec.llm.numLayers;
  const T = req.textTokens;
  const vision = hasVisionInput(spec);
  checkTokenCounts(spec, nv, T);
  const base: Record<string, number> = vision ? { T, N_v: nv } : { T };
  const lengths = prefillCacheLengths(g.prefill, L, base);
  const caps: Record<string, number> = {};
  lengths.forEach((len, l) => (caps[`C${l}`] = Math.ceil(Math.max(1, len + req.maxNewTokens) / CAPACITY_BLOCK) * CAPACITY_BLOCK));
  const ratios = spec.mod ? layerRatios(spec.mod.schedule, L) : new Array<null>(L).fill(null);
  const kept = layerCapacities(ratios, nv);
  const prefillSymbols = { ...base, ...caps };
  const decodeSymbols = { N: 1, ...caps };
  const dynamic = Array.from({ length: L }, (_, l) => `L${l}`);
  const entry: ArtifactEntry = {
    visionTokens: nv,
    maxTextTokens: T,
    maxNewTokens: req.maxNewTokens,
    layers: lengths.map((len, l) => ({ capacity: ratios[l] === null || ratios[l] === undefined ? null : (kept[l] ?? 0), visionRows: len - T, cacheCapacity: caps[`C${l}`] ?? 0 })),
    prefill: { program: add(compile(g.prefill, target, prefillSymbols)), symbols: prefillSymbols },
    decode: { program: add(compile(g.decode, target, decodeSymbols, { dynamic })), symbols: decodeSymbols, dynamic },
  };
  // The projector's rows are the image's N_v for LLaVA-1.5; anyres images add newline rows after projecting.
  if (g.projector && spec.vision?.imageAspectRatio !== 'anyres' && nv > 0) return { ...entry, projector: { program: add(compile(g.projector, target, { N_v: nv })), symbols: { N_v: nv } } };
  return entry;
}

export async function buildArtifact(req: ArtifactRequest): Promise<BuiltArtifact> {
  if (req.visionTokens.length === 0) throw new UsageError('give at least one --vision-tokens value');
  const src = await resolveSource(req.model, req.visionTower);
  const spec = src.spec;
  const wdt = spec.llm.weightDtype;
  const graphs: Graphs = {
    prefill: buildLanguageModel(spec, { weightDtype: wdt, kvState: true, exportRouting: true }),
    decode: buildDecodeStep(spec, { weightDtype: wdt }),
    projector: spec.vision ? buildProjector(spec, { weightDtype: wdt }) : undefined,
  };
  if (req.adapter !== undefined && req.target !== 'webgpu') throw new UsageError('--adapter goes with --target webgpu');
  if (req.emulated && (req.target !== 'webgpu' || req.adapter === 'local')) throw new UsageError('--emulated goes with --target webgpu --adapter portable (a local adapter has its own schedules)');
  const { target, renderer } = await targetFor(req.target, req.threads, req.emulated ?? false, req.adapter ?? 'portable');
  const programs: KernelProgram[] = [];
  const add = (p: KernelProgram): number => programs.push(p) - 1;
  const entries = [...new Set(req.visionTokens)].sort((a, b) => a - b).map((nv) => entryFor(spec, graphs, target, hasVisionInput(spec) ? nv : 0, req, add));
  let vision: ArtifactVision | undefined;
  if (src.tower !== undefined) {
    const t = src.tower;
    const aspect = spec.vision?.imageAspectRatio === 'square' ? 'square' : 'pad';
    vision = { tower: { program: add(compile(t.graph, target, {})), symbols: {} }, aspect, processor: t.tower.processor, side: patchesPerSide(t.tower.clip), weightsDir: t.weightsDir };
  }
  const table = await kernelTable(programs, renderer, target);
  const ratios = spec.mod ? layerRatios(spec.mod.schedule, spec.llm.numLayers) : new Array<null>(spec.llm.numLayers).fill(null);
  const artifact: Omit<Artifact, 'format' | 'formatVersion' | 'contentHash'> = {
    compiler: { name: 'modc', version: compilerVersion(), build: compilerBuildId() },
    source: { kind: src.kind, name: req.model },
    model: {
      name: spec.name,
      ...(src.modelType !== undefined ? { modelType: src.modelType } : {}),
      numLayers: spec.llm.numLayers,
      hiddenSize: spec.llm.hiddenSize,
      vocabSize: spec.llm.vocabSize,
      layerRatios: ratios,
      eosTokenIds: src.eosTokenIds,
      spec,
    },
    target,
    renderer,
    entries,
    ...(vision ? { vision } : {}),
    programs: programs.map((p) => encodeProgram(p, table.indexOf)),
    kernels: table.entries,
    weights: weightManifest(programs, src, vision?.tower.program),
  };
  const plan = await artifactText(artifact);
  return { artifact: { format: PLAN_FORMAT, formatVersion: PLAN_FORMAT_VERSION, contentHash: '', ...artifact }, plan, files: table.files };
}
