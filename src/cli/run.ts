/**
 * `modc run`: runs a model end to end on a backend: a real checkpoint (`--checkpoint DIR`, see run-checkpoint.ts)
 * or a zoo / config model with seeded random weights and inputs.
 */
// The model modules this command needs, not models/index.js: that pulls in checkpoints, tokenizers and image
// decoders (about 100 ms of a cold start), which only --checkpoint uses (loaded below when it is given).
import { ConfigError } from '../../models/config.js';
import { randomLlavaInputs } from '../../models/inputs.js';
import { buildLanguageModel } from '../../models/llama.js';
import { layerCapacities, layerRatios } from '../../models/prd.js';
import { resolveModel } from '../../models/resolve.js';
import { BACKEND_NAMES, createExecutor } from './backends.js';
import { byteSize, DTYPES, type DType, graphWeights, type HostTensor } from '../ir/index.js';
import { randomWeights } from '../runtime/random.js';
import { choiceOpt, flag, intOpt, onePositional, parse, refuseOptions, strOpt, UsageError } from './args.js';
import type { CommandIO } from './main.js';
import { statusLine } from '../io/progress.js';
import { tokenCounts } from './token-counts.js';
import { CACHE_HELP, CACHE_OPTIONS, cacheReport, openCaches } from './cache.js';

export const RUN_HELP = `usage: modc run --checkpoint DIR --prompt TEXT [--image FILE [--vision-tower DIR]] [--max-new-tokens N]
                [--temperature T [--top-p P] [--top-k K] [--seed S]] [--ids | --json]
       modc run --checkpoint DIR --inputs IN.safetensors --out OUT.safetensors [--max-new-tokens N]
       modc run <model> [--vision-tokens N] [--text-tokens T] [--seed S] [--dtype f32|f16|bf16] [--json]

With --checkpoint, runs a Hugging Face checkpoint directory (config.json, *.safetensors, tokenizer files) of a
Llama/Vicuna, LLaVA-1.5, LLaVA-NeXT or p-MoD-LLaVA model. Weight loading shows a progress bar on stderr when it is
a terminal (or with --progress).

  --prompt TEXT       a question; it is wrapped in the vicuna_v1 chat template and the answer is streamed to
                      stdout (control characters escaped when stdout is a terminal), then the time to the first
                      token and the tokens/s after it go to stderr. <image> in the prompt marks where the image
                      goes (default: before the question).
  --ids               after the answer, print the prompt's and the answer's token ids
  --json              print one JSON object instead: answer, stop, promptIds, answerIds, promptTokens,
                      visionTokens, timeToFirstTokenMs, tokensPerSecond, totalMs
  --image FILE        a PNG or JPEG image: preprocessed as the model's config says (LLaVA-1.5 pad-to-square, or
                      LLaVA-NeXT anyres tiles with image_newline), encoded by the CLIP tower, projected
  --max-image-pixels N  refuse images of more pixels, before decoding (default 178956970, where Pillow refuses
                      a decompression bomb)
  --vision-tower DIR  the CLIP checkpoint directory (config.json, *.safetensors, preprocessor_config.json) that
                      mm_vision_tower names, when it is not in the checkpoint or a local path in its config
  --template NAME     vicuna_v1 (default) or none (the prompt is tokenised as it is)
  --inputs IN         a safetensors file with input_ids (int32 [S'], one -200 where the image goes, or none) and
                      either image_features (f32 [N_v, mm_hidden], run through the projector) or vision_embeds
                      (f32 [N_v, d]). The -200 is replaced by the N_v vision rows: S = S' - 1 + N_v.
  --out OUT           where --inputs writes logits (f32 [S, vocab]), routing.layer{l} (int32, kept vision-token
                      indices of MoD layer l, ascending, from the first vision token) and, with N > 0 new tokens,
                      generated_ids (int32 [M]) and generated_logits (f32 [M, vocab]; each step's logits, greedy).
                      M = N unless EOS is chosen first: then M < N and the last id is the EOS token; the file's
                      metadata 'stop' says 'eos' or 'length'.
  --max-new-tokens N  tokens to generate (default 64 with --prompt, 0 with --inputs); stops early at EOS
  --temperature T     0 (default) is greedy; > 0 samples, then --top-k K (0 = all) and --top-p P (1 = all)
  --seed S            seed of the sampler (with --temperature > 0) or of the random weights (without
                      --checkpoint); default 0
  --progress          draw the loading progress bar even when stderr is not a terminal
  --backend NAME      one of this build's backends: ${BACKEND_NAMES.join(', ')}. wasm is the default
                      (WebAssembly SIMD, multi-threaded); reference is the interpreter, the oracle of the others
${CACHE_HELP}

Options that do not apply to the mode (e.g. --vision-tokens with --checkpoint, --seed when decoding greedily)
are refused.

Without --checkpoint, runs the prefill of <model> (zoo name, config.json, models/*.ts) on seeded random weights and
a seeded random prompt (T text tokens around N_v vision embeddings) and prints the next-token prediction, the
routing of every MoD layer and timing.

  --vision-tokens N   vision tokens (default: 32 for tiny models, else the model's typical image)
  --text-tokens T     text tokens (default: the model's typical prompt)
  --dtype D           weight storage dtype (default: the model's torch_dtype)
  --max-weight-gib G  refuse random weights larger than this (default 2)
  --json              print a JSON summary`;


