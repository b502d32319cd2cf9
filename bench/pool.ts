/**
 * The Wasm thread pool's own costs, side by side in one run:
 * - the cost of one dispatch of a tiny kernel (a 1x64x256 GEMV) on 2 threads with idle threads sleeping at once
 *   (MODC_WASM_SPIN_US=0) and spinning 200 us first (the default): child processes of each kind alternate,
 *   since the spin is fixed when the pool module loads;
 * - the rate GEMVs stream weights at when a fixed 256 MiB of weights is cut into dispatches of 4, 11 or 32 MiB
 *   (1024 x N weights, N = 1024, 2816, 8192: the bench model's projections and its LM head), on 1 and 2 threads.
 * Run: npm run build && node dist/bench/pool.js [--repeats 5]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WasmGemm } from '../src/backends/wasm/gemm.js';
import { formatSpread, spread } from '../src/cli/bench-util.js';
import { loadText } from '../src/cli/bench-load.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const REPEATS = arg('--repeats', 5);

/** Microseconds per dispatch of a tiny GEMV, median of 5 batches of 20000 (in this process's spin setting). */
async function dispatchMicros(): Promise<number[]> {
  const g = new WasmGemm({ threads: 2 });
  try {
    const r = g.prepare(1, 64, 256, new Float32Array(64 * 256).fill(0.5));
    for (let i = 0; i < 2000; i++) r.run();
    const out: number[] = [];
    for (let rep = 0; rep < 5; rep++) {
      const t0 = performance.now();
      for (let i = 0; i < 20000; i++) r.run();
      out.push(((performance.now() - t0) / 20000) * 1000);
    }
    return out;
  } finally {
    await g.dispose();
  }
}

/** GB/s of weights for 256 MiB of 1024 x n GEMVs, each its own dispatch, on `threads` threads (per repeat). */
async function streamRates(threads: number, ns: readonly number[]): Promise<Map<number, number[]>> {
  const g = new WasmGemm({ threads });
  const total = 256 * 2 ** 20;
  const k = 1024;
  try {
    const sets = ns.map((n) => {
      const w = new Float32Array(k * n).map((_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
      return { n, runners: Array.from({ length: Math.round(total / (k * n * 4)) }, () => g.prepare(1, k, n, w)) };
    });
    const rates = new Map<number, number[]>(ns.map((n) => [n, []]));
    for (let rep = 0; rep < REPEATS; rep++)
      for (const { n, runners } of sets) {
        for (const r of runners) r.run();
        const t0 = performance.now();
        for (let it = 0; it < 3; it++) for (const r of runners) r.run();
        const bytes = 3 * runners.length * k * n * 4;
        rates.get(n)?.push(bytes / (performance.now() - t0) / 1e6);
      }
    return rates;
  } finally {
    await g.dispose();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--child-dispatch')) {
    process.stdout.write(JSON.stringify(await dispatchMicros()));
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const load0 = loadText();
  const sleeping: number[] = [];
  const spinning: number[] = [];
  for (let rep = 0; rep < REPEATS; rep++)
    for (const [us, into] of [['0', sleeping], ['200', spinning]] as const) {
      const text = execFileSync(process.execPath, [self, '--child-dispatch'], { encoding: 'utf8', env: { ...process.env, MODC_WASM_SPIN_US: us } });
      into.push(...(JSON.parse(text) as number[]));
    }
  console.log(`Wasm pool, ${REPEATS} repeats (${load0})`);
  console.log(`  dispatch of a 1x64x256 GEMV on 2 threads, us: idle threads sleep ${formatSpread(spread(sleeping))}, spin 200 us first ${formatSpread(spread(spinning))}`);
  const ns = [1024, 2816, 8192];
  for (const threads of [1, 2]) {
    const rates = await streamRates(threads, ns);
    const cells = ns.map((n) => `${((1024 * n * 4) / 2 ** 20).toFixed(0)} MiB per dispatch ${formatSpread(spread(rates.get(n) ?? []))}`);
    console.log(`  GEMV weights streamed, GB/s, ${threads} thread${threads > 1 ? 's' : ''}: ${cells.join(', ')}`);
  }
  console.log(`  (after: ${loadText()})`);
}

await main();
