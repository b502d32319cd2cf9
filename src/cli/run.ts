/** `modc run`: runs a model end to end on a backend with seeded random weights and inputs. */
import { buildLanguageModel, checkTokenCounts, ConfigError, layerCapacities, layerRatios, randomLlavaInputs, resolveModel } from '../../models/index.js';
import { BACKEND_NAMES, createExecutor } from './backends.js';
import { byteSize, DTYPES, type DType, graphWeights, type HostTensor } from '../ir/index.js';
import { randomWeights } from '../runtime/random.js';
import { choiceOpt, flag, intOpt, onePositional, parse } from './args.js';

export const RUN_HELP = `usage: modc run <model> [--backend reference|wasm] [--vision-tokens N] [--text-tokens T] [--seed S] [--dtype f32|f16|bf16] [--json]

Runs the model's prefill on seeded random weights and a seeded random prompt (T text tokens around an image
block of N_v vision embeddings) and prints the next-token prediction, the routing of every MoD layer and timing.

  --backend NAME      reference (the interpreter; the oracle of the other backends) or wasm (WebAssembly SIMD,
                      multi-threaded)
  --vision-tokens N   vision tokens (default: 32 for tiny models, else the model's typical image)
  --text-tokens T     text tokens (default: the model's typical prompt)
  --seed S            seed of the weights and the prompt (default 0)
  --dtype D           weight storage dtype (default: the model's torch_dtype)
  --max-weight-gib G  refuse random weights larger than this (default 2)
  --json              print a JSON summary`;


function argmax(t: HostTensor, row: number): { index: number; value: number } {
  const v = t.shape[1] ?? 0;
  let best = 0;
  for (let i = 1; i < v; i++) if ((t.data[row * v + i] ?? 0) > (t.data[row * v + best] ?? 0)) best = i;
  return { index: best, value: t.data[row * v + best] ?? 0 };
}

export async function runCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    backend: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    seed: { type: 'string' },
    dtype: { type: 'string' },
    'max-weight-gib': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    out(RUN_HELP);
    return 0;
  }
  const backend = choiceOpt(p, 'backend', BACKEND_NAMES, 'reference');
  const spec = await resolveModel(onePositional(p, 'model'));
  const nv = intOpt(p, 'vision-tokens', spec.vision?.defaultVisionTokens ?? 0);
  const t = intOpt(p, 'text-tokens', spec.defaultTextTokens);
  const seed = intOpt(p, 'seed', 0);
  const dtype: DType = choiceOpt(p, 'dtype', DTYPES.filter((d) => d === 'f32' || d === 'f16' || d === 'bf16'), spec.llm.weightDtype);
  checkTokenCounts(spec, nv, t);

  const graph = buildLanguageModel(spec, { weightDtype: dtype, exportRouting: true });
  const bytes = graphWeights(graph).reduce((a, w) => a + byteSize({ dtype: 'f32', shape: w.attrs.shape.map((d) => (typeof d === 'number' ? d : 0)) }), 0);
  const limit = intOpt(p, 'max-weight-gib', 2, 1) * 2 ** 30;
  if (bytes > limit)
    throw new ConfigError(`'${spec.name}' has ${(bytes / 2 ** 30).toFixed(1)} GiB of weights (as f32 on the reference backend); random weights are limited to ${limit / 2 ** 30} GiB (--max-weight-gib). Use a tiny model or a real checkpoint.`);

  const t0 = performance.now();
  const weights = randomWeights(graph, seed);
  const inputs = randomLlavaInputs(spec, t, nv, seed);
  const t1 = performance.now();
  const executor = await createExecutor(backend);
  const prepared = await executor.prepare(graph, weights);
  const outputs = await prepared.run(inputs);
  prepared.dispose();
  await executor.dispose();
  const t2 = performance.now();

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
    ms: { setup: t1 - t0, prefill: t2 - t1 },
  };
  if (flag(p, 'json')) {
    out(JSON.stringify(summary, null, 2));
    return 0;
  }
  out(`model ${spec.name} on ${backend}: N_v = ${nv}, T = ${t}, seed ${seed}, ${dtype} weights (random)`);
  out(`prefill of ${s} tokens: ${(t2 - t1).toFixed(1)} ms (setup ${(t1 - t0).toFixed(1)} ms)`);
  out(`logits [${logits.shape.join(', ')}]; next token after the prompt: ${next.index} (logit ${next.value.toFixed(4)})`);
  for (const r of routing) out(`  layer ${String(r.layer).padStart(2)}: R_l ${r.ratio.toFixed(4)}, kept ${r.kept.length}/${nv} vision tokens: [${r.kept.slice(0, 12).join(' ')}${r.kept.length > 12 ? ' ...' : ''}]`);
  return 0;
}
