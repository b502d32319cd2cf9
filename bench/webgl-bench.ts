/**
 * WebGL fallback benchmark: f32 matmul 512^3 and tiny p-MoD prefill through the program runner on webgl
 * (gpu.js webgl2 mode) and webgpu in one Chromium page (SwiftShader without a GPU), and on wasm (this build's
 * Wasm device runs on Node worker threads, so it is measured here in Node, on the same machine in the same run).
 * Medians of repeats after a warm-up run (which compiles); machine load (`uptime`) printed with the numbers.
 *
 *   npm run bench:webgl -- [--repeat 5] [--only "f32 matmul"] [--json]
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasmExecutor } from '../src/backends/wasm/index.js';
import { browserMissing, openPage } from '../test/browser/harness.js';
import { type Measured, measure } from './webgl-case.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const repeat = Number(arg('repeat') ?? 5);
  const onlyArg = arg('only');
  const only = onlyArg !== undefined ? [onlyArg] : undefined;
  const load = (): string => execFileSync('uptime', { encoding: 'utf8' }).trim();
  const rows: Measured[] = [];
  const errors: Record<string, string> = {};
  process.stdout.write(`before: ${load()}\n`);
  const missing = await browserMissing();
  if (missing !== undefined) errors.browser = missing;
  else {
    // The page source is TypeScript next to this file's source (bench/), bundled by the harness.
    const here = dirname(fileURLToPath(import.meta.url));
    const root = here.endsWith(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
    const page = await openPage(join(root, 'bench', 'webgl-page.ts'), {}, { webgpu: true, init: { __modcBenchRequest: { repeat, ...(only ? { only } : {}) } } });
    try {
      await page.page.waitForFunction('globalThis.__modcBench !== undefined', undefined, { timeout: 1_500_000 });
      const got = JSON.parse(await page.page.evaluate<string>('globalThis.__modcBench')) as { results: Measured[]; errors: Record<string, string> };
      rows.push(...got.results);
      Object.assign(errors, got.errors);
    } finally {
      await page.close();
    }
  }
  process.stdout.write(`after the page: ${load()}\n`);
  const wasm = wasmExecutor({ threads: 2, startWorkers: true });
  try {
    rows.push(...(await measure(wasm, 'wasm (Node, 2 threads)', 'wasm32 SIMD128, 2 worker threads', repeat, only)));
  } finally {
    await wasm.dispose();
  }
  process.stdout.write(`after wasm: ${load()}\n`);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify({ rows, errors }, null, 1)}\n`);
  process.stdout.write('| workload | backend | median (ms) | GFLOP/s | repeats | first outputs |\n|---|---|---|---|---|---|\n');
  for (const r of rows)
    process.stdout.write(`| ${r.workload} | ${r.backend} | ${r.medianMs.toFixed(1)} | ${r.gflops !== undefined ? r.gflops.toFixed(2) : ''} | ${r.repeats} | ${r.head.map((x) => x.toFixed(5)).join(', ')} |\n`);
  for (const [k, e] of Object.entries(errors)) process.stdout.write(`${k}: ${e}\n`);
  for (const r of rows.filter((x, i, a) => a.findIndex((y) => y.device === x.device) === i)) process.stdout.write(`${r.backend}: ${r.device}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
