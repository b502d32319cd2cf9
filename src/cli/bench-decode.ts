/**
 * `modc bench decode`: per-token decode time of a small LLaVA-like p-MoD model and of the same model without
 * routing on the wasm backend, after one prefill each: mean and median over every step, their spread, the
 * compilations after the first step (there should be none: one decode plan serves every cache length), and the
 * weight-streaming bound (every weight read once per token at the read bandwidth measured in the same run).
 * p-MoD layers cache fewer tokens, so their attention is shorter; the per-layer matmuls are the same.
 */
import { buildDecodeStep, buildLanguageModel, randomLlavaInputs, withoutRouting, type ModelSpec } from '../../models/index.js';
import { BACKEND_NAMES, createExecutor } from '../backends/registry.js';
import { WasmDevice, wasmExecutor } from '../backends/wasm/index.js';
import { DeviceExecutor } from '../runtime/device-executor.js';
import type { Executor } from '../runtime/executor.js';
import { type DType, DTYPE_BYTES, type Graph, graphWeights, sizeOf } from '../ir/index.js';
import { randomWeights } from '../runtime/random.js';
import { GenerationSession, type PrefillResult } from '../runtime/session.js';
import { choiceOpt, flag, intOpt, parse } from './args.js';
import { type Bounds, formatBounds, meanBounds, measureBounds, pct } from './bench-bounds.js';
import { benchModel } from './bench-prefill.js';
import { formatSpread, type Spread, spread, topKernels } from './bench-util.js';
import { loadText } from './bench-load.js';

export const DECODE_HELP = `  modc bench decode [--d 1024] [--layers 16] [--vision-tokens 576] [--text-tokens 64] [--tokens 128] [--dtype f32|f16|bf16] [--threads T] [--backend B] [--skip-bounds] [--json]
      per-token decode time, dense and p-MoD, on wasm after one prefill each (both resident, their steps
      alternating): mean and median [range] of every step, the compilations after the first step, and the
      weight-streaming bound at the read bandwidth measured in the same run (MODC_WASM_PROFILE=1: per-kernel times on stderr);
      JSON: { dense: { ms, steps, compilesAfterFirst, weightBytes }, pmod: {...}, bounds, ... }`;

/** Programs compiled, kernels compiled by the device and kernels moved to the optimising tier. */
interface CompileCounts {
  readonly programs: number;
  readonly kernels: number;
  readonly tierUps: number;
}

interface DecodeRun {
  /** Milliseconds of every step, the first (which compiles the decode plan) included. */
  readonly steps: readonly number[];
  /** Spread of the steps after the first. */
  readonly ms: Spread;
  readonly cacheTokens: number;
  /** Compilations after step 1. */
  readonly compilesAfterFirst: CompileCounts;
  /** Bytes of weights one decode step reads: every weight but the embedding table (one row of it is gathered). */
  readonly weightBytes: number;
}

/** Weight bytes a decode step streams, in their stored dtypes: each weight once, one row of the embedding table. */
function streamedWeightBytes(g: Graph): number {
  let bytes = 0;
  const seen = new Set<string>();
  for (const w of graphWeights(g)) {
    const { name, shape, dtype } = w.attrs;
    if (seen.has(name)) continue;
    seen.add(name);
    const dims = shape.map((x) => (typeof x === 'number' ? x : 0));
    const elems = /embed_tokens/.test(name) ? (dims[1] ?? 0) : sizeOf(dims);
    bytes += elems * (DTYPE_BYTES[dtype] ?? 4);
  }
  return bytes;
}

/** Programs compiled, kernels compiled (devices that count them) and kernels tiered up (the Wasm device) so far. */
function compileCounts(exec: Executor): CompileCounts {
  if (!(exec instanceof DeviceExecutor)) return { programs: Number.NaN, kernels: Number.NaN, tierUps: Number.NaN };
  const dev: unknown = exec.device;
  const wasm = dev instanceof WasmDevice ? dev : undefined;
  const counted = typeof dev === 'object' && dev !== null && 'compiles' in dev && typeof dev.compiles === 'number' ? dev.compiles : Number.NaN;
  return { programs: exec.compiler.compiled, kernels: counted, tierUps: wasm?.tierUps ?? Number.NaN };
}

