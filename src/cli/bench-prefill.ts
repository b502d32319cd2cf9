/**
 * `modc bench prefill`: wall-clock prefill of a small LLaVA-like p-MoD model and of the same model without
 * routing on the wasm backend, next to their FLOP ratio (whole graph, from the cost model).
 */
import { buildLanguageModel, randomLlavaInputs, TINY_PMOD, withoutRouting, type ModelSpec } from '../../models/index.js';
import { BACKEND_NAMES, createExecutor } from '../backends/registry.js';
import { wasmExecutor } from '../backends/wasm/index.js';
import { relaxedSimdAvailable } from '../backends/wasm/features.js';
import { graphCosts } from '../cost/flops.js';
import { costReport } from '../cost/report.js';
import type { Graph, MapStore } from '../ir/index.js';
import { randomWeights, Rng } from '../runtime/random.js';
import { choiceOpt, flag, intOpt, parse } from './args.js';
import { formatBounds, meanBounds, measureBounds, pct } from './bench-bounds.js';
import { formatSpread, median, spread, topKernels } from './bench-util.js';
import { loadText } from './bench-load.js';

export const PREFILL_HELP = `  modc bench prefill [--d 1024] [--layers 16] [--vision-tokens 576] [--text-tokens 64] [--threads T] [--repeat R] [--backend B] [--skip-bounds] [--json]
      p-MoD vs dense prefill on wasm (random weights, routers non-zero; dense and p-MoD runs alternate), median
      [range]; on wasm the GFLOP/s of the linear layers and of attention in the same runs, and the bounds measured
      before and after; JSON: { dense: { ms }, pmod: { ms }, flopRatio, timeRatio, families, bounds, ... }`;

/** A LLaVA-like language model: Llama layers of width d, p-MoD routing with the released schedule. */
export function benchModel(d: number, layers: number, vocab: number): ModelSpec {
  return {
    ...TINY_PMOD,
    name: `bench-pmod-d${d}-l${layers}`,
    description: 'LLaVA-like p-MoD model for benchmarks',
    llm: {
      ...TINY_PMOD.llm,
      hiddenSize: d,
      numLayers: layers,
      numHeads: d / 64,
      numKvHeads: d / 64,
      headDim: 64,
      intermediateSize: Math.round((d * 11) / 4 / 64) * 64,
      vocabSize: vocab,
      maxPositions: 4096,
    },
  };
}

function totalFlops(g: Graph, nv: number, t: number): number {
  return graphCosts(g, { N_v: nv, T: t }).reduce((a, c) => a + c.flops, 0);
}

/** Router weights of a trained model are not zero; random ones make routing non-trivial. */
function randomRouters(w: MapStore, layers: number, seed: number): void {
  const rng = new Rng(seed);
  for (let l = 0; l < layers; l++) {
    const name = `model.layers.${l}.router.router.weight`;
    if (!w.has(name)) continue;
    const t = w.get(name);
    for (let i = 0; i < t.data.length; i++) t.data[i] = Math.fround(rng.normal() * 0.05);
  }
}

interface FamilyRates {
  readonly matmul: { readonly ms: number; readonly gflops: number };
  readonly attention: { readonly ms: number; readonly gflops: number };
}

/**
 * GFLOP/s of the linear layers and of attention in one run: FLOPs from the cost model (attention counts the
 * causal half, the visible query-key pairs), time from the per-kernel profile (gemv_ / linear_ and attention_
 * kernels; the decode-form merge kernel and the head-major copies of K and V for the blocked kernel count with
 * attention).
 */
function familyRates(g: Graph, nv: number, t: number, kernelMs: ReadonlyMap<string, number>): FamilyRates {
  let [mmFlops, attFlops, mmMs, attMs] = [0, 0, 0, 0];
  for (const c of graphCosts(g, { N_v: nv, T: t }, 'causal-half')) {
    if (c.node.op === 'linear' || c.node.op === 'matmul') mmFlops += c.flops;
    else if (c.node.op === 'attention') attFlops += c.flops;
  }
  for (const [k, ms] of kernelMs) {
    if (k.startsWith('linear_') || k.startsWith('gemv_')) mmMs += ms;
    else if (k.startsWith('attention_') || k.startsWith('head_major_')) attMs += ms;
  }
  return { matmul: { ms: mmMs, gflops: mmFlops / mmMs / 1e6 }, attention: { ms: attMs, gflops: attFlops / attMs / 1e6 } };
}

