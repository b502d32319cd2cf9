/**
 * The compiled-model artifact (`plan.json` + one kernel file per distinct kernel): its types, its text with a
 * content hash, and reading it back with every field checked. A plan holds, per vision-token count N_v, a prefill
 * and a decode program (the decode one with the cache lengths L{l} as dynamic symbols) at fixed KV-cache
 * capacities C{l}; the programs share one kernel table; the weight manifest lists every checkpoint tensor the
 * programs read. Loading needs no compiler: `docs/artifacts.md` describes the format field by field. Browser-safe.
 */
import { DTYPES, type DType } from '../ir/index.js';
import type { Kernel } from '../kernel/ir.js';
import type { KernelProgram } from '../kernel/program.js';
import type { Target } from '../kernel/target.js';
import { decodeKernel, decodeProgram, encodeKernel, type ProgramData } from './plan-codec.js';
import { Field, PlanFormatError, planParse, planStringify } from './plan-json.js';

export const PLAN_FORMAT = 'modc-plan';
/** 2: packed bf16 weights may be interleaved in pairs (a weight layout field version 1 readers would ignore). */
export const PLAN_FORMAT_VERSION = 2;
export const PLAN_FILE = 'plan.json';

/** A file of the artifact, relative to its directory, with its SHA-256 (hex) and size. */
export interface ArtifactFile {
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** How the kernel files were rendered: a loader refuses files made for another renderer or other options. */
export type RendererInfo =
  | { readonly kind: 'wasm'; readonly relaxedFma: boolean }
  | { readonly kind: 'ptx'; readonly version: string; readonly target: string }
  | { readonly kind: 'wgsl' }
  /** gpu.js kernel source (.js): the WebGL device renders the same text from the Kernel IR and checks it. */
  | { readonly kind: 'gpujs' };

export interface ArtifactKernel {
  /** The kernel in Kernel IR: what the device code was rendered from. */
  readonly kernel: Kernel;
  /** hashString(kernelKey(kernel)): kernels of equal code share it (and their files). */
  readonly hash: string;
  /** What the device loads: .wasm (binary), .ptx, .wgsl or .js (gpu.js kernel source) text. */
  readonly code: ArtifactFile;
  /** A readable form where the code is binary (.wat for .wasm). */
  readonly text?: ArtifactFile;
  /** Host functions a Wasm module imports (exp, log, ...). */
  readonly imports?: readonly string[];
  /** How a WGSL shader binds its buffers and params (what a WebGPU device needs besides the code). */
  readonly wgsl?: WgslLayout;
}

/** A WGSL shader's interface: storage bindings 0..n-1 in the kernel's buffer order, then the params uniform. */
export interface WgslLayout {
  readonly uniformBytes: number;
  /** Byte offset of each scalar param (kernel order) in the uniform struct. */
  readonly paramOffsets: readonly number[];
  readonly bindings: readonly {
    readonly name: string;
    /** How the buffer is held: word, vec4, packed16, packed8 or native16 (src/backends/webgpu/storage.ts). */
    readonly storage: { readonly kind: string; readonly elem: string; readonly wgslArray: string; readonly atomic: boolean };
  }[];
}

export interface ArtifactWeight {
  /** The graph's name of the weight (Hugging Face LLaVA layout). */
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Checkpoint tensor names that may hold it, in order of preference (other checkpoint layouts). */
  readonly candidates: readonly string[];
  /** Where it was in the checkpoint the plan was compiled from (absolute byte offsets in `file`). */
  readonly checkpoint?: { readonly tensor: string; readonly file: string; readonly dtype: string; readonly begin: number; readonly end: number };
  /** 'vision': a CLIP tower weight, in the tower's files (ArtifactVision.weightsDir); absent: the language model's. */
  readonly part?: 'vision';
}

/** The image processor's settings as data (src/io/image/clip-processor.ts ClipProcessorConfig). */
export interface ProcessorData {
  readonly doResize: boolean;
  readonly resize: { readonly kind: 'shortestEdge'; readonly edge: number } | { readonly kind: 'exact'; readonly height: number; readonly width: number };
  readonly doCenterCrop: boolean;
  readonly cropHeight: number;
  readonly cropWidth: number;
  readonly doRescale: boolean;
  readonly rescaleFactor: number;
  readonly doNormalize: boolean;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
}

/** The vision side: an image becomes the tower's input, then patch features, then (per entry) vision rows. */
export interface ArtifactVision {
  /** pixel_values f32 [3, S, S] -> image_features f32 [P, mm_hidden]. */
  readonly tower: ArtifactProgramRef;
  /** LLaVA-1.5's 'pad' (to a square with the processor's mean colour, then the processor) or 'square'. */
  readonly aspect: 'pad' | 'square';
  readonly processor: ProcessorData;
  /** Patches per side of the tower's grid (P = side^2 vision tokens). */
  readonly side: number;
  /** The tower's weight files, relative to the checkpoint directory ('.' when they are in the checkpoint's). */
  readonly weightsDir: string;
}

/** Per decoder layer of an entry. */
export interface ArtifactLayer {
  /** k_l, the vision tokens a MoD layer keeps; null for a dense layer. */
  readonly capacity: number | null;
  /** Vision rows the layer caches at prefill (N_v for dense layers, k_l for MoD layers): cached rows = T + this. */
  readonly visionRows: number;
  /** C{l}: rows of the layer's KV-cache state. */
  readonly cacheCapacity: number;
}

export interface ArtifactProgramRef {
  readonly program: number;
  /** The static symbol values it was compiled at. */
  readonly symbols: Readonly<Record<string, number>>;
}

export interface ArtifactEntry {
  readonly visionTokens: number;
  /** Text tokens of the compiled prefill: prompts of fewer are padded at the end (causal: nothing before changes). */
  readonly maxTextTokens: number;
  /** New tokens every layer's cache has room for after a prompt of maxTextTokens. */
  readonly maxNewTokens: number;
  readonly layers: readonly ArtifactLayer[];
  /** Logits of every position, routing.layer{l}, the caches written into state. */
  readonly prefill: ArtifactProgramRef;
  /** One token per run; dynamic L{l} (valid cache rows before the step). */
  readonly decode: ArtifactProgramRef & { readonly dynamic: readonly string[] };
  /** image_features [N_v, mm_hidden] -> vision_embeds [N_v, d], for models with a vision side. */
  readonly projector?: ArtifactProgramRef;
}

export interface ArtifactModel {
  readonly name: string;
  /** config.json's model_type when compiled from a checkpoint or config. */
  readonly modelType?: string;
  readonly numLayers: number;
  readonly hiddenSize: number;
  readonly vocabSize: number;
  /** R_l per layer (null: dense). */
  readonly layerRatios: readonly (number | null)[];
  readonly eosTokenIds: readonly number[];
  /** modc's ModelSpec (models/config.ts) as data, for inputs and image preprocessing. */
  readonly spec: object;
}

export interface Artifact {
  readonly format: typeof PLAN_FORMAT;
  readonly formatVersion: number;
  /** sha256 of plan.json's text with this field empty; the kernel files' hashes are inside, so it covers them. */
  readonly contentHash: string;
  readonly compiler: { readonly name: string; readonly version: string; readonly build: string };
  /** What was compiled: a zoo model, a config file or a checkpoint directory (its path as given). */
  readonly source: { readonly kind: 'model' | 'checkpoint'; readonly name: string };
  readonly model: ArtifactModel;
  readonly target: Target;
  readonly renderer: RendererInfo;
  readonly entries: readonly ArtifactEntry[];
  readonly vision?: ArtifactVision;
  readonly programs: readonly ProgramData[];
  readonly kernels: readonly ArtifactKernel[];
  readonly weights: readonly ArtifactWeight[];
}

/** A read artifact: its programs with their kernels resolved, ready for the runner. */
export interface LoadedArtifact {
  readonly artifact: Artifact;
  readonly programs: readonly KernelProgram[];
  readonly kernels: readonly Kernel[];
}

// ---- hashing (Web Crypto: Node 20 and browsers) ----

interface Digest {
  digest(alg: string, data: Uint8Array): Promise<ArrayBuffer>;
}

/** SHA-256 of bytes or text, as hex. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const subtle = (globalThis as unknown as { crypto?: { subtle?: Digest } }).crypto?.subtle;
  if (subtle === undefined) throw new Error('SHA-256 needs Web Crypto (globalThis.crypto.subtle): Node 20 or a browser');
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const h = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(h, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The hash sits at a fixed place at the start of the text, so it can be blanked without re-serialising.
const HEAD = `{"format":"${PLAN_FORMAT}","formatVersion":${PLAN_FORMAT_VERSION},"contentHash":"`;
const HASH_RE = /^\{"format":"modc-plan","formatVersion":(\d+),"contentHash":"([0-9a-f]*)"/;

/** plan.json's text: the artifact (kernels in the array form of encodeKernel) with its content hash filled in. */
export async function artifactText(a: Omit<Artifact, 'format' | 'formatVersion' | 'contentHash'>): Promise<string> {
  const kernels = a.kernels.map((k) => ({ ...k, kernel: encodeKernel(k.kernel) }));
  const body = planStringify({ format: PLAN_FORMAT, formatVersion: PLAN_FORMAT_VERSION, contentHash: '', ...a, kernels });
  if (!body.startsWith(`${HEAD}"`)) throw new Error('internal: plan.json does not start with its header');
  const hash = await sha256Hex(body);
  return `${HEAD}${hash}${body.slice(HEAD.length)}`;
}

// ---- reading ----

function fileOf(f: Field): ArtifactFile {
  const path = f.get('path').str();
  if (path.startsWith('/') || path.split('/').some((p) => p === '..' || p === '')) f.get('path').fail(`'${path}' is not a path inside the artifact`);
  return { path, sha256: f.get('sha256').str(), bytes: f.get('bytes').int() };
}

function wgslLayoutOf(f: Field, k: Kernel): WgslLayout {
  const bindings = f.get('bindings').items().map((b) => {
    const st = b.get('storage');
    return { name: b.get('name').str(), storage: { kind: st.get('kind').oneOf(['word', 'vec4', 'packed16', 'packed8', 'native16'] as const), elem: st.get('elem').str(), wgslArray: st.get('wgslArray').str(), atomic: st.get('atomic').bool() } };
  });
  if (bindings.length !== k.buffers.length) f.get('bindings').fail(`${bindings.length} bindings for kernel '${k.name}' of ${k.buffers.length} buffers`);
  const paramOffsets = f.get('paramOffsets').ints();
  if (paramOffsets.length !== k.params.length) f.get('paramOffsets').fail(`${paramOffsets.length} offsets for kernel '${k.name}' of ${k.params.length} params`);
  return { uniformBytes: f.get('uniformBytes').int(16), paramOffsets, bindings };
}

function symbolsOf(f: Field): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of f.keys()) out[k] = f.get(k).int();
  return out;
}

