/**
 * `modc bench cold`: the cold start of `modc run <model>` (a fresh process, no kernel cache): milliseconds from
 * the start of the process to the first logits, as the command itself reports them, over several processes.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { flag, intOpt, parse, strOpt } from './args.js';
import { formatSpread, spread } from './bench-util.js';
import { loadText } from './bench-load.js';

export const COLD_HELP = `  modc bench cold [--model tiny-pmod] [--runs 7] [--json]
      cold start: a fresh 'modc run <model>' process per run, milliseconds from process start to the first
      logits (the command's own clock) and to its exit; JSON: { toLogitsMs: {median, mean, min, max}, ... }`;

interface RunJson {
  readonly ms: { readonly firstLogitsSinceStart: number; readonly firstRun: number; readonly setup: number };
}

export async function coldBench(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, { model: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' } });
  if (flag(p, 'help')) {
    out(COLD_HELP);
    return 0;
  }
  const model = strOpt(p, 'model') ?? 'tiny-pmod';
  const runs = intOpt(p, 'runs', 7, 1);
  const bin = fileURLToPath(new URL('./bin.js', import.meta.url));
  const toLogits: number[] = [];
  const firstRun: number[] = [];
  const toExit: number[] = [];
  const load0 = loadText();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const text = execFileSync(process.execPath, [bin, 'run', model, '--json'], { encoding: 'utf8', maxBuffer: 16 << 20 });
    toExit.push(performance.now() - t0);
    const r = JSON.parse(text) as RunJson;
    toLogits.push(r.ms.firstLogitsSinceStart);
    firstRun.push(r.ms.firstRun);
  }
  const result = { model, runs, toLogitsMs: spread(toLogits), firstRunMs: spread(firstRun), processMs: spread(toExit), load: [load0, loadText()] };
  if (flag(p, 'json')) out(JSON.stringify(result, null, 2));
  else
    out(
      `cold start of 'modc run ${model}' (${runs} fresh processes; ${load0}, after: ${loadText()}), median [min-max] ms\n` +
        `  process start -> first logits  ${formatSpread(result.toLogitsMs, 0)}\n` +
        `  of which the first run         ${formatSpread(result.firstRunMs, 0)} (compile, weight upload, prefill)\n` +
        `  whole process (spawn -> exit)  ${formatSpread(result.processMs, 0)}`,
    );
  return 0;
}
