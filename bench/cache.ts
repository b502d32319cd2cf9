/**
 * The persistent cache, cold vs warm: `modc run tiny-pmod` as separate processes, each with an empty cache
 * directory (cold: every program and kernel compiled) or one the previous run filled (warm). Reports per kind the
 * median first run (compile, kernel loading, weight upload and the first prefill; the CLI's `ms.firstRun`), when
 * the prefill after it started since the process began (`ms.sinceStart`), the process's wall time, and for warm
 * runs the gap between the end of the run before and the start of this run's prefill.
 * Run: npm run bench:cache [-- --repeats N] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../src/cli/bench-util.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const REPEATS = arg('--repeats', 5);
const BIN = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));

interface Sample {
  firstRunMs: number;
  sinceStartMs: number;
  wallMs: number;
  /** Wall time from the spawn to the exit, as the parent saw it. */
  spawnedAt: number;
  exitedAt: number;
}

function run(cacheDir: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const child = spawn(process.execPath, [BIN, 'run', 'tiny-pmod', '--json', '--cache-dir', cacheDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const exitedAt = Date.now();
      if (code !== 0) return reject(new Error(`modc run exited with ${code}`));
      const ms = (JSON.parse(out) as { ms: { firstRun: number; sinceStart: number } }).ms;
      resolve({ firstRunMs: ms.firstRun, sinceStartMs: ms.sinceStart, wallMs: exitedAt - spawnedAt, spawnedAt, exitedAt });
    });
  });
}

const cold: Sample[] = [];
const warm: Sample[] = [];
const gaps: number[] = [];
for (let i = 0; i < REPEATS; i++) {
  const dir = mkdtempSync(join(tmpdir(), 'modc-bench-cache-'));
  try {
    const c = await run(dir);
    cold.push(c);
    const w = await run(dir);
    warm.push(w);
    // The warm run's prefill began sinceStart ms after its process started, which was at about its spawn.
    gaps.push(w.spawnedAt - c.exitedAt + w.sinceStartMs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const m = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]));
const result = {
  model: 'tiny-pmod',
  repeats: REPEATS,
  loadAverage: loadavg()[0],
  cold: { firstRunMs: m(cold, 'firstRunMs'), sinceStartMs: m(cold, 'sinceStartMs'), wallMs: m(cold, 'wallMs') },
  warm: { firstRunMs: m(warm, 'firstRunMs'), sinceStartMs: m(warm, 'sinceStartMs'), wallMs: m(warm, 'wallMs') },
  speedup: m(cold, 'firstRunMs') / m(warm, 'firstRunMs'),
  gapAfterPreviousRunMs: median(gaps),
};
if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
else {
  const f = (x: number): string => x.toFixed(0).padStart(6);
  console.log(`tiny-pmod, ${REPEATS} cold/warm pairs (median), load average ${result.loadAverage.toFixed(2)}`);
  console.log(`                 first run  prefill since start   wall`);
  console.log(`cold (no cache) ${f(result.cold.firstRunMs)} ms  ${f(result.cold.sinceStartMs)} ms        ${f(result.cold.wallMs)} ms`);
  console.log(`warm (cached)   ${f(result.warm.firstRunMs)} ms  ${f(result.warm.sinceStartMs)} ms        ${f(result.warm.wallMs)} ms`);
  console.log(`first run ${result.speedup.toFixed(1)}x faster warm; the warm run's prefill started ${result.gapAfterPreviousRunMs.toFixed(0)} ms after the cold run ended`);
}
