/** `modc report`: the per-layer FLOPs / k_l / KV-cache table of a model against its dense baseline. */
import { buildLanguageModel, hasVisionInput, layerRatios, type ModelSpec, readCheckpointConfig, resolveModel, withoutRouting } from '../../models/index.js';
import { wasmTarget } from '../backends/wasm/target.js';
import { formatMemoryReport, type MemoryReport, type MemorySummary } from '../cost/memory-report.js';
import { compile } from '../runtime/compile.js';
import { programMemory } from '../runtime/memory-plan.js';
import { prefillCacheLengths } from '../runtime/session.js';
import { costReport, formatReport } from '../cost/index.js';
import { choiceOpt, flag, onePositional, parse, refuseOptions } from './args.js';
import { ROUTING_HELP, routingReportCommand } from './report-routing.js';
import { tokenCounts } from './token-counts.js';

export const REPORT_HELP = `usage: modc report <model> [--vision-tokens N] [--text-tokens T] [--attention causal-half|full] [--json]
${ROUTING_HELP}

Per-layer cost table of a model (zoo name, config.json, checkpoint directory or models/*.ts file) against the
same model without routing: layer kind, retention ratio R_l, vision tokens kept k_l = floor(N_v * R_l) (float32),
tokens processed, FLOPs and KV-cache entries, with totals and ratios.

  --vision-tokens N   vision tokens N_v (default: a typical image for the model's vision tower: 576 for
                      LLaVA-1.5, 2880 for LLaVA-NeXT's 2x2 grid, 4 for make-checkpoint's tiny tower)
  --text-tokens T     text tokens (default: the model's typical prompt)
  --attention MODE    count attention as its causal half (c = 2, default) or in full (c = 4)
  --memory            compile both models for the Wasm target and compare the memory the runner allocates
  --json              print JSON: { layers[], totals, assumptions } (with --memory: the memory report)`;

/** The generation path's prefill compiled for the Wasm target, each layer's cache sized to its cached rows. */
function compiledMemory(spec: ModelSpec, nv: number, t: number): MemorySummary {
  const env: Record<string, number> = hasVisionInput(spec) ? { N_v: nv, T: t } : { T: t };
  const g = buildLanguageModel(spec, { kvState: true, lastLogits: true });
  prefillCacheLengths(g, spec.llm.numLayers, env).forEach((c, l) => (env[`C${l}`] = Math.max(1, c)));
  const program = compile(g, wasmTarget({ threads: 1 }), env);
  const state = new Set(program.inputs.map((i) => i.name).filter((n) => n.startsWith('cache.')));
  const m = programMemory(program, state);
  return { slotBytes: m.slotBytes, peakLiveBytes: m.peakLiveBytes, slots: m.slots, kvCacheBytes: m.stateBytes, inputBytes: m.inputBytes, weightBytes: m.weightBytes };
}

export function memoryReport(spec: ModelSpec, nv: number, t: number): MemoryReport {
  const pmod = compiledMemory(spec, nv, t);
  const dense = compiledMemory(withoutRouting(spec), nv, t);
  return {
    model: spec.name, target: 'wasm', visionTokens: nv, textTokens: t, pmod, dense,
    peakRatio: (pmod.slotBytes + pmod.kvCacheBytes) / (dense.slotBytes + dense.kvCacheBytes), kvRatio: pmod.kvCacheBytes / dense.kvCacheBytes,
  };
}

function checkpointRatios(dir: string): readonly (number | null)[] {
  const { spec } = readCheckpointConfig(dir);
  return spec.mod ? layerRatios(spec.mod.schedule, spec.llm.numLayers) : [];
}

export async function reportCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    attention: { type: 'string' },
    json: { type: 'boolean' },
    memory: { type: 'boolean' },
    routing: { type: 'boolean' },
    checkpoint: { type: 'string' },
    image: { type: 'string' },
    heatmap: { type: 'string' },
    prompt: { type: 'string' },
    backend: { type: 'string' },
    'vision-tower': { type: 'string' },
    'cache-dir': { type: 'string' },
    'no-cache': { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    out(REPORT_HELP);
    return 0;
  }
  const ROUTING_ONLY = ['routing', 'checkpoint', 'image', 'heatmap', 'prompt', 'backend', 'vision-tower', 'cache-dir', 'no-cache'];
  if (flag(p, 'routing')) {
    refuseOptions(p, [...ROUTING_ONLY, 'json'], 'with --routing', false);
    return routingReportCommand(p, (dir) => checkpointRatios(dir), out);
  }
  refuseOptions(p, ROUTING_ONLY, 'without --routing', true);
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
