/**
 * `modc run --plan DIR --checkpoint CK`: runs a compiled artifact without the compiler. The artifact is read and
 * checked (content hash, every field, every kernel file), the checkpoint's headers are checked against the weight
 * manifest (names, shapes, dtypes: one error lists every problem) before any weight is read, and the entry for
 * the input's vision-token count runs on a device for the artifact's renderer (Wasm: its binaries, never
 * re-rendered; PTX: the ptx-emu interpreter). Nothing on this path imports src/passes (a test checks it).
 */
import { availableParallelism } from 'node:os';
import { checkpointLayout, type ModelSpec, readCheckpointConfig, spliceImage, generationDefaults } from '../../models/index.js';
import { PtxEmuDevice } from '../backends/cuda-ptx/emu-device.js';
import { artifactKernelCache } from '../backends/wasm/artifact-kernels.js';
import { artifactShaders, missingFeatures } from '../backends/webgpu/artifact-shaders.js';
import { WasmDevice } from '../backends/wasm/device.js';
import { type HostTensor, makeTensor, type TensorStore } from '../ir/index.js';
import { artifactDirSource } from '../io/artifact-dir.js';
import { type CheckpointLayout, loadBoundWeights, planBinding, type WeightSpec } from '../io/checkpoint.js';
import { chatPrompt, IMAGE_PLACEHOLDER, tokenizeWithImages } from '../io/prompt.js';
import { SafetensorsStore, tensorEntry, type TensorEntry, writeSafetensors } from '../io/safetensors/index.js';
import { loadTokenizer, StreamDecoder } from '../io/tokenizer/index.js';
import { type ArtifactWithCode, loadArtifact } from '../runtime/artifact.js';
import type { Device } from '../runtime/device.js';
import { PlanSession } from '../runtime/plan-session.js';
import { ProgramRunner, DeviceResidency } from '../runtime/runner.js';
import { Sampler, type SamplingOptions } from '../runtime/sampling.js';
import { choiceOpt, flag, intOpt, parse, type Parsed, strOpt, UsageError } from './args.js';
import { Field } from '../runtime/plan-json.js';
import { readInputs } from './run-checkpoint.js';
import type { CommandIO } from './main.js';

export const RUN_PLAN_HELP = `usage: modc run --plan DIR --checkpoint CK --prompt TEXT [--template vicuna_v1|none] [--max-new-tokens N]
                [--temperature T --top-p P --top-k K --seed S]
       modc run --plan DIR --checkpoint CK --inputs IN.safetensors --out OUT.safetensors [--max-new-tokens N]

Runs a compiled artifact ('modc compile <model> --target wasm --out DIR') without the compiler. The artifact is
checked (content hash, every field, each kernel file's SHA-256) and the checkpoint's tensor headers against the
artifact's weight manifest (names, shapes, dtypes; one error lists every mismatch) before any weight is read.

  --plan DIR          the artifact directory (plan.json, kernels/)
  --checkpoint CK     the Hugging Face checkpoint directory with the weights (and the tokenizer for --prompt)
  --prompt TEXT       a question, wrapped in the vicuna_v1 chat template; the answer is streamed to stdout
  --template NAME     vicuna_v1 (default) or none
  --inputs IN         input_ids (and image_features or vision_embeds) as for 'modc run --checkpoint --inputs'
  --out OUT           logits, routing.layer{l}, generated_ids, generated_logits: the file 'modc run --checkpoint
                      CK --inputs IN --out OUT' writes, from the compiled plan
  --max-new-tokens N  tokens to generate (default 64 with --prompt, 0 with --inputs; at most what the artifact's
                      KV cache was sized for)
  --temperature T     0 (default) is greedy; > 0 samples, then --top-k K and --top-p P
  --threads N         Wasm threads (default: the machine's cores)`;

export interface PlanRunOptions {
  readonly plan: string;
  readonly checkpoint: string;
  readonly maxNewTokens: number;
  readonly sampling: SamplingOptions;
  readonly threads?: number;
}

