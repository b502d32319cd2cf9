/** The `modc` command: dispatches to subcommands; errors go to stderr with a non-zero exit code. */
import { UsageError } from './args.js';
import type { ProgressStream } from '../io/index.js';

/** Streams a command may write to besides its line output. */
export interface CommandIO {
  /** Raw text to stdout, without a newline (streamed generation). */
  readonly write: (s: string) => void;
  /** Where progress bars go (stderr). */
  readonly progress: ProgressStream;
}

type Command = (argv: readonly string[], out: (s: string) => void, io: CommandIO) => Promise<number>;

/**
 * Each command's module is loaded when it runs: a process imports only what its command uses (the cold start
 * of `modc run` paid for the benchmark peers, the tokenizer and the image decoders before).
 */
const COMMANDS: Readonly<Record<string, () => Promise<{ run: Command; help: string }>>> = {
  report: async () => import('./report.js').then((m) => ({ run: m.reportCommand, help: m.REPORT_HELP })),
  ir: async () => import('./ir.js').then((m) => ({ run: m.irCommand, help: m.IR_HELP })),
  compile: async () => import('./compile.js').then((m) => ({ run: m.compileCommand, help: m.COMPILE_HELP })),
  run: async () => import('./run.js').then((m) => ({ run: m.runCommand, help: m.RUN_HELP })),
  bench: async () => import('./bench.js').then((m) => ({ run: m.benchCommand, help: m.BENCH_HELP })),
};

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
Run 'modc <command> --help' for the options of each command.`;

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
  const load = COMMANDS[cmd];
  if (load === undefined) {
    err(`modc: unknown command '${cmd}'\n\n${USAGE}`);
    return 2;
  }
  const streamed: string[] = [];
  const write = io.write ?? (out === stdoutLine ? (s: string) => void process.stdout.write(s) : (s: string) => void streamed.push(s));
  const c = await load();
  try {
    return await c.run(rest, out, { write, progress: io.progress ?? process.stderr });
  } catch (e) {
    const error = e as Error;
    err(`modc ${cmd}: ${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`);
    if (e instanceof UsageError) err(`\n${c.help}`);
    if (process.env.MODC_DEBUG) err(error.stack ?? '');
    return e instanceof UsageError ? 2 : 1;
  } finally {
    if (streamed.length) out(streamed.join(''));
  }
}