/** One model's decode: its session after one prefill, the steps timed so far, its compile counts. */
interface DecodeSide {
  readonly graph: Graph;
  readonly session: GenerationSession;
  readonly pre: PrefillResult;
  readonly steps: number[];
  after: CompileCounts;
  /** Milliseconds per kernel name summed over the steps after the first (MODC_WASM_PROFILE=1 only). */
  readonly kernelMs: Map<string, number>;
}

async function startDecode(spec: ModelSpec, dtype: DType, exec: Executor, nv: number, t: number, tokens: number): Promise<DecodeSide> {
  const prefill = buildLanguageModel(spec, { weightDtype: dtype, kvState: true, lastLogits: true, exportRouting: true, maxVisionTokens: 4096, maxTextTokens: 4096 });
  const decode = buildDecodeStep(spec, { weightDtype: dtype });
  const session = await GenerationSession.create(exec, { prefill, decode }, randomWeights(prefill, 1));
  try {
    const pre = await session.prefill(randomLlavaInputs(spec, t, nv, 1), tokens);
    return { graph: decode, session, pre, steps: [], after: { programs: 0, kernels: 0, tierUps: 0 }, kernelMs: new Map() };
  } catch (e) {
    session.dispose();
    throw e;
  }
}

/** Counts are read around each model's own steps, so one model's first step does not count against the other. */
async function stepDecode(side: DecodeSide, exec: Executor, i: number, profile: Map<string, number> | undefined): Promise<void> {
  profile?.clear();
  const before = compileCounts(exec);
  const t0 = performance.now();
  await side.session.decodeStep(side.pre.cache, [1 + (i % 7)], side.pre.length + i);
  side.steps.push(performance.now() - t0);
  if (i > 0) for (const [k, ms] of profile ?? []) side.kernelMs.set(k, (side.kernelMs.get(k) ?? 0) + ms);
  const now = compileCounts(exec);
  const a = side.after;
  if (i > 0) side.after = { programs: a.programs + now.programs - before.programs, kernels: a.kernels + now.kernels - before.kernels, tierUps: a.tierUps + now.tierUps - before.tierUps };
}

function finishDecode(side: DecodeSide): DecodeRun {
  return {
    steps: side.steps,
    ms: spread(side.steps.slice(1)),
    cacheTokens: side.pre.cache.lengths().reduce((a, b) => a + b, 0),
    compilesAfterFirst: side.after,
    weightBytes: streamedWeightBytes(side.graph),
  };
}

function closeDecode(side: DecodeSide): void {
  side.pre.cache.dispose();
  side.session.dispose();
}

/**
 * Dense and p-MoD decode side by side: both sessions stay resident and their steps alternate (dense first on
 * even steps, p-MoD first on odd ones), so a change in the machine's load falls on both alike. Run one after
 * the other, the two means differed by more than the p-MoD saving on a shared machine (its saving is the
 * attention over the skipped cache rows only, a few percent of a step whose weights are the same).
 */
async function decodeBoth(
  spec: ModelSpec,
  dtype: DType,
  exec: Executor,
  sizes: { nv: number; t: number; tokens: number },
  profile: Map<string, number> | undefined,
  err: (s: string) => void,
): Promise<{ dense: DecodeRun; pmod: DecodeRun }> {
  const { nv, t, tokens } = sizes;
  const dense = await startDecode(withoutRouting(spec), dtype, exec, nv, t, tokens);
  try {
    const pmod = await startDecode(spec, dtype, exec, nv, t, tokens);
    try {
      for (let i = 0; i < tokens; i++) {
        const order = i % 2 === 0 ? [dense, pmod] : [pmod, dense];
        for (const side of order) await stepDecode(side, exec, i, profile);
      }
      if (profile) printProfile(dense, pmod, tokens - 1, err);
      return { dense: finishDecode(dense), pmod: finishDecode(pmod) };
    } finally {
      closeDecode(pmod);
    }
  } finally {
    closeDecode(dense);
  }
}

/** The kernels taking most of a step, per step after the first, dense and p-MoD (on stderr: the report stays parseable). */
function printProfile(dense: DecodeSide, pmod: DecodeSide, steps: number, err: (s: string) => void): void {
  for (const [name, side] of [['dense', dense], ['p-MoD', pmod]] as const) {
    const total = [...side.kernelMs.values()].reduce((a, b) => a + b, 0) / steps;
    err(`per-kernel time of one ${name} step (mean of ${steps}; kernels ${total.toFixed(2)} ms of ${spread(side.steps.slice(1)).mean.toFixed(2)} ms):\n`);
    for (const [k, ms] of topKernels(side.kernelMs, 20)) err(`  ${k.padEnd(48)} ${(ms / steps).toFixed(3)} ms\n`);
  }
}

