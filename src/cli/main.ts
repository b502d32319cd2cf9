/**
 * The `modc` command: dispatches to subcommands; errors go to stderr with a non-zero exit code. Each command's
 * module is imported when it runs, so a command loads only what it uses (`run --plan` never loads the compiler).
 */
import { UsageError } from './args.js';
import type { ProgressStream } from '../io/index.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Streams a command may write to besides its line output. */
export interface CommandIO {
  /** Raw text to stdout, without a newline (streamed generation). */
  readonly write: (s: string) => void;
  /** Where progress bars go (stderr). */
  readonly progress: ProgressStream;
  /** Whether stdout is a terminal: generated text is then shown with its control characters escaped. */
  readonly terminal: boolean;
}

type Command = (argv: readonly string[], out: (s: string) => void, io: CommandIO) => Promise<number>;

const isPlanRun = (argv: readonly string[]): boolean => argv.some((a) => a === '--plan' || a.startsWith('--plan='));

const COMMANDS: Readonly<Record<string, (argv: readonly string[]) => Promise<{ run: Command; help: string }>>> = {
  report: () => import('./report.js').then((m) => ({ run: m.reportCommand, help: m.REPORT_HELP })),
  ir: () => import('./ir.js').then((m) => ({ run: m.irCommand, help: m.IR_HELP })),
  compile: () => import('./compile.js').then((m) => ({ run: m.compileCommand, help: m.COMPILE_HELP })),
  run: (argv) =>
    isPlanRun(argv) ? import('./run-plan.js').then((m) => ({ run: m.runPlanCommand, help: m.RUN_PLAN_HELP })) : import('./run.js').then((m) => ({ run: m.runCommand, help: m.RUN_HELP })),
  bench: () => import('./bench.js').then((m) => ({ run: m.benchCommand, help: m.BENCH_HELP })),
};

/** The version in this package's package.json (found from this module's location, built or not). */
function packageVersion(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'modc' && typeof pkg.version === 'string') return pkg.version;
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

const USAGE = `usage: modc <command> [options]

modc compiles Mixture-of-Depths multimodal LLMs (p-MoD) to fast kernels.

commands:
  report   per-layer FLOPs, vision tokens kept and KV cache of a model vs its dense baseline
  ir       print a model's graph IR
  compile  compile a model for a backend's target and print its lowered program or kernels
  run      run a model end to end
  bench    performance: matmul vs WebAssembly peers, p-MoD vs dense prefill, one layer vs onnxruntime-web

models: llava-1.5-7b, pmod-llava-1.5-7b, llava-next-7b, pmod-llava-next-7b, tiny-pmod, tiny-llava,
        a Hugging Face config.json, a checkpoint directory, or a models/*.ts file.
Run 'modc <command> --help' for the options of each command; 'modc --version' prints the version.`;

const stdoutLine = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

/**
 * Runs a command. `out` receives whole lines for stdout and `err` for stderr; `io.write` receives streamed text
 * (by default stdout itself when `out` is, else it is collected and passed to `out` when the command ends).
 */
export async function main(
  argv: readonly string[],
  out: (s: string) => void = stdoutLine,
  err: (s: string) => void = (s) => process.stderr.write(`${s}\n`),
  io: Partial<CommandIO> = {},
): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    out(USAGE);
    return cmd === undefined ? 1 : 0;
  }
  if (cmd === '--version' || cmd === '-V') {
    out(`modc ${packageVersion()}`);
    return 0;
  }
  const load = COMMANDS[cmd];
  if (load === undefined) {
    err(`modc: unknown command '${cmd}' (${Object.keys(COMMANDS).join(', ')}); run 'modc --help' for usage`);
    return 2;
  }
  const c = await load(rest);
  const streamed: string[] = [];
  const write = io.write ?? (out === stdoutLine ? (s: string) => void process.stdout.write(s) : (s: string) => void streamed.push(s));
  try {
    return await c.run(rest, out, { write, progress: io.progress ?? process.stderr, terminal: io.terminal ?? (out === stdoutLine && process.stdout.isTTY === true) });
  } catch (e) {
    const error = e as Error;
    err(`modc ${cmd}: ${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`);
    // One line says what is wrong; the help is one command away rather than a screenful that buries it.
    if (e instanceof UsageError) err(`run 'modc ${cmd} --help' for the options`);
    if (process.env.MODC_DEBUG) err(error.stack ?? '');
    return e instanceof UsageError ? 2 : 1;
  } finally {
    if (streamed.length) out(streamed.join(''));
  }
}
