/**
 * `npm run bench:compare -- [--baseline REV] [--repeat N] [--quick]`: the Wasm backend of this build against the
 * build of another revision (default: the last commit before the back-end redesign), side by side in one run.
 * The baseline is checked out into a temporary git worktree (sharing this checkout's node_modules) and built
 * there; then each benchmark runs alternately in the two builds, one CLI process per run, so a change of machine
 * load hits both alike. Prints medians, min-max spread and new/old ratios, and the load average. The temporary
 * worktree is removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
/** The last commit of the CPU-shaped back end (before issue 8's redesign). */
const baseline = opt('baseline', '482e5c0');
const repeat = Number(opt('repeat', '3'));
const quick = args.includes('--quick');

interface Bench {
  readonly name: string;
  readonly argv: readonly string[];
  /** The figure compared (lower is better unless `higher`). */
  readonly pick: (j: Record<string, unknown>) => number;
  readonly unit: string;
  readonly higher?: boolean;
}

const num = (x: unknown): number => (typeof x === 'number' ? x : Number.NaN);
const field = (j: Record<string, unknown>, ...path: string[]): number => {
  let cur: unknown = j;
  for (const p of path) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[p] : undefined;
  return num(cur);
};
const modcRow = (j: Record<string, unknown>): number => {
  const rows = Array.isArray(j.results) ? (j.results as Record<string, unknown>[]) : [];
  return num(rows.find((r) => r.engine === 'modc-wasm')?.gflops);
};

const layers = quick ? '4' : '16';
const BENCHES: readonly Bench[] = [
  { name: 'matmul 576x4096x4096, 2 threads', argv: ['bench', 'matmul', '--m', '576', '--k', '4096', '--n', '4096', '--threads', '2', '--engines', 'modc-wasm'], pick: modcRow, unit: 'GFLOP/s', higher: true },
  { name: 'matmul 1x4096x4096 (GEMV), 2 threads', argv: ['bench', 'matmul', '--m', '1', '--k', '4096', '--n', '4096', '--threads', '2', '--engines', 'modc-wasm'], pick: modcRow, unit: 'GFLOP/s', higher: true },
  { name: 'prefill dense (d=1024, N_v=576, T=64)', argv: ['bench', 'prefill', '--layers', layers, '--repeat', '2'], pick: (j) => field(j, 'dense', 'ms'), unit: 'ms' },
  { name: 'prefill p-MoD', argv: ['bench', 'prefill', '--layers', layers, '--repeat', '2'], pick: (j) => field(j, 'pmod', 'ms'), unit: 'ms' },
  { name: 'decode dense', argv: ['bench', 'decode', '--layers', layers, '--tokens', quick ? '8' : '24'], pick: (j) => field(j, 'dense', 'msPerToken'), unit: 'ms/token' },
  { name: 'decode p-MoD', argv: ['bench', 'decode', '--layers', layers, '--tokens', quick ? '8' : '24'], pick: (j) => field(j, 'pmod', 'msPerToken'), unit: 'ms/token' },
];

function run(cliPath: string, argv: readonly string[], quietErrors = false): Record<string, unknown> {
  const text = execFileSync(process.execPath, [cliPath, ...argv, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', quietErrors ? 'ignore' : 'inherit'] });
  return JSON.parse(text) as Record<string, unknown>;
}

/** Runs a benchmark once in one build, falling back to all engines when a build lacks --engines. */
function once(cliPath: string, b: Bench): number {
  try {
    return b.pick(run(cliPath, b.argv, true));
  } catch {
    const i = b.argv.indexOf('--engines');
    if (i < 0) throw new Error(`${b.name} failed in ${cliPath}`);
    return b.pick(run(cliPath, [...b.argv.slice(0, i), ...b.argv.slice(i + 2)]));
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

const work = mkdtempSync(join(tmpdir(), 'modc-baseline-'));
const tree = join(work, 'tree');
try {
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', tree, baseline], { stdio: 'inherit' });
  symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'), 'dir');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(tree, 'tsconfig.json')], { stdio: 'inherit' });
  const oldCli = join(tree, 'dist', 'src', 'cli', 'bin.js');
  const newCli = join(root, 'dist', 'src', 'cli', 'bin.js');
  if (!existsSync(newCli)) throw new Error('build this checkout first (npm run build)');
  const lines = [`Wasm backend: this build vs ${baseline} (alternating runs, ${repeat} each; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')})`];
  for (const b of BENCHES) {
    const times: { old: number[]; new: number[] } = { old: [], new: [] };
    for (let r = 0; r < repeat; r++) {
      times.old.push(once(oldCli, b));
      times.new.push(once(newCli, b));
    }
    const [o, n] = [median(times.old), median(times.new)];
    const spread = (xs: number[]): string => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
    const better = b.higher ? n / o : o / n;
    lines.push(`  ${b.name.padEnd(40)} old ${o.toFixed(1)} (${spread(times.old)})  new ${n.toFixed(1)} (${spread(times.new)}) ${b.unit}   new is ${better.toFixed(2)}x as fast`);
  }
  lines.push(`load average at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  try {
    execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', tree], { stdio: 'ignore' });
  } catch {
    // The worktree was never created.
  }
  rmSync(work, { recursive: true, force: true });
}