function programRef(f: Field, programs: number): ArtifactProgramRef {
  return { program: f.get('program').int(0, programs - 1), symbols: symbolsOf(f.get('symbols')) };
}

function rendererOf(f: Field): RendererInfo {
  const kind = f.get('kind').oneOf(['wasm', 'ptx', 'wgsl', 'gpujs'] as const);
  if (kind === 'wasm') return { kind, relaxedFma: f.get('relaxedFma').bool() };
  if (kind === 'ptx') return { kind, version: f.get('version').str(), target: f.get('target').str() };
  return { kind };
}

/**
 * The target the plan was compiled for. Limits and caps are checked field by field (a loader compares them with
 * the device's); schedules record how lowering tiled each kernel family and are only shown, never acted on.
 */
function targetOf(f: Field): Target {
  const l = f.get('limits');
  const grid = l.get('maxGrid').ints(1);
  const c = f.get('caps');
  const sched = f.get('schedules');
  for (const fam of ['matmul', 'gemv', 'attention', 'rows', 'elementwise', 'route']) sched.get(fam).get('kind').str();
  return {
    name: f.get('name').str(),
    device: f.get('device').str(),
    limits: {
      maxThreadsPerWorkgroup: l.get('maxThreadsPerWorkgroup').int(1),
      sharedBytes: l.get('sharedBytes').int(),
      maxBuffersPerKernel: l.get('maxBuffersPerKernel').int(1),
      maxGrid: [grid[0] ?? 1, grid[1] ?? 1, grid[2] ?? 1],
      maxBindingBytes: l.get('maxBindingBytes').int(),
      maxBufferBytes: l.get('maxBufferBytes').int(),
      memoryBytes: l.get('memoryBytes').int(),
    },
    caps: {
      f64: c.get('f64').bool(),
      f64Math: c.get('f64Math').bool(),
      f16Storage: c.get('f16Storage').bool(),
      bf16Storage: c.get('bf16Storage').bool(),
      u8Storage: c.get('u8Storage').bool(),
      f16Math: c.get('f16Math').bool(),
      vectorWidth: c.get('vectorWidth').int(1),
      subgroups: c.get('subgroups').bool(),
      ...(c.has('subgroupSize') ? { subgroupSize: c.get('subgroupSize').int(1) } : {}),
      aliasedBindings: c.get('aliasedBindings').bool(),
    },
    // Checked above to name a kind per family; nothing at load time reads the tiling parameters.
    schedules: sched.value as Target['schedules'],
  };
}

