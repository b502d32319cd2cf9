/**
 * `modc compile`: compiles a model for a backend's Target and prints the lowered program (steps, buffers, weight
 * manifest) or its kernels in the Kernel IR's text form.
 */
import { buildLanguageModel, checkTokenCounts, hasVisionInput, resolveModel } from '../../models/index.js';
import { backendInfo, BACKENDS } from '../backends/registry.js';
import { kernelText } from '../kernel/print.js';
import { dispatchesPerLayer, programText } from '../kernel/program.js';
import { compile } from '../runtime/compile.js';
import { choosePtxTarget } from '../backends/cuda-ptx/isa.js';
import { choiceOpt, flag, intOpt, onePositional, parse, strOpt, UsageError } from './args.js';

/** `--target ptx` is the GPU PTX Target (the driver's device, or sm_80 offline): the cuda backend's. */
const ALIASES: Readonly<Record<string, string>> = { ptx: 'cuda' };
const TARGETS = ['wasm', 'webgpu', 'ptx', ...BACKENDS.filter((b) => b.target !== undefined && !['wasm', 'webgpu', 'cuda'].includes(b.name)).map((b) => b.name)];

export const COMPILE_HELP = `usage: modc compile <model> --target ${TARGETS.join('|')} --emit kernels|ir|program [--vision-tokens N] [--text-tokens T]
                    [--threads T] [--ptx-version X.Y --sm sm_NN] [--report] [--stats]

Compiles the model's prefill (full pass pipeline, capacities specialised for N_v) for a backend's Target.

  --target NAME       ${TARGETS.join(', ')} (webgpu: the Target of this machine's adapter; ptx: the driver's
                      device, or sm_80 and PTX ISA 7.8 offline)
  --emit WHAT         kernels: every distinct kernel in the target's language (Wasm text, WGSL, PTX);
                      ir: the same kernels in the Kernel IR's text form;
                      program: every alloc / dispatch / free step, the weight manifest and the outputs
  --vision-tokens N   vision tokens N_v (default: the model's typical image)
  --text-tokens T     text tokens (default: the model's typical prompt)
  --threads T         host threads the Wasm target is made for (default 1)
  --ptx-version X.Y   PTX ISA of the emitted modules (with --sm; refused outside the accepted range)
  --sm sm_NN          the GPU architecture of the emitted modules
  --report            ptx: assemble every kernel with ptxas -v and print registers, spills and shared memory
  --stats             print dispatch counts per layer as JSON instead`;

export async function compileCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    target: { type: 'string' },
    emit: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    threads: { type: 'string' },
    stats: { type: 'boolean' },
    report: { type: 'boolean' },
    'ptx-version': { type: 'string' },
    sm: { type: 'string' },
  });
  if (flag(p, 'help')) {
    out(COMPILE_HELP);
    return 0;
  }
  if (p.values.target === undefined) throw new UsageError(`--target is required (${TARGETS.join(', ')})`);
  const targetName = choiceOpt(p, 'target', TARGETS, TARGETS[0] ?? 'wasm');
  const emit = choiceOpt(p, 'emit', ['kernels', 'ir', 'program'] as const, 'program');
  const isa = strOpt(p, 'ptx-version');
  const sm = strOpt(p, 'sm');
  if ((isa !== undefined || sm !== undefined || flag(p, 'report')) && targetName !== 'ptx-emu' && targetName !== 'ptx')
    throw new UsageError(`--ptx-version, --sm and --report apply to the PTX targets (ptx, ptx-emu), not '${targetName}'`);
  const spec = await resolveModel(onePositional(p, 'model'));
  const nv = intOpt(p, 'vision-tokens', spec.vision?.defaultVisionTokens ?? 0);
  const t = intOpt(p, 'text-tokens', spec.defaultTextTokens);
  checkTokenCounts(spec, nv, t);
  const info = backendInfo(ALIASES[targetName] ?? targetName);
  if (info.target === undefined) throw new UsageError(`backend '${targetName}' has no compile target`);
  const base = await info.target({ threads: intOpt(p, 'threads', 1, 1) });
  // --ptx-version / --sm choose the module's .version / .target (an unsupported pair is refused with the range).
  const target = isa !== undefined || sm !== undefined ? { ...base, device: `${base.device} (as ${choosePtxTarget({ ...(isa !== undefined ? { isa } : {}), ...(sm !== undefined ? { sm } : {}) }).target})` } : base;
  const env: Record<string, number> = hasVisionInput(spec) ? { T: t, N_v: nv } : { T: t };
  const program = compile(buildLanguageModel(spec, { exportRouting: true }), target, env);
  if (flag(p, 'stats')) {
    const steps = program.steps.filter((s) => s.op === 'dispatch').length;
    out(JSON.stringify({ target: target.name, device: target.device, kernels: program.kernels.length, dispatches: steps, dispatchesPerLayer: dispatchesPerLayer(program) }, null, 2));
    return 0;
  }
  if (flag(p, 'report') || info.render === undefined || emit !== 'kernels') {
    if (flag(p, 'report')) {
      const { formatPtxasReport, ptxasReport } = await import('../backends/cuda-ptx/node.js');
      out(formatPtxasReport(ptxasReport(program.kernels, [sm ?? 'sm_80'], (arch) => choosePtxTarget({ sm: arch, ...(isa !== undefined ? { isa } : {}) }))));
      return 0;
    }
    out(emit === 'program' ? programText(program) : program.kernels.map(kernelText).join('\n\n'));
    return 0;
  }
  const render = info.render;
  const source = await Promise.all(program.kernels.map((k) => render(k, target, { ...(isa !== undefined ? { isa } : {}), ...(sm !== undefined ? { sm } : {}) })));
  out(source.join('\n\n'));
  return 0;
}
