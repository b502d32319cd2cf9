/**
 * The `modc` command in process, as the tests drive it: stdout lines, stderr lines, streamed text and the progress
 * stream collected apart, stdout not a terminal unless asked.
 */
import { main } from '../../src/cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
  readonly streamed: string;
  readonly progress: string;
}

export interface CliOptions {
  /** Run on the reference backend unless --backend is given (exact results to compare with). */
  readonly reference?: boolean;
  /** Treat stdout as a terminal. */
  readonly terminal?: boolean;
}

export async function runCli(argv: readonly string[], o: CliOptions = {}): Promise<CliRun> {
  const args = o.reference && argv[0] === 'run' && !argv.includes('--backend') ? [...argv, '--backend', 'reference'] : [...argv];
  const [out, err, streamed, progress]: string[][] = [[], [], [], []];
  const code = await main(args, (s) => out.push(s), (s) => err.push(s), { write: (s) => streamed.push(s), progress: { write: (s: string) => progress.push(s), isTTY: false }, terminal: o.terminal ?? false });
  return { code, out: out.join('\n'), err: err.join('\n'), streamed: streamed.join(''), progress: progress.join('') };
}