export async function prefillBench(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    d: { type: 'string' },
    layers: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    threads: { type: 'string' },
    backend: { type: 'string' },
    repeat: { type: 'string' },
    vocab: { type: 'string' },
    'skip-bounds': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    out(PREFILL_HELP);
    return 0;
  }
  const d = intOpt(p, 'd', 1024, 64);
  const layers = intOpt(p, 'layers', 16, 2);
  const nv = intOpt(p, 'vision-tokens', 576, 0);
  const t = intOpt(p, 'text-tokens', 64, 1);
  const threads = intOpt(p, 'threads', 2, 1);
  const repeat = intOpt(p, 'repeat', 5, 1);
  const vocab = intOpt(p, 'vocab', 8192, 16);
  const spec = benchModel(d, layers, vocab);
  const dense = withoutRouting(spec);
  const gMod = buildLanguageModel(spec, { maxVisionTokens: 4096, maxTextTokens: 4096 });
  const gDense = buildLanguageModel(dense, { maxVisionTokens: 4096, maxTextTokens: 4096 });
  const inputs = randomLlavaInputs(spec, t, nv, 1);
  const backend = choiceOpt(p, 'backend', BACKEND_NAMES, 'wasm');
  // Per-kernel times on wasm (a clock read per dispatch): attention and matmul GFLOP/s of the same runs.
  const profile = backend === 'wasm' ? new Map<string, number>() : undefined;
  const withBounds = !flag(p, 'skip-bounds') && backend === 'wasm';
  const load0 = loadText();
  const before = withBounds ? await measureBounds(threads) : undefined;
  const exec = backend === 'wasm' ? wasmExecutor({ threads, startWorkers: true, ...(profile ? { profile } : {}) }) : await createExecutor(backend, { threads });
  // Both models are prepared (weights resident, plans compiled by a first run), then timed alternately, so a
  // change in machine load during the benchmark affects both alike.
  const prepare = async (g: Graph, seed: number): Promise<{ run: () => Promise<void>; firstRunMs: number; dispose: () => void }> => {
    const w = randomWeights(g, seed);
    randomRouters(w, layers, seed);
    const prepared = await exec.prepare(g, w);
    const t0 = performance.now();
    await prepared.run(inputs);
    return { run: async () => void (await prepared.run(inputs)), firstRunMs: performance.now() - t0, dispose: () => prepared.dispose() };
  };
  try {
    const mod = await prepare(gMod, 1);
    const dense0 = await prepare(gDense, 1);
    const times: { pmod: number[]; dense: number[] } = { pmod: [], dense: [] };
    const kernelMs: { pmod: Map<string, number>; dense: Map<string, number> } = { pmod: new Map(), dense: new Map() };
    for (let r = 0; r < repeat; r++)
      for (const [key, m] of [['dense', dense0], ['pmod', mod]] as const) {
        profile?.clear();
        const t0 = performance.now();
        await m.run();
        times[key].push(performance.now() - t0);
        for (const [k, ms] of profile ?? []) kernelMs[key].set(k, (kernelMs[key].get(k) ?? 0) + ms / repeat);
      }
    if (process.env.MODC_WASM_PROFILE === '1')
      for (const key of ['dense', 'pmod'] as const) {
        process.stderr.write(`per-kernel time of one ${key} run (mean of ${repeat}):\n`);
        for (const [k, ms] of topKernels(kernelMs[key], 16)) process.stderr.write(`  ${k.padEnd(40)} ${ms.toFixed(1)} ms\n`);
      }
    const after = withBounds ? await measureBounds(threads) : undefined;
    const bounds = before && after ? meanBounds(before, after) : undefined;
    mod.dispose();
    dense0.dispose();
    const pmod = { ms: median(times.pmod), firstRunMs: mod.firstRunMs };
    const den = { ms: median(times.dense), firstRunMs: dense0.firstRunMs };
    const flopsMod = totalFlops(gMod, nv, t);
    const flopsDense = totalFlops(gDense, nv, t);
    const layerReport = costReport(spec.name, gMod, gDense, nv, t);
    const families = { dense: familyRates(gDense, nv, t, kernelMs.dense), pmod: familyRates(gMod, nv, t, kernelMs.pmod) };
    const result = {
      model: { d, layers, heads: spec.llm.numHeads, intermediate: spec.llm.intermediateSize, vocab, visionTokens: nv, textTokens: t },
      backend,
      threads,
      relaxedSimd: relaxedSimdAvailable(),
      repeat,
      runs: times,
      dense: { ms: den.ms, gflops: flopsDense / den.ms / 1e6, firstRunMs: den.firstRunMs },
      pmod: { ms: pmod.ms, gflops: flopsMod / pmod.ms / 1e6, firstRunMs: pmod.firstRunMs },
      flopRatio: flopsMod / flopsDense,
      decoderFlopRatio: layerReport.totals.flopRatio,
      timeRatio: pmod.ms / den.ms,
      timeOverFlopRatio: pmod.ms / den.ms / (flopsMod / flopsDense),
      ...(profile ? { families } : {}),
      load: [load0, loadText()],
      ...(before && after ? { bounds: { before, after } } : {}),
    };
    const familyLine = (name: string, f: FamilyRates): string =>
      `  ${name}: matmuls ${f.matmul.gflops.toFixed(1)} GFLOP/s (${f.matmul.ms.toFixed(0)} ms), attention ${f.attention.gflops.toFixed(1)} GFLOP/s ` +
      `(${f.attention.ms.toFixed(0)} ms) = ${pct(f.attention.gflops, f.matmul.gflops)} of the matmuls` +
      (bounds ? `; of the FMA peak: matmuls ${pct(f.matmul.gflops, bounds.fmaGflops.median)}, attention ${pct(f.attention.gflops, bounds.fmaGflops.median)}` : '');
    if (flag(p, 'json')) out(JSON.stringify(result, null, 2));
    else
      out(
        `prefill of ${nv} vision + ${t} text tokens, d=${d}, ${layers} layers, ${backend}${backend === 'wasm' ? ` ${threads} threads` : ''} (median [range] of ${repeat}; ${load0}, after: ${loadText()})\n` +
          (before && after ? `${formatBounds(before)}\n${formatBounds(after)}\n` : '') +
          `  dense ${formatSpread(spread(times.dense), 0)} ms (${result.dense.gflops.toFixed(1)} GFLOP/s)\n` +
          `  p-MoD ${formatSpread(spread(times.pmod), 0)} ms (${result.pmod.gflops.toFixed(1)} GFLOP/s)\n` +
          `  FLOP ratio ${result.flopRatio.toFixed(4)}, time ratio ${result.timeRatio.toFixed(4)} (${result.timeOverFlopRatio.toFixed(3)}x the FLOP ratio)` +
          (profile ? `\n${familyLine('dense', families.dense)}\n${familyLine('p-MoD', families.pmod)}` : ''),
      );
    return 0;
  } finally {
    await exec.dispose();
  }
}
