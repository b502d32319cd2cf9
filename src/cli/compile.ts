/**
 * `modc compile`: compiles a model for a backend's Target and writes it as an artifact (`--out DIR`: plan.json,
 * one kernel file per distinct kernel, README.md) or as a standalone TS module (`--emit ts --out model.ts`), or
 * prints the lowered program (steps, buffers, weight manifest), its kernels (in the target's language or the
 * Kernel IR's text form), a ptxas report, or dispatch counts.
 */
import { buildLanguageModel, checkTokenCounts, hasVisionInput, resolveModel } from '../../models/index.js';
import { backendInfo, BACKENDS } from '../backends/registry.js';
import { kernelText } from '../kernel/print.js';
import { dispatchesPerLayer, programText } from '../kernel/program.js';
import { compile } from '../runtime/compile.js';
import { choosePtxTarget } from '../backends/cuda-ptx/isa.js';
import { artifactDirSource, writeArtifactDir, writeTextFile } from '../io/artifact-dir.js';
import { loadArtifact, readArtifact } from '../runtime/artifact.js';
import { choiceOpt, flag, intOpt, onePositional, parse, type Parsed, strOpt, UsageError } from './args.js';
import { ARTIFACT_TARGETS, type ArtifactTarget, buildArtifact } from './artifact-build.js';
import { artifactReadme } from './artifact-readme.js';

/** `--target ptx` is the GPU PTX Target (the driver's device, or sm_80 offline): the cuda backend's. */
const ALIASES: Readonly<Record<string, string>> = { ptx: 'cuda' };
const TARGETS = ['wasm', 'webgpu', 'ptx', ...BACKENDS.filter((b) => b.target !== undefined && !['wasm', 'webgpu', 'cuda'].includes(b.name)).map((b) => b.name)];

export const COMPILE_HELP = `usage: modc compile <model | config.json | checkpoint dir> --target ${ARTIFACT_TARGETS.join('|')} --out DIR
                    [--vision-tokens N[,N...]] [--text-tokens T] [--max-new-tokens M]
       modc compile <model | checkpoint dir> --target webgpu --emit ts --out model.ts [--vision-tokens N[,N...]] ...
       modc compile <model> --target ${TARGETS.join('|')} --emit kernels|ir|program [--vision-tokens N] [--text-tokens T]
                    [--threads T] [--ptx-version X.Y --sm sm_NN] [--report] [--stats]

Compiles the model (full pass pipeline, capacities specialised for N_v) for a backend's Target.

  --out DIR           write the compiled model as an artifact: plan.json (programs, buffers, weight manifest with
                      checkpoint byte ranges when compiled from a checkpoint, symbol values, the target and its
                      limits, format version, content hash), kernels/ (one .wasm + .wat, .wgsl, .js or .ptx file per
                      distinct kernel) and README.md; 'modc run --plan DIR --checkpoint CK' runs it without the
                      compiler. Per N_v it holds a prefill (logits of every position, routing, KV cache), a decode
                      program and the projector; from a checkpoint with a CLIP tower, the tower too
  --target NAME       wasm; webgpu (with --out: WGSL for every WebGPU device with --adapter portable, the
                      default: the spec's default limits with 10 storage buffers, no optional feature; or this
                      machine's adapter with --adapter local; without --out, this machine's adapter); webgl (with
                      --out: gpu.js kernels for every WebGL2 context, its guaranteed limits); ptx (the
                      driver's device, or sm_80 and PTX ISA 7.8 offline), ptx-emu
  --emit WHAT         kernels: every distinct kernel in the target's language (Wasm text, WGSL, PTX);
                      ir: the same kernels in the Kernel IR's text form;
                      program: every alloc / dispatch / free step, the weight manifest and the outputs;
                      ts (with --target webgpu --out FILE.ts): one standalone TypeScript module holding the plan
                      and the WGSL shaders, exporting typed load / prefill / decode / generate, importing only
                      modc/runtime-webgpu
  --vision-tokens N   vision tokens N_v (default: the model's typical image); with --out a comma-separated list
                      gives one entry per value
  --text-tokens T     text tokens (default: the model's typical prompt); with --out the longest prompt the
                      artifact runs (shorter prompts are padded)
  --max-new-tokens M  with --out: new tokens the KV cache holds after the longest prompt (default 64)
  --emulated          webgpu --adapter portable: schedules for CPU-emulated adapters (SwiftShader, llvmpipe)
  --adapter WHICH     webgpu with --out: portable (default) or local
  --runtime SPEC      --emit ts: the module specifier to import the runtime from (default modc/runtime-webgpu)
  --vision-tower DIR  with --out from a checkpoint: the CLIP tower's directory, when the checkpoint neither holds
                      it nor names a local one (LLaVA-1.5 layouts; the artifact then encodes images itself)
  --threads T         host threads the Wasm target is made for (default 1)
  --ptx-version X.Y   PTX ISA of the emitted modules (with --sm; refused outside the accepted range)
  --sm sm_NN          the GPU architecture of the emitted modules
  --report            ptx: assemble every kernel with ptxas -v and print registers, spills and shared memory
  --stats             print dispatch counts per layer as JSON instead`;

