/** `modc ir`: prints a model's graph in the stable text form, before or after any pass of a pipeline. */
import { buildLanguageModel, hasVisionInput, resolveModel } from '../../models/index.js';
import { wasmTarget } from '../backends/wasm/target.js';
import { dispatchesPerLayer } from '../kernel/program.js';
import { compile } from '../runtime/compile.js';
import { printGraph, type SymEnv } from '../ir/index.js';
import { graphStats, PIPELINE_NAMES, pipeline, runPasses } from '../passes/index.js';
import { choiceOpt, flag, intOpt, onePositional, parse, refuseOptions, strOpt } from './args.js';

export const IR_HELP = `usage: modc ir <model> [--pipeline full] [--after PASS] [--vision-tokens N] [--text-tokens T] [--stats] [--list-passes] [--kv] [--routing]

Prints the model's Graph IR (one node per line, region bodies indented, source names after '#').

  --pipeline NAME     run a named pipeline first: ${PIPELINE_NAMES.join(', ')} (default: none, or full with --after)
  --after PASS        stop after this pass of the pipeline (see --list-passes)
  --vision-tokens N   specialise capacities for N_v = N (the pipeline's specialize pass)
  --text-tokens T     also bind T
  --stats             print op and kernel counts as JSON instead of the graph; with --pipeline full, also the
                      dispatches per layer after lowering for the Wasm target (T and N_v default to the model's)
  --list-passes       print the passes of the pipeline and exit
  --kv                export each layer's keys and values as graph outputs (as the KV-cache path does)
  --routing           export each MoD layer's kept vision-token indices`;

export async function irCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    kv: { type: 'boolean' },
    routing: { type: 'boolean' },
    pipeline: { type: 'string' },
    after: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    stats: { type: 'boolean' },
    'list-passes': { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    out(IR_HELP);
    return 0;
  }
  const after = strOpt(p, 'after');
  const name = choiceOpt(p, 'pipeline', PIPELINE_NAMES, after !== undefined || flag(p, 'list-passes') ? 'full' : 'none');
  const bindings: Record<string, number> = {};
  if (p.values['vision-tokens'] !== undefined) bindings.N_v = intOpt(p, 'vision-tokens', 0);
  if (p.values['text-tokens'] !== undefined) bindings.T = intOpt(p, 'text-tokens', 0);
  const passes = pipeline(name, { bindings: bindings as SymEnv });
  if (flag(p, 'list-passes')) {
    refuseOptions(p, ['list-passes', 'pipeline'], 'with --list-passes (it prints the passes of a pipeline, not a graph)', false);
    for (const pass of passes) out(`${pass.name.padEnd(18)} ${pass.description}`);
    return 0;
  }
  const spec = await resolveModel(onePositional(p, 'model'));
  const graph = buildLanguageModel(spec, { exportKV: flag(p, 'kv'), exportRouting: flag(p, 'routing') });
  const result = runPasses(graph, passes, { ...(after !== undefined ? { stopAfter: after } : {}) });
  if (flag(p, 'stats')) {
    const stats: Record<string, unknown> = { ...graphStats(result) };
    if (name === 'full' && after === undefined) {
      // The same graph lowered: graph kernels are fused ops, dispatches are what runs.
      const env: Record<string, number> = hasVisionInput(spec) ? { T: bindings.T ?? spec.defaultTextTokens, N_v: bindings.N_v ?? spec.vision?.defaultVisionTokens ?? 0 } : { T: bindings.T ?? spec.defaultTextTokens };
      const program = compile(graph, wasmTarget({ threads: 1 }), env);
      stats.lowered = { target: 'wasm', symbols: env, dispatches: program.steps.filter((s) => s.op === 'dispatch').length, dispatchesPerLayer: dispatchesPerLayer(program) };
    }
    out(JSON.stringify(stats, null, 2));
  } else out(printGraph(result).trimEnd());
  return 0;
}
