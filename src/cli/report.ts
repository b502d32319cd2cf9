/** `modc report`: the per-layer FLOPs / k_l / KV-cache table of a model against its dense baseline. */
import { buildLanguageModel, hasVisionInput, type ModelSpec, resolveModel, withoutRouting } from '../../models/index.js';
import { formatMemoryReport, type MemoryReport, summarize } from '../cost/memory-report.js';
import { type MemoryPlan, pipeline, planMemory, runPasses } from '../passes/index.js';
import { costReport, formatReport } from '../cost/index.js';
import { choiceOpt, flag, onePositional, parse, refuseOptions } from './args.js';
import { tokenCounts } from './token-counts.js';

export const REPORT_HELP = `usage: modc report <model> [--vision-tokens N] [--text-tokens T] [--attention causal-half|full] [--json]

Per-layer cost table of a model (zoo name, config.json, checkpoint directory or models/*.ts file) against the
same model without routing: layer kind, retention ratio R_l, vision tokens kept k_l = floor(N_v * R_l) (float32),
tokens processed, FLOPs and KV-cache entries, with totals and ratios.

  --vision-tokens N   vision tokens N_v (default: a typical image for the model's vision tower: 576 for
                      LLaVA-1.5, 2880 for LLaVA-NeXT's 2x2 grid, 4 for make-checkpoint's tiny tower)
  --text-tokens T     text tokens (default: the model's typical prompt)
  --attention MODE    count attention as its causal half (c = 2, default) or in full (c = 4)
  --memory            compile both models (full pipeline, specialised) and compare their planned peak memory
  --json              print JSON: { layers[], totals, assumptions } (with --memory: the memory report)`;

function compiledPlan(spec: ModelSpec, nv: number, t: number): MemoryPlan {
  const bindings: Record<string, number> = hasVisionInput(spec) ? { N_v: nv, T: t } : { T: t };
  const g = runPasses(buildLanguageModel(spec, { exportKV: true }), pipeline('full', { bindings }));
  return planMemory(g, bindings);
}

export function memoryReport(spec: ModelSpec, nv: number, t: number): MemoryReport {
  const pmod = summarize(compiledPlan(spec, nv, t));
  const dense = summarize(compiledPlan(withoutRouting(spec), nv, t));
  return { model: spec.name, visionTokens: nv, textTokens: t, pmod, dense, peakRatio: pmod.arenaBytes / dense.arenaBytes, kvRatio: pmod.kvCacheBytes / dense.kvCacheBytes };
}

export async function reportCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    attention: { type: 'string' },
    json: { type: 'boolean' },
    memory: { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    out(REPORT_HELP);
    return 0;
  }
  const spec = await resolveModel(onePositional(p, 'model'));
  const { nv, t } = tokenCounts(p, spec);
  const attention = choiceOpt(p, 'attention', ['causal-half', 'full'] as const, 'causal-half');
  // The memory report compiles the graphs; the attention counting convention is the FLOP table's.
  if (flag(p, 'memory')) refuseOptions(p, ['attention'], 'with --memory', true);
  if (flag(p, 'memory')) {
    const r = memoryReport(spec, nv, t);
    out(flag(p, 'json') ? JSON.stringify(r, null, 2) : formatMemoryReport(r));
    return 0;
  }
  const graph = buildLanguageModel(spec);
  const dense = buildLanguageModel(withoutRouting(spec));
  const report = costReport(spec.name, graph, dense, nv, t, attention);
  out(flag(p, 'json') ? JSON.stringify(report, null, 2) : formatReport(report));
  return 0;
}