function modelOf(f: Field): ArtifactModel {
  const spec = f.get('spec');
  spec.keys();
  const modelType = f.opt('modelType', (m) => m.str());
  return {
    name: f.get('name').str(),
    ...(modelType !== undefined ? { modelType } : {}),
    numLayers: f.get('numLayers').int(1),
    hiddenSize: f.get('hiddenSize').int(1),
    vocabSize: f.get('vocabSize').int(1),
    layerRatios: f.get('layerRatios').items().map((r) => (r.value === null ? null : r.num())),
    eosTokenIds: f.get('eosTokenIds').ints(),
    spec: spec.value as object,
  };
}

function processorOf(f: Field): ProcessorData {
  const r = f.get('resize');
  const kind = r.get('kind').oneOf(['shortestEdge', 'exact'] as const);
  const three = (g: Field): [number, number, number] => {
    const v = g.items().map((x) => x.num());
    if (v.length !== 3) g.fail('expected 3 channels');
    return [v[0] ?? 0, v[1] ?? 0, v[2] ?? 0];
  };
  return {
    doResize: f.get('doResize').bool(),
    resize: kind === 'shortestEdge' ? { kind, edge: r.get('edge').int(1) } : { kind, height: r.get('height').int(1), width: r.get('width').int(1) },
    doCenterCrop: f.get('doCenterCrop').bool(),
    cropHeight: f.get('cropHeight').int(1),
    cropWidth: f.get('cropWidth').int(1),
    doRescale: f.get('doRescale').bool(),
    rescaleFactor: f.get('rescaleFactor').num(),
    doNormalize: f.get('doNormalize').bool(),
    imageMean: three(f.get('imageMean')),
    imageStd: three(f.get('imageStd')),
  };
}

