/**
 * `modc bench cold`: the start of `modc run <model>` in a fresh process, milliseconds from the start of the
 * process to the first logits as the command itself reports them, over several processes: without any cache
 * (`--no-cache`: every kernel rendered and compiled, the plan lowered), and with a warm cache (a temporary cache
 * directory filled by one run first: kernels and the plan read back). The two kinds of run alternate, so a change
 * in the machine's load falls on both.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, intOpt, parse, strOpt } from './args.js';
import { formatSpread, type Spread, spread } from './bench-util.js';
import { loadText } from './bench-load.js';

export const COLD_HELP = `  modc bench cold [--model tiny-pmod] [--runs 7] [--json]
      start-up: a fresh 'modc run <model>' process per run, milliseconds from process start to the first
      logits (the command's own clock) and to its exit, without a cache (--no-cache) and with a warm one
      (a temporary cache directory filled first), runs alternating;
      JSON: { noCache: { toLogitsMs, firstRunMs, processMs }, warmCache: {...}, ... }`;

interface RunJson {
  readonly ms: { readonly firstLogitsSinceStart: number; readonly firstRun: number; readonly setup: number };
}

interface ColdRuns {
  readonly toLogits: number[];
  readonly firstRun: number[];
  readonly toExit: number[];
}

interface ColdSpread {
  readonly toLogitsMs: Spread;
  readonly firstRunMs: Spread;
  readonly processMs: Spread;
}

const summary = (r: ColdRuns): ColdSpread => ({ toLogitsMs: spread(r.toLogits), firstRunMs: spread(r.firstRun), processMs: spread(r.toExit) });

export async function coldBench(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, { model: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' } });
  if (flag(p, 'help')) {
    out(COLD_HELP);
    return 0;
  }
  const model = strOpt(p, 'model') ?? 'tiny-pmod';
  const runs = intOpt(p, 'runs', 7, 1);
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
  const cacheDir = mkdtempSync(join(tmpdir(), 'modc-bench-cold-'));
  const once = (cacheArgs: readonly string[], into?: ColdRuns): void => {
    const t0 = performance.now();
    const text = execFileSync(process.execPath, [bin, 'run', model, '--json', ...cacheArgs], { encoding: 'utf8', maxBuffer: 16 << 20 });
    const ms = performance.now() - t0;
    if (!into) return;
    const r = JSON.parse(text) as RunJson;
    into.toExit.push(ms);
    into.toLogits.push(r.ms.firstLogitsSinceStart);
    into.firstRun.push(r.ms.firstRun);
  };
  const none: ColdRuns = { toLogits: [], firstRun: [], toExit: [] };
  const warm: ColdRuns = { toLogits: [], firstRun: [], toExit: [] };
  const load0 = loadText();
  try {
    once(['--cache-dir', cacheDir]); // fills the cache
    for (let i = 0; i < runs; i++) {
      once(['--no-cache'], none);
      once(['--cache-dir', cacheDir], warm);
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  const result = { model, runs, noCache: summary(none), warmCache: summary(warm), load: [load0, loadText()] };
  if (flag(p, 'json')) out(JSON.stringify(result, null, 2));
  else {
    const rows = (name: string, s: ColdSpread): string =>
      `  ${name}\n` +
      `    process start -> first logits  ${formatSpread(s.toLogitsMs, 0)}\n` +
      `    of which the first run         ${formatSpread(s.firstRunMs, 0)} (lowering or plan read, kernels, weight upload, prefill)\n` +
      `    whole process (spawn -> exit)  ${formatSpread(s.processMs, 0)}`;
    out(
      `start-up of 'modc run ${model}' (${runs} fresh processes of each kind, alternating; ${load0}, after: ${loadText()}), median [min-max] ms\n` +
        `${rows('no cache (--no-cache)', result.noCache)}\n${rows('warm cache', result.warmCache)}`,
    );
  }
  return 0;
}