function argmax(t: HostTensor, row: number): { index: number; value: number } {
  const v = t.shape[1] ?? 0;
  let best = 0;
  for (let i = 1; i < v; i++) if ((t.data[row * v + i] ?? 0) > (t.data[row * v + best] ?? 0)) best = i;
  return { index: best, value: t.data[row * v + best] ?? 0 };
}

/** Options of a run on random weights (without --checkpoint). */
const RANDOM_OPTIONS = ['backend', 'vision-tokens', 'text-tokens', 'seed', 'dtype', 'max-weight-gib', 'json', 'cache-dir', 'no-cache', 'verbose'];

export async function runCommand(argv: readonly string[], out: (s: string) => void, io: CommandIO): Promise<number> {
  const p = parse(argv, {
    checkpoint: { type: 'string' },
    prompt: { type: 'string' },
    image: { type: 'string' },
    'max-image-pixels': { type: 'string' },
    'vision-tower': { type: 'string' },
    template: { type: 'string' },
    inputs: { type: 'string' },
    out: { type: 'string' },
    'max-new-tokens': { type: 'string' },
    temperature: { type: 'string' },
    'top-p': { type: 'string' },
    'top-k': { type: 'string' },
    progress: { type: 'boolean' },
    backend: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    seed: { type: 'string' },
    dtype: { type: 'string' },
    'max-weight-gib': { type: 'string' },
    json: { type: 'boolean' },
    ids: { type: 'boolean' },
    ...CACHE_OPTIONS,
  });
  if (flag(p, 'help')) {
    out(RUN_HELP);
    return 0;
  }
  const backend = strOpt(p, 'backend') ?? 'wasm';
  if (!BACKEND_NAMES.includes(backend)) throw new UsageError(`--backend '${backend}' is not in this build; its backends are ${BACKEND_NAMES.join(', ')}`);
  const caches = openCaches(p);
  const cacheOpts = caches ? { programStore: caches.programs, kernelCache: caches.kernels } : {};
  const verbose = (): void => {
    if (flag(p, 'verbose')) for (const l of cacheReport(caches)) io.progress.write(`${l}\n`);
  };
  if (strOpt(p, 'checkpoint') !== undefined) return (await import('./run-checkpoint.js')).runCheckpoint(p, backend, io, out, cacheOpts).finally(verbose);
  refuseOptions(p, RANDOM_OPTIONS, 'without --checkpoint DIR', false);
  const spec = await resolveModel(onePositional(p, 'model'));
  const { nv, t } = tokenCounts(p, spec);
  const seed = intOpt(p, 'seed', 0);
  const dtype: DType = choiceOpt(p, 'dtype', DTYPES.filter((d) => d === 'f32' || d === 'f16' || d === 'bf16'), spec.llm.weightDtype);

  const graph = buildLanguageModel(spec, { weightDtype: dtype, exportRouting: true });
  const bytes = graphWeights(graph).reduce((a, w) => a + byteSize({ dtype: 'f32', shape: w.attrs.shape.map((d) => (typeof d === 'number' ? d : 0)) }), 0);
  const limit = intOpt(p, 'max-weight-gib', 2, 1) * 2 ** 30;
  if (bytes > limit)
    throw new ConfigError(`'${spec.name}' has ${(bytes / 2 ** 30).toFixed(1)} GiB of weights (as f32 on the reference backend); random weights are limited to ${limit / 2 ** 30} GiB (--max-weight-gib). Use a tiny model or a real checkpoint.`);

  const t0 = performance.now();
  const weights = randomWeights(graph, seed);
  const inputs = randomLlavaInputs(spec, t, nv, seed);
  const t1 = performance.now();
  const executor = await createExecutor(backend, cacheOpts);
  // The first run compiles the plan for these token counts (and uploads weights); the second is the prefill itself.
  const compiling = statusLine(io.progress, `${backend}: preparing ${spec.name} and compiling the plan for ${nv + t} tokens`);
  const prepared = await executor.prepare(graph, weights);
  await prepared.run(inputs);
  compiling.done();
  const t2 = performance.now();
  // performance.now() counts from the start of the process: the cold start up to the first logits.
  const sinceStart = t2;
  const outputs = await prepared.run(inputs);
  const t3 = performance.now();
  prepared.dispose();
  await executor.dispose();

  const logits = outputs.logits;
  if (logits === undefined) throw new Error('graph produced no logits');
  const s = logits.shape[0] ?? 0;
  const next = argmax(logits, s - 1);
  const ratios = spec.mod ? layerRatios(spec.mod.schedule, spec.llm.numLayers) : [];
  const expected = layerCapacities(ratios, nv);
  // Kept tokens are reported as vision-token indices (0 = the first vision token), not sequence positions.
  const visionIndex = new Map(Array.from(inputs.vision_positions?.data ?? [], (pos, i) => [pos, i] as const));
  const routing = ratios.flatMap((r, l) => {
    const kept = outputs[`routing.layer${l}`];
    if (r === null || kept === undefined) return [];
    return [{ layer: l, ratio: r, capacity: expected[l] ?? 0, kept: Array.from(kept.data, (pos) => visionIndex.get(pos) ?? -1) }];
  });
  for (const r of routing) if (r.kept.length !== r.capacity) throw new Error(`layer ${r.layer} kept ${r.kept.length} tokens, expected k_l = ${r.capacity}`);
  const summary = {
    model: spec.name,
    backend,
    visionTokens: nv,
    textTokens: t,
    seed,
    weightDtype: dtype,
    logitsShape: logits.shape,
    nextToken: next.index,
    nextTokenLogit: next.value,
    routing,
    // sinceStart: when the timed prefill began; firstLogitsSinceStart: when the first run's logits were ready (ms
    // since the process started, performance.now's origin).
    ms: { setup: t1 - t0, firstRun: t2 - t1, prefill: t3 - t2, sinceStart: t2, firstLogitsSinceStart: sinceStart },
  };
  verbose();
  if (flag(p, 'json')) {
    out(JSON.stringify(summary, null, 2));
    return 0;
  }
  out(`model ${spec.name} on ${backend}: N_v = ${nv}, T = ${t}, seed ${seed}, ${dtype} weights (random)`);
  out(`prefill of ${s} tokens: ${(t3 - t2).toFixed(1)} ms (first run, which compiles the plan: ${(t2 - t1).toFixed(1)} ms; random weights ${(t1 - t0).toFixed(1)} ms; first logits ${sinceStart.toFixed(0)} ms after the process started)`);
  out(`logits [${logits.shape.join(', ')}]; next token after the prompt: ${next.index} (logit ${next.value.toFixed(4)})`);
  for (const r of routing) out(`  layer ${String(r.layer).padStart(2)}: R_l ${r.ratio.toFixed(4)}, kept ${r.kept.length}/${nv} vision tokens: [${r.kept.slice(0, 12).join(' ')}${r.kept.length > 12 ? ' ...' : ''}]`);
  return 0;
}