/** The device that runs an artifact's kernels: Wasm, WebGPU (Dawn) or the PTX interpreter. */
async function deviceFor(a: ArtifactWithCode, threads: number | undefined): Promise<Device> {
  const r = a.artifact.renderer;
  if (r.kind === 'wasm') return new WasmDevice({ kernelCache: artifactKernelCache(a), relaxedSimd: r.relaxedFma, ...(threads !== undefined ? { threads } : {}) }) as Device;
  if (r.kind === 'ptx') return new PtxEmuDevice() as Device;
  const { openDawnDevice } = await import('../backends/webgpu/node.js');
  const d = await openDawnDevice({ shaders: artifactShaders(a) });
  const missing = missingFeatures(a.artifact.target, d.target);
  if (missing.length) {
    await d.dispose();
    throw new UsageError(`the artifact's shaders need ${missing.join(' and ')}, which this WebGPU adapter (${d.target.device}) lacks: compile with --target webgpu`);
  }
  return d as Device;
}

/**
 * The checkpoint's tensors bound to the artifact's weight manifest from the headers (every missing, mis-shaped,
 * mis-typed or unexpected tensor in one CheckpointError), then read in the manifest's dtypes.
 */
export function checkpointWeights(a: ArtifactWithCode, dir: string): TensorStore {
  const manifest = a.artifact.weights;
  const byName = new Map(manifest.map((w) => [w.name, w]));
  const spec = a.artifact.model.spec as Partial<ModelSpec>;
  const others = checkpointLayout(a.artifact.model.modelType ?? readCheckpointConfig(dir).modelType, spec.llm?.tieWordEmbeddings ?? false);
  const layout: CheckpointLayout = {
    candidates: (name) => {
      const w = byName.get(name);
      const recorded = w?.checkpoint?.tensor;
      return [...(recorded !== undefined ? [recorded] : []), ...(w?.candidates ?? [name])];
    },
    // Tensors of other graphs (the projector, the vision tower) are fine; anything else is a sign of another model.
    usedElsewhere: (name) => others.usedElsewhere(name) ?? (/mm_projector|multi_modal_projector/.test(name) ? 'the projector, not in this artifact' : undefined),
  };
  const tensors = SafetensorsStore.fromDir(dir);
  try {
    const specs: WeightSpec[] = manifest.map((w) => ({ name: w.name, dtype: w.dtype, shape: w.shape }));
    const plan = planBinding(dir, tensors, specs, layout);
    return loadBoundWeights(tensors, plan);
  } finally {
    tensors.close();
  }
}

/** The artifact's ModelSpec, with the fields the input builders read checked. */
function artifactSpec(a: ArtifactWithCode): ModelSpec {
  const f = new Field(a.artifact.model.spec, 'plan.json: model.spec');
  f.get('name').str();
  const llm = f.get('llm');
  for (const k of ['vocabSize', 'hiddenSize', 'maxPositions', 'numLayers']) llm.get(k).int(1);
  // Checked above where it is read; the rest is the compiler's own record of the model.
  return a.artifact.model.spec as ModelSpec;
}

async function open(o: PlanRunOptions) {
  const artifact = await loadArtifact(artifactDirSource(o.plan));
  const weights = checkpointWeights(artifact, o.checkpoint);
  const device = await deviceFor(artifact, o.threads ?? availableParallelism());
  return { artifact, weights, device, residency: new DeviceResidency(device as Device<unknown, unknown>) };
}