function visionList(p: Parsed, fallback: number): number[] {
  const v = strOpt(p, 'vision-tokens');
  if (v === undefined) return [fallback];
  const parts = v.split(',');
  if (!parts.every((x) => /^\d+$/.test(x.trim()))) throw new UsageError(`--vision-tokens must be integers >= 0 separated by commas, got '${v}'`);
  return parts.map((x) => Number(x.trim()));
}

/** Options that only apply when printing. */
const PRINT_ONLY = ['stats', 'report', 'ptx-version', 'sm'];

async function writeArtifact(p: Parsed, outPath: string, out: (s: string) => void): Promise<number> {
  const emit = strOpt(p, 'emit');
  if (emit !== undefined && emit !== 'ts') throw new UsageError(`--out writes an artifact (or with --emit ts a TS module); --emit ${emit} prints instead: give one of them`);
  const printing = PRINT_ONLY.filter((o) => p.values[o] !== undefined);
  if (printing.length) throw new UsageError(`${printing.map((o) => `--${o}`).join(', ')} print a compilation; --out writes one: give one of them`);
  const target = choiceOpt(p, 'target', ARTIFACT_TARGETS, 'wasm') as ArtifactTarget;
  if (emit === 'ts' && target !== 'webgpu') throw new UsageError('--emit ts writes a WebGPU module: give --target webgpu');
  const model = onePositional(p, 'model');
  const spec = await resolveModel(model).catch(() => undefined);
  const built = await buildArtifact({
    model,
    target,
    visionTokens: visionList(p, spec?.vision?.defaultVisionTokens ?? 0),
    textTokens: intOpt(p, 'text-tokens', spec?.defaultTextTokens ?? 64, 1),
    maxNewTokens: intOpt(p, 'max-new-tokens', 64),
    threads: intOpt(p, 'threads', 1, 1),
    emulated: flag(p, 'emulated'),
    ...(strOpt(p, 'adapter') !== undefined ? { adapter: choiceOpt(p, 'adapter', ['portable', 'local'] as const, 'portable') } : {}),
    ...(strOpt(p, 'vision-tower') !== undefined ? { visionTower: strOpt(p, 'vision-tower') ?? '' } : {}),
  });
  if (emit === 'ts') {
    if (!outPath.endsWith('.ts')) throw new UsageError(`--emit ts writes one TypeScript file: --out must end in .ts, got '${outPath}'`);
    const { emitTsModule } = await import('./emit-ts.js');
    // The module's copy of the plan is read back like a shipped one before it is written.
    await readArtifact(built.plan);
    const runtime = strOpt(p, 'runtime');
    const text = await emitTsModule(built.artifact, built.plan, built.files, runtime !== undefined ? { runtime } : {});
    writeTextFile(outPath, text);
    out(`wrote ${outPath}: a TypeScript module of ${(text.length / 2 ** 20).toFixed(1)} MiB (${built.artifact.entries.length} entries, N_v = ${built.artifact.entries.map((e) => e.visionTokens).join(', ')}; ${built.files.size} shaders); it imports only ${runtime ?? 'modc/runtime-webgpu'}`);
    return 0;
  }
  writeArtifactDir(outPath, built.plan, artifactReadme(built.artifact, built.files), built.files);
  // Read back through the loader: what was written is what `modc run --plan` will accept.
  const check = await loadArtifact(artifactDirSource(outPath));
  const a = check.artifact;
  out(
    `wrote ${outPath}: ${a.entries.length} entr${a.entries.length === 1 ? 'y' : 'ies'} (N_v = ${a.entries.map((e) => e.visionTokens).join(', ')}), ${a.programs.length} programs, ${a.kernels.length} kernels in ${built.files.size} files, ${a.weights.length} weights${a.vision ? ', the vision tower' : ''}; content hash ${a.contentHash.slice(0, 16)}`,
  );
  return 0;
}

export async function compileCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, {
    target: { type: 'string' },
    emit: { type: 'string' },
    out: { type: 'string' },
    'vision-tokens': { type: 'string' },
    'text-tokens': { type: 'string' },
    'max-new-tokens': { type: 'string' },
    threads: { type: 'string' },
    stats: { type: 'boolean' },
    report: { type: 'boolean' },
    'ptx-version': { type: 'string' },
    sm: { type: 'string' },
    emulated: { type: 'boolean' },
    adapter: { type: 'string' },
    runtime: { type: 'string' },
    'vision-tower': { type: 'string' },
  });
  if (flag(p, 'help')) {
    out(COMPILE_HELP);
    return 0;
  }
  if (p.values.target === undefined) throw new UsageError(`--target is required (${TARGETS.join(', ')})`);
  const outPath = strOpt(p, 'out');
  if (outPath !== undefined) return writeArtifact(p, outPath, out);
  const writeOnly = ['max-new-tokens', 'emulated', 'adapter', 'runtime', 'vision-tower'].filter((o) => p.values[o] !== undefined);
  if (writeOnly.length) throw new UsageError(`${writeOnly.map((o) => `--${o}`).join(', ')} go with --out (an artifact or a TS module)`);
  if (strOpt(p, 'emit') === 'ts') throw new UsageError('--emit ts writes a module: give --out model.ts');
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
