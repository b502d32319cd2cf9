/**
 * `modc bench decode`: per-token decode time of a small LLaVA-like p-MoD model and of the same model without
 * routing on the wasm backend, after one prefill each. p-MoD layers cache fewer tokens, so their attention is
 * shorter; the per-layer matmuls are the same.
 */
import { buildDecodeStep, buildLanguageModel, randomLlavaInputs, withoutRouting, type ModelSpec } from '../../models/index.js';
import { BACKEND_NAMES, createExecutor } from '../backends/registry.js';
import { wasmExecutor } from '../backends/wasm/index.js';
import type { Executor } from '../runtime/executor.js';
import { randomWeights } from '../runtime/random.js';
import { GenerationSession } from '../runtime/session.js';
import { choiceOpt, flag, intOpt, parse } from './args.js';
import { benchModel } from './bench-prefill.js';
import { median } from './bench-util.js';

export const DECODE_HELP = `  modc bench decode [--d 1024] [--layers 16] [--vision-tokens 576] [--text-tokens 64] [--tokens 24] [--threads T] [--backend B] [--json]
      per-token decode time, p-MoD vs dense, on wasm after one prefill each (the first 2 steps are warm-up);
      JSON: { dense: { msPerToken, steps }, pmod: { msPerToken, steps }, timeRatio, cacheTokens }`;

async function decodeTimes(spec: ModelSpec, exec: Executor, nv: number, t: number, tokens: number): Promise<{ steps: number[]; cache: number }> {
  const prefill = buildLanguageModel(spec, { kvState: true, lastLogits: true, exportRouting: true, maxVisionTokens: 4096, maxTextTokens: 4096 });
  const decode = buildDecodeStep(spec);
  const session = await GenerationSession.create(exec, { prefill, decode }, randomWeights(prefill, 1));
  try {
    const pre = await session.prefill(randomLlavaInputs(spec, t, nv, 1), tokens);
    try {
      const steps: number[] = [];
      for (let i = 0; i < tokens; i++) {
        const t0 = performance.now();
        await session.decodeStep(pre.cache, [1 + (i % 7)], pre.length + i);
        steps.push(performance.now() - t0);
      }
      return { steps, cache: pre.cache.lengths().reduce((a, b) => a + b, 0) };
    } finally {
      pre.cache.dispose();
    }
  } finally {
    session.dispose();
  }
}

export async function decodeBench(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    d: { type: 'string' },
    layers: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    tokens: { type: 'string' },
    threads: { type: 'string' },
    backend: { type: 'string' },
    vocab: { type: 'string' },
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
  const tokens = intOpt(p, 'tokens', 24, 4);
  const spec = benchModel(d, layers, intOpt(p, 'vocab', 8192, 16));
  const backend = choiceOpt(p, 'backend', BACKEND_NAMES, 'wasm');
  const exec = backend === 'wasm' ? wasmExecutor({ threads: intOpt(p, 'threads', 2, 1) }) : await createExecutor(backend, { threads: intOpt(p, 'threads', 2, 1) });
  try {
    const dense = await decodeTimes(withoutRouting(spec), exec, nv, t, tokens);
    const pmod = await decodeTimes(spec, exec, nv, t, tokens);
    // The first steps compile the decode plan; later ones recompile only when a layer's cache crosses a block.
    const steady = (s: readonly number[]): number => median(s.slice(2));
    const result = {
      model: { d, layers, visionTokens: nv, textTokens: t },
      tokens,
      dense: { msPerToken: steady(dense.steps), steps: dense.steps },
      pmod: { msPerToken: steady(pmod.steps), steps: pmod.steps },
      timeRatio: steady(pmod.steps) / steady(dense.steps),
      cacheTokens: { dense: dense.cache, pmod: pmod.cache },
    };
    if (flag(p, 'json')) out(JSON.stringify(result, null, 2));
    else
      out(
        `decode after ${nv} vision + ${t} text tokens, d=${d}, ${layers} layers, wasm (median of steps 3..${tokens})\n` +
          `  dense ${result.dense.msPerToken.toFixed(1)} ms/token (KV cache ${dense.cache} token entries)\n` +
          `  p-MoD ${result.pmod.msPerToken.toFixed(1)} ms/token (KV cache ${pmod.cache} token entries)\n` +
          `  time ratio ${result.timeRatio.toFixed(3)}`,
      );
    return 0;
  } finally {
    await exec.dispose();
  }
}
