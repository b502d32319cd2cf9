/**
 * `modc compile`: compiles a model for a backend's Target and prints the lowered program (steps, buffers, weight
 * manifest) or its kernels in the Kernel IR's text form.
 */
import { buildLanguageModel, checkTokenCounts, hasVisionInput, resolveModel } from '../../models/index.js';
import { backendInfo, BACKENDS } from '../backends/registry.js';
import { kernelText } from '../kernel/print.js';
import { dispatchesPerLayer, programText } from '../kernel/program.js';
import { compile } from '../runtime/compile.js';
import { choiceOpt, flag, intOpt, onePositional, parse, UsageError } from './args.js';

const TARGETS = BACKENDS.filter((b) => b.target !== undefined).map((b) => b.name);

export const COMPILE_HELP = `usage: modc compile <model> --target ${TARGETS.join('|')} --emit kernels|program [--vision-tokens N] [--text-tokens T] [--threads T]

Compiles the model's prefill (full pass pipeline, capacities specialised for N_v) for a backend's Target.

  --target NAME       ${TARGETS.join(', ')}
  --emit WHAT         program: every alloc / dispatch / free step, the weight manifest and the outputs;
                      kernels: every distinct kernel in the Kernel IR's text form
  --vision-tokens N   vision tokens N_v (default: the model's typical image)
  --text-tokens T     text tokens (default: the model's typical prompt)
  --threads T         host threads the Wasm target is made for (default 1)
  --stats             print dispatch counts per layer as JSON instead`;

export async function compileCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    target: { type: 'string' },
    emit: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    threads: { type: 'string' },
    stats: { type: 'boolean' },
  });
  if (flag(p, 'help')) {
    out(COMPILE_HELP);
    return 0;
  }
  if (p.values.target === undefined) throw new UsageError(`--target is required (${TARGETS.join(', ')})`);
  const targetName = choiceOpt(p, 'target', TARGETS, TARGETS[0] ?? 'wasm');
  const emit = choiceOpt(p, 'emit', ['kernels', 'program'] as const, 'program');
  const spec = await resolveModel(onePositional(p, 'model'));
  const nv = intOpt(p, 'vision-tokens', spec.vision?.defaultVisionTokens ?? 0);
  const t = intOpt(p, 'text-tokens', spec.defaultTextTokens);
  checkTokenCounts(spec, nv, t);
  const info = backendInfo(targetName);
  if (info.target === undefined) throw new UsageError(`backend '${targetName}' has no compile target`);
  const target = await info.target({ threads: intOpt(p, 'threads', 1, 1) });
  const env: Record<string, number> = hasVisionInput(spec) ? { T: t, N_v: nv } : { T: t };
  const program = compile(buildLanguageModel(spec, { exportRouting: true }), target, env);
  if (flag(p, 'stats')) {
    const steps = program.steps.filter((s) => s.op === 'dispatch').length;
    out(JSON.stringify({ target: target.name, device: target.device, kernels: program.kernels.length, dispatches: steps, dispatchesPerLayer: dispatchesPerLayer(program) }, null, 2));
    return 0;
  }
  out(emit === 'program' ? programText(program) : program.kernels.map(kernelText).join('\n\n'));
  return 0;
}