function visionOf(f: Field, programs: number): ArtifactVision {
  return {
    tower: programRef(f.get('tower'), programs),
    aspect: f.get('aspect').oneOf(['pad', 'square'] as const),
    processor: processorOf(f.get('processor')),
    side: f.get('side').int(1),
    weightsDir: f.get('weightsDir').str(),
  };
}

function weightOf(f: Field): ArtifactWeight {
  const checkpoint = f.opt('checkpoint', (c) => ({ tensor: c.get('tensor').str(), file: c.get('file').str(), dtype: c.get('dtype').str(), begin: c.get('begin').int(), end: c.get('end').int() }));
  return {
    name: f.get('name').str(),
    dtype: f.get('dtype').oneOf<DType>(DTYPES),
    shape: f.get('shape').ints(),
    candidates: f.get('candidates').items().map((c) => c.str()),
    ...(checkpoint ? { checkpoint } : {}),
    ...(f.has('part') ? { part: f.get('part').oneOf(['vision'] as const) } : {}),
  };
}

function entryOf(f: Field, programs: number, numLayers: number): ArtifactEntry {
  const layers = f.get('layers').items().map((l) => ({
    capacity: l.get('capacity').value === null ? null : l.get('capacity').int(),
    visionRows: l.get('visionRows').int(),
    cacheCapacity: l.get('cacheCapacity').int(1),
  }));
  if (layers.length !== numLayers) f.get('layers').fail(`${layers.length} layers, the model has ${numLayers}`);
  const d = f.get('decode');
  const projector = f.opt('projector', (p) => programRef(p, programs));
  return {
    visionTokens: f.get('visionTokens').int(),
    maxTextTokens: f.get('maxTextTokens').int(1),
    maxNewTokens: f.get('maxNewTokens').int(),
    layers,
    prefill: programRef(f.get('prefill'), programs),
    decode: { ...programRef(d, programs), dynamic: d.get('dynamic').items().map((s) => s.str()) },
    ...(projector ? { projector } : {}),
  };
}

/**
 * Reads plan.json's text: checks the content hash first (a damaged or edited file is refused before anything
 * else is read), then every field. The kernel files are checked separately (checkKernelFile) as they are read.
 */