const line = (name: string, r: DecodeRun, b: Bounds | undefined): string => {
  const bound = b ? r.weightBytes / b.readGBs.median / 1e6 : Number.NaN;
  const c = r.compilesAfterFirst;
  return (
    `  ${name.padEnd(5)} mean ${r.ms.mean.toFixed(1)} ms/token, median ${formatSpread(r.ms)} (KV cache ${r.cacheTokens} token entries; ` +
    `after step 1: ${c.programs} programs and ${Number.isNaN(c.kernels) ? 'an uncounted number of' : c.kernels} kernels compiled${Number.isNaN(c.tierUps) ? '' : `, ${c.tierUps} kernels tiered up`})\n` +
    `        weights ${(r.weightBytes / 2 ** 20).toFixed(0)} MiB per token` +
    (b ? `: streaming bound ${bound.toFixed(1)} ms at ${b.readGBs.median.toFixed(1)} GB/s, mean = ${pct(bound, r.ms.mean)} of the bound, median ${pct(bound, r.ms.median)}` : '')
  );
};

export async function decodeBench(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    d: { type: 'string' },
    layers: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    tokens: { type: 'string' },
    threads: { type: 'string' },
    vocab: { type: 'string' },
    dtype: { type: 'string' },
    backend: { type: 'string' },
    'skip-bounds': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    out(DECODE_HELP);
    return 0;
  }
  const d = intOpt(p, 'd', 1024, 64);
  const layers = intOpt(p, 'layers', 16, 2);
  const nv = intOpt(p, 'vision-tokens', 576, 0);
  const t = intOpt(p, 'text-tokens', 64, 1);
  const tokens = intOpt(p, 'tokens', 128, 4);
  const threads = intOpt(p, 'threads', 2, 1);
  const dtype = choiceOpt(p, 'dtype', ['f32', 'f16', 'bf16'] as const, 'f32');
  const spec = benchModel(d, layers, intOpt(p, 'vocab', 8192, 16));
  const withBounds = !flag(p, 'skip-bounds');
  const load0 = loadText();
  const before = withBounds ? await measureBounds(threads) : undefined;
  const backend = choiceOpt(p, 'backend', BACKEND_NAMES, 'wasm');
  const profile = backend === 'wasm' && process.env.MODC_WASM_PROFILE === '1' ? new Map<string, number>() : undefined;
  const exec = backend === 'wasm' ? wasmExecutor({ threads, startWorkers: true, ...(profile ? { profile } : {}) }) : await createExecutor(backend, { threads });
  try {
    const { dense, pmod } = await decodeBoth(spec, dtype, exec, { nv, t, tokens }, profile, (s) => process.stderr.write(s));
    const after = withBounds ? await measureBounds(threads) : undefined;
    const bounds = before && after ? meanBounds(before, after) : undefined;
    const result = {
      model: { d, layers, visionTokens: nv, textTokens: t, dtype },
      backend,
      tokens,
      threads,
      load: [load0, loadText()],
      dense,
      pmod,
      meanRatio: pmod.ms.mean / dense.ms.mean,
      medianRatio: pmod.ms.median / dense.ms.median,
      ...(before && after ? { bounds: { before, after } } : {}),
    };
    if (flag(p, 'json')) out(JSON.stringify(result, null, 2));
    else
      out(
        `decode of ${tokens} tokens after ${nv} vision + ${t} text tokens, d=${d}, ${layers} layers, ${dtype} weights, ${backend} ${threads} threads ` +
          `(steps 2..${tokens}; ${load0}, after: ${loadText()})\n` +
          (before && after ? `${formatBounds(before)}\n${formatBounds(after)}\n` : '') +
          `${line('dense', dense, bounds)}\n${line('p-MoD', pmod, bounds)}\n` +
          `  p-MoD / dense: mean ${result.meanRatio.toFixed(3)}, median ${result.medianRatio.toFixed(3)}`,
      );
    return 0;
  } finally {
    await exec.dispose();
  }
}
