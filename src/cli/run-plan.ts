/**
 * `modc run --plan DIR --checkpoint CK`: runs a compiled artifact without the compiler. The artifact is read and
 * checked (content hash, every field, every kernel file), the checkpoint's headers are checked against the weight
 * manifest (names, shapes, dtypes: one error lists every problem) before any weight is read, and the entry for
 * the input's vision-token count runs on a device for the artifact's renderer (Wasm: its binaries, never
 * re-rendered; PTX: the ptx-emu interpreter). Nothing on this path imports src/passes (a test checks it).
 */
import { availableParallelism } from 'node:os';
import { spliceImage } from '../../models/index.js';
import { artifactDevice, artifactSpec, checkpointWeights } from '../api/artifact-node.js';
import { type HostTensor, type TensorStore } from '../ir/index.js';
import { artifactDirSource } from '../io/artifact-dir.js';
import { IMAGE_PLACEHOLDER } from '../io/prompt.js';
import { loadImage } from '../io/image/decode.js';
import { loadArtifactModel } from '../api/artifact-model.js';
import { writeSafetensors } from '../io/safetensors/index.js';
import { runOutputEntries } from './output-entries.js';
import { type ArtifactWithCode, loadArtifact } from '../runtime/artifact.js';
import type { Device } from '../runtime/device.js';
import { PlanSession } from '../runtime/plan-session.js';
import { ProgramRunner, DeviceResidency } from '../runtime/runner.js';
import { Sampler, type SamplingOptions } from '../runtime/sampling.js';
import { choiceOpt, flag, intOpt, parse, type Parsed, strOpt, UsageError } from './args.js';
import { checkGivenInputs, readInputsFile } from './inputs-file.js';
import type { CommandIO } from './main.js';

export const RUN_PLAN_HELP = `usage: modc run --plan DIR --checkpoint CK --prompt TEXT [--image FILE] [--template auto|none] [--max-new-tokens N]
                [--temperature T --top-p P --top-k K --seed S]
       modc run --plan DIR --checkpoint CK --inputs IN.safetensors --out OUT.safetensors [--max-new-tokens N]

Runs a compiled artifact ('modc compile <model> --target wasm --out DIR') without the compiler. The artifact is
checked (content hash, every field, each kernel file's SHA-256) and the checkpoint's tensor headers against the
artifact's weight manifest (names, shapes, dtypes; one error lists every mismatch) before any weight is read.

  --plan DIR          the artifact directory (plan.json, kernels/)
  --checkpoint CK     the Hugging Face checkpoint directory with the weights (and the tokenizer for --prompt)
  --prompt TEXT       a question, wrapped in the chat template; the answer is streamed to stdout, then the time
                      to the first token and the tokens/s after it go to stderr
  --image FILE        a PNG or JPEG, encoded by the artifact's CLIP tower and projector (LLaVA-1.5 padding)
  --vision-tower DIR  where the tower's weights are, when not where the artifact recorded (vision_tower/)
  --template NAME     auto (default: the checkpoint's tokenizer_config.json chat_template, else LLaVA's
                      vicuna_v1) or none (the prompt is tokenised as it is)
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

async function open(o: PlanRunOptions) {
  const artifact = await loadArtifact(artifactDirSource(o.plan));
  const weights = checkpointWeights(artifact, o.checkpoint);
  const device = await artifactDevice(artifact, o.threads ?? availableParallelism());
  return { artifact, weights, device, residency: new DeviceResidency(device as Device<unknown, unknown>) };
}

/** `--prompt`: the chat answer (the checkpoint's chat template, or vicuna_v1), streamed. */
export async function runPlanPrompt(o: PlanRunOptions & { prompt: string; template: 'auto' | 'none'; image?: string; visionTower?: string }, io: CommandIO): Promise<number> {
  if (o.prompt.includes(IMAGE_PLACEHOLDER) && o.image === undefined) throw new UsageError('the prompt contains <image>: give the image with --image FILE');
  const model = await loadArtifactModel(o.plan, { checkpoint: o.checkpoint, ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(o.visionTower !== undefined ? { visionTower: o.visionTower } : {}) });
  try {
    const image = o.image === undefined ? undefined : loadImage(o.image);
    const stream = model.generate({ prompt: o.prompt, raw: o.template === 'none', maxNewTokens: o.maxNewTokens, ...o.sampling, ...(image ? { image } : {}) });
    for await (const t of stream) if (t.text) io.write(t.text);
    const r = await stream.result;
    io.write('\n');
    io.progress.write(`${r.tokens.length} tokens; first after ${r.timeToFirstTokenMs.toFixed(0)} ms, then ${r.tokensPerSecond.toFixed(1)} tokens/s (plan ${o.plan})\n`);
  } finally {
    await model.dispose();
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
  const given = readInputsFile(o.inputs);
  const { artifact, weights, device, residency } = await open(o);
  try {
    const spec = artifactSpec(artifact);
    checkGivenInputs(o.inputs, given, spec, artifact.artifact.entries.some((e) => e.projector !== undefined), o.maxNewTokens);
    const vision = given.imageFeatures ? await project(device, artifact, residency, weights, given.imageFeatures) : given.visionEmbeds;
    const spliced = spliceImage(spec, given.ids, vision, o.maxNewTokens);
    const session = await PlanSession.load(device, artifact, PlanSession.entryFor(artifact, spliced.visionTokens), weights, residency);
    try {
      const res = await session.generate(spliced.inputs, { maxNewTokens: o.maxNewTokens, sampler: new Sampler({ temperature: 0 }), eosTokenIds: artifact.artifact.model.eosTokenIds });
      const entries = runOutputEntries({
        logits: res.prefill.allLogits, outputs: res.prefill.outputs, visionStart: spliced.visionStart ?? 0,
        tokens: res.tokens, tokenLogits: res.logits, vocab: artifact.artifact.model.vocabSize, maxNewTokens: o.maxNewTokens,
      });
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
      out(`wrote ${o.out}: logits [${res.prefill.allLogits.shape.join(', ')}], routing of ${entries.filter((e) => e.name.startsWith('routing.')).length} MoD layers${o.maxNewTokens > 0 ? `, ${res.tokens.length} generated tokens` : ''} (plan ${o.plan})`);
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
    image: { type: 'string' },
    'vision-tower': { type: 'string' },
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
    if (strOpt(p, 'image') !== undefined) throw new UsageError('--image goes with --prompt; with --inputs give image_features or vision_embeds');
    return runPlanInputs({ ...common, maxNewTokens: intOpt(p, 'max-new-tokens', 0), inputs, out: outPath }, out);
  }
  if (outPath !== undefined) throw new UsageError('--out goes with --inputs');
  const template = choiceOpt(p, 'template', ['auto', 'none'] as const, 'auto');
  const image = strOpt(p, 'image');
  const visionTower = strOpt(p, 'vision-tower');
  return runPlanPrompt({ ...common, maxNewTokens: intOpt(p, 'max-new-tokens', 64), prompt: prompt ?? '', template, ...(image !== undefined ? { image } : {}), ...(visionTower !== undefined ? { visionTower } : {}) }, io);
}