export async function readArtifact(text: string, file = PLAN_FILE): Promise<LoadedArtifact> {
  const m = HASH_RE.exec(text);
  if (m === null) throw new PlanFormatError(`${file}: not a modc plan (it must start with ${HEAD}...")`);
  const version = Number(m[1]);
  if (version !== PLAN_FORMAT_VERSION) throw new PlanFormatError(`${file}: plan format version ${version}; this modc reads version ${PLAN_FORMAT_VERSION} (recompile the model with this modc)`);
  const want = m[2] ?? '';
  const got = await sha256Hex(`${HEAD}${text.slice(HEAD.length + want.length)}`);
  if (got !== want) throw new PlanFormatError(`${file}: content hash mismatch (recorded ${want.slice(0, 16)}..., the file hashes to ${got.slice(0, 16)}...): the file was damaged or edited; recompile the model`);
  const root = new Field(planParse(text, file), file);
  const kernelFields = root.get('kernels').items();
  const kernels = kernelFields.map((k) => decodeKernel(k.get('kernel')));
  const artifactKernels: ArtifactKernel[] = kernelFields.map((k, i) => {
    const textFile = k.opt('text', fileOf);
    const imports = k.opt('imports', (x) => x.items().map((s) => s.str()));
    const kernel = kernels[i] as Kernel;
    const wgsl = k.opt('wgsl', (w) => wgslLayoutOf(w, kernel));
    return { kernel, hash: k.get('hash').str(), code: fileOf(k.get('code')), ...(textFile ? { text: textFile } : {}), ...(imports ? { imports } : {}), ...(wgsl ? { wgsl } : {}) };
  });
  const programFields = root.get('programs').items();
  const programs = programFields.map((p) => decodeProgram(p, kernels));
  const model = modelOf(root.get('model'));
  const artifact: Artifact = {
    format: PLAN_FORMAT,
    formatVersion: version,
    contentHash: want,
    compiler: { name: root.get('compiler').get('name').str(), version: root.get('compiler').get('version').str(), build: root.get('compiler').get('build').str() },
    source: { kind: root.get('source').get('kind').oneOf(['model', 'checkpoint'] as const), name: root.get('source').get('name').str() },
    model,
    target: targetOf(root.get('target')),
    renderer: rendererOf(root.get('renderer')),
    entries: root.get('entries').items().map((e) => entryOf(e, programs.length, model.numLayers)),
    ...(root.has('vision') ? { vision: visionOf(root.get('vision'), programs.length) } : {}),
    programs: programs.map((p, i) => ({ ...p, kernels: programFields[i]?.get('kernels').ints() ?? [] })),
    kernels: artifactKernels,
    weights: root.get('weights').items().map(weightOf),
  };
  if (artifact.entries.length === 0) root.get('entries').fail('no entries');
  return { artifact, programs, kernels };
}

/** Checks a kernel file's bytes against the plan's record of it. */
export async function checkKernelFile(f: ArtifactFile, bytes: Uint8Array): Promise<void> {
  if (bytes.length !== f.bytes) throw new PlanFormatError(`${f.path}: ${bytes.length} bytes, the plan records ${f.bytes}: the file was damaged or replaced; recompile the model`);
  const h = await sha256Hex(bytes);
  if (h !== f.sha256) throw new PlanFormatError(`${f.path}: SHA-256 ${h.slice(0, 16)}... differs from the plan's ${f.sha256.slice(0, 16)}...: the file was damaged or edited; recompile the model`);
}

/** Where an artifact's files come from: a directory (Node), URLs (a page), a map (tests, bundles). */
export interface ArtifactSource {
  /** For messages: the plan's path or URL. */
  readonly name: string;
  readonly plan: string;
  read(path: string): Promise<Uint8Array>;
}

export interface ArtifactWithCode extends LoadedArtifact {
  /** Each kernel's code file by its path in the artifact, checked against the plan. */
  readonly code: ReadonlyMap<string, Uint8Array>;
}

/** Reads an artifact: plan.json (content hash, every field), then every kernel code file (size and SHA-256). */
export async function loadArtifact(src: ArtifactSource): Promise<ArtifactWithCode> {
  const loaded = await readArtifact(src.plan, src.name);
  const code = new Map<string, Uint8Array>();
  for (const k of loaded.artifact.kernels) {
    if (code.has(k.code.path)) continue;
    const bytes = await src.read(k.code.path);
    await checkKernelFile(k.code, bytes);
    code.set(k.code.path, bytes);
  }
  return { ...loaded, code };
}

export { PlanFormatError };