/** `--prompt`: the vicuna_v1 chat answer, streamed. */
export async function runPlanPrompt(o: PlanRunOptions & { prompt: string; template: 'vicuna_v1' | 'none' }, io: CommandIO): Promise<number> {
  if (o.prompt.includes(IMAGE_PLACEHOLDER)) throw new UsageError('images with --plan go in through --inputs (vision_embeds or image_features); --image needs the vision tower, which artifacts do not hold yet');
  const { artifact, weights, device, residency } = await open(o);
  try {
    const tokenizer = loadTokenizer(o.checkpoint);
    const ids = tokenizeWithImages(o.template === 'vicuna_v1' ? chatPrompt(o.prompt) : o.prompt, tokenizer);
    const spec = artifactSpec(artifact);
    const { inputs } = spliceImage(spec, ids, undefined, o.maxNewTokens);
    const session = await PlanSession.load(device, artifact, PlanSession.entryFor(artifact, 0), weights, residency);
    const eos = artifact.artifact.model.eosTokenIds.length ? artifact.artifact.model.eosTokenIds : generationDefaults(o.checkpoint, {}).eosTokenIds;
    const stream = new StreamDecoder(tokenizer);
    try {
      await session.generate(inputs, {
        maxNewTokens: o.maxNewTokens,
        sampler: new Sampler(o.sampling),
        eosTokenIds: eos.length ? eos : tokenizer.eosId !== undefined ? [tokenizer.eosId] : [],
        onToken: (id) => {
          const s = stream.push(id);
          if (s) io.write(s);
        },
      });
      io.write(`${stream.finish()}\n`);
    } finally {
      session.dispose();
    }
  } finally {
    await device.dispose();
  }
  return 0;
}

/** image_features -> vision_embeds with the entry's projector program. */
async function project(device: Device, artifact: ArtifactWithCode, residency: DeviceResidency<unknown>, weights: TensorStore, features: HostTensor): Promise<HostTensor> {
  const entry = PlanSession.entryFor(artifact, features.shape[0] ?? 0);
  const ref = entry.projector;
  const program = ref === undefined ? undefined : artifact.programs[ref.program];
  if (program === undefined) throw new UsageError(`the artifact has no projector for ${entry.visionTokens} vision tokens: give vision_embeds instead of image_features`);
  const runner = await ProgramRunner.load(device, program, weights, residency);
  try {
    const out = (await runner.run({ image_features: { ...features, dtype: 'f32' } })).vision_embeds;
    if (out === undefined) throw new UsageError('the projector program has no vision_embeds output');
    return out;
  } finally {
    runner.dispose();
  }
}

/** `--inputs IN --out OUT`: the same file `modc run --checkpoint CK --inputs IN --out OUT` writes. */
export async function runPlanInputs(o: PlanRunOptions & { inputs: string; out: string }, out: (s: string) => void): Promise<number> {
  const given = readInputs(o.inputs);
  const { artifact, weights, device, residency } = await open(o);
  try {
    const spec = artifactSpec(artifact);
    const vision = given.imageFeatures ? await project(device, artifact, residency, weights, given.imageFeatures) : given.visionEmbeds;
    const spliced = spliceImage(spec, given.ids, vision, o.maxNewTokens);
    const session = await PlanSession.load(device, artifact, PlanSession.entryFor(artifact, spliced.visionTokens), weights, residency);
    try {
      const res = await session.generate(spliced.inputs, { maxNewTokens: o.maxNewTokens, sampler: new Sampler({ temperature: 0 }), eosTokenIds: artifact.artifact.model.eosTokenIds });
      const entries: TensorEntry[] = [tensorEntry('logits', res.prefill.allLogits)];
      const start = spliced.visionStart ?? 0;
      const routed = Object.keys(res.prefill.outputs)
        .filter((n) => /^routing\.layer\d+$/.test(n))
        .sort((a, b) => Number(a.slice(13)) - Number(b.slice(13)));
      for (const name of routed) {
        const kept = res.prefill.outputs[name];
        if (kept) entries.push(tensorEntry(name, makeTensor('i32', kept.shape, Array.from(kept.data, (p) => p - start))));
      }
      const vocab = artifact.artifact.model.vocabSize;
      if (o.maxNewTokens > 0) {
        entries.push(tensorEntry('generated_ids', makeTensor('i32', [res.tokens.length], res.tokens)));
        const rows = new Float32Array(res.tokens.length * vocab);
        res.logits.forEach((r, i) => rows.set(r, i * vocab));
        entries.push(tensorEntry('generated_logits', { dtype: 'f32', shape: [res.tokens.length, vocab], data: rows }));
      }
      writeSafetensors(o.out, entries, {
        format: 'modc',
        model_type: artifact.artifact.model.modelType ?? '',
        sequence_length: String(spliced.length),
        vision_tokens: String(spliced.visionTokens),
        vision_start: spliced.visionStart === undefined ? '' : String(spliced.visionStart),
        max_new_tokens: String(o.maxNewTokens),
        generated: String(res.tokens.length),
        stop: o.maxNewTokens > 0 ? res.stop : '',
      });
      out(`wrote ${o.out}: logits [${res.prefill.allLogits.shape.join(', ')}], routing of ${routed.length} MoD layers${o.maxNewTokens > 0 ? `, ${res.tokens.length} generated tokens` : ''} (plan ${o.plan})`);
    } finally {
      session.dispose();
    }
  } finally {
    await device.dispose();
  }
  return 0;
}

