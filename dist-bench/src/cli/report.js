/** `modc report`: the per-layer FLOPs / k_l / KV-cache table of a model against its dense baseline. */
import { buildLanguageModel, checkTokenCounts, hasVisionInput, resolveModel, withoutRouting } from '../../models/index.js';
import { formatMemoryReport, summarize } from '../cost/memory-report.js';
import { pipeline, planMemory, runPasses } from '../passes/index.js';
import { costReport, formatReport } from '../cost/index.js';
import { choiceOpt, flag, intOpt, onePositional, parse } from './args.js';
export const REPORT_HELP = `usage: modc report <model> [--vision-tokens N] [--text-tokens T] [--attention causal-half|full] [--json]

Per-layer cost table of a model (zoo name, config.json, checkpoint directory or models/*.ts file) against the
same model without routing: layer kind, retention ratio R_l, vision tokens kept k_l = floor(N_v * R_l) (float32),
tokens processed, FLOPs and KV-cache entries, with totals and ratios.

  --vision-tokens N   vision tokens N_v (default: the model's typical image, 576 or 2880)
  --text-tokens T     text tokens (default: the model's typical prompt)
  --attention MODE    count attention as its causal half (c = 2, default) or in full (c = 4)
  --memory            compile both models (full pipeline, specialised) and compare their planned peak memory
  --json              print JSON: { layers[], totals, assumptions } (with --memory: the memory report)`;
function compiledPlan(spec, nv, t) {
    const bindings = hasVisionInput(spec) ? { N_v: nv, T: t } : { T: t };
    const g = runPasses(buildLanguageModel(spec, { exportKV: true }), pipeline('full', { bindings }));
    return planMemory(g, bindings);
}
export function memoryReport(spec, nv, t) {
    const pmod = summarize(compiledPlan(spec, nv, t));
    const dense = summarize(compiledPlan(withoutRouting(spec), nv, t));
    return { model: spec.name, visionTokens: nv, textTokens: t, pmod, dense, peakRatio: pmod.arenaBytes / dense.arenaBytes, kvRatio: pmod.kvCacheBytes / dense.kvCacheBytes };
}
export async function reportCommand(argv, out) {
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
    const nv = intOpt(p, 'vision-tokens', spec.vision?.defaultVisionTokens ?? 0);
    const t = intOpt(p, 'text-tokens', spec.defaultTextTokens);
    const attention = choiceOpt(p, 'attention', ['causal-half', 'full'], 'causal-half');
    checkTokenCounts(spec, nv, t);
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
