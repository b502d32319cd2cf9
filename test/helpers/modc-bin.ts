/**
 * Runs the real `modc` binary (src/cli/bin.ts, through the test loader: no build needed) as a child process,
 * optionally behind real kernel pipes read slowly, as `modc ... | slow-consumer` is: Node's own child pipes are
 * socket pairs with a far larger buffer, which would hide a lost pipe write.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOADER = join(ROOT, 'test', 'helpers', 'ts-loader', 'register.mjs');
export const BIN = join(ROOT, 'src', 'cli', 'bin.ts');

export interface BinResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
}

export interface BinOptions {
  /** Send stdout and stderr through pipe(2) pipes whose reader, after the first byte, pauses this long. */
  readonly readAfterMs?: number;
  /** Send stdout through a pipe to `head -c N`, which exits after N bytes. */
  readonly headBytes?: number;
  /** A script to run instead of the binary (same loader). */
  readonly script?: string;
}

/** Starts `modc ...args` and collects everything it writes. */
export function runBin(args: readonly string[], o: BinOptions = {}): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const node = [process.execPath, '--import', LOADER, o.script ?? BIN, ...args];
    const delay = ((o.readAfterMs ?? 0) / 1000).toFixed(3);
    // The slow reader takes exactly one byte (dd bs=1), so its pause starts when the child starts writing, however
    // long the child took to start. bash reports the child's status in PIPESTATUS.
    const slow = `{ dd bs=1 count=1 2>/dev/null; sleep ${delay}; cat; }`;
    const shell =
      o.headBytes !== undefined
        ? `"$@" | head -c ${o.headBytes} >/dev/null; exit \${PIPESTATUS[0]}`
        : `"$@" 2> >(${slow} >&2) | ${slow}; exit \${PIPESTATUS[0]}`;
    const [cmd, ...argv] = o.readAfterMs !== undefined || o.headBytes !== undefined ? ['bash', '-c', shell, 'modc', ...node] : node;
    const child = spawn(cmd ?? process.execPath, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const stdout = child.stdout;
    const stderr = child.stderr;
    stdout.on('data', (b: Buffer) => out.push(b));
    stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
  });
}