function samplingOptions(p: Parsed): SamplingOptions {
  const num = (name: string, fallback: number): number => {
    const v = strOpt(p, name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
    return n;
  };
  const temperature = num('temperature', 0);
  const topP = num('top-p', 1);
  if (temperature < 0) throw new UsageError(`--temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new UsageError(`--top-p must be in (0, 1], got ${topP}`);
  return { temperature, topP, topK: intOpt(p, 'top-k', 0), seed: intOpt(p, 'seed', 0) };
}

export async function runPlanCommand(argv: readonly string[], out: (s: string) => void, io: CommandIO): Promise<number> {
  const p = parse(argv, {
    plan: { type: 'string' },
    checkpoint: { type: 'string' },
    prompt: { type: 'string' },
    template: { type: 'string' },
    inputs: { type: 'string' },
    out: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    'top-k': { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
  });
  if (flag(p, 'help')) {
    out(RUN_PLAN_HELP);
    return 0;
  }
  const plan = strOpt(p, 'plan');
  const checkpoint = strOpt(p, 'checkpoint');
  if (plan === undefined) throw new UsageError('--plan needs the artifact directory');
  if (checkpoint === undefined) throw new UsageError('--plan needs --checkpoint CK: the weights the artifact runs with');
  if (p.positionals.length) throw new UsageError(`--plan takes no model argument, got '${p.positionals.join(' ')}'`);
  const prompt = strOpt(p, 'prompt');
  const inputs = strOpt(p, 'inputs');
  const outPath = strOpt(p, 'out');
  if ((prompt === undefined) === (inputs === undefined)) throw new UsageError('--plan needs --prompt TEXT or --inputs IN.safetensors --out OUT.safetensors');
  const threads = strOpt(p, 'threads') === undefined ? undefined : intOpt(p, 'threads', 1, 1);
  const common = { plan, checkpoint, sampling: samplingOptions(p), ...(threads !== undefined ? { threads } : {}) };
  if (inputs !== undefined) {
    if (outPath === undefined) throw new UsageError('--inputs needs --out OUT.safetensors');
    if (strOpt(p, 'temperature') !== undefined) throw new UsageError('--inputs generates greedily; --temperature applies to --prompt');
    return runPlanInputs({ ...common, maxNewTokens: intOpt(p, 'max-new-tokens', 0), inputs, out: outPath }, out);
  }
  if (outPath !== undefined) throw new UsageError('--out goes with --inputs');
  const template = choiceOpt(p, 'template', ['vicuna_v1', 'none'] as const, 'vicuna_v1');
  return runPlanPrompt({ ...common, maxNewTokens: intOpt(p, 'max-new-tokens', 64), prompt: prompt ?? '', template }, io);
}
