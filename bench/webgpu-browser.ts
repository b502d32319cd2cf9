/**
 * `npm run bench:webgpu-browser -- [--m 512 --k 512 --n 512] [--repeat 5]`: f32 matmul on WebGPU in Debian's
 * Chromium (SwiftShader without a GPU), modc vs onnxruntime-web's WebGPU execution provider on the same page and
 * adapter, runs alternating, medians and ranges, GFLOP/s; prints the load average beside them.
 */
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserMissing, openPage } from '../test/browser/harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const opt = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const [m, k, n, repeat] = [opt('m', 512), opt('k', 512), opt('n', 512), opt('repeat', 5)];

const missing = await browserMissing();
if (missing !== undefined) {
  process.stdout.write(`webgpu-browser benchmark unavailable: ${missing}\n`);
  process.exit(0);
}
const ortDist = join(root, 'node_modules', 'onnxruntime-web', 'dist');
const assets: Record<string, string> = {};
// onnxruntime-web loads its wasm runtime (the variant it picks at run time) from wasmPaths.
for (const f of readdirSync(ortDist).filter((x) => /^ort-wasm.*\.(mjs|wasm)$/.test(x))) assets[`/ort/${f}`] = join(ortDist, f);
const page = await openPage(join(root, 'bench', 'pages', 'webgpu-matmul-page.ts'), assets);
try {
  await page.page.evaluate(`globalThis.__modcArgs = ${JSON.stringify({ m, k, n, repeat })}`);
  await page.page.waitForFunction('globalThis.__modcBench !== undefined', undefined, { timeout: 900000 });
  const r = JSON.parse(await page.page.evaluate<string>('globalThis.__modcBench')) as {
    error?: string; adapter?: string; results?: { engine: string; ms: number; min: number; max: number; gflops: number }[]; unavailable?: Record<string, string>;
  };
  if (r.error !== undefined) throw new Error(`${r.error}\n${page.log.join('\n')}`);
  const lines = [`f32 matmul ${m}x${k}x${n} on WebGPU in Chromium (${r.adapter ?? '?'}), median of ${repeat} end-to-end runs; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`];
  for (const e of r.results ?? []) lines.push(`  ${e.engine.padEnd(28)} ${e.gflops.toFixed(2)} GFLOP/s  (${e.ms.toFixed(1)} ms, ${e.min.toFixed(1)}-${e.max.toFixed(1)})`);
  for (const [name, why] of Object.entries(r.unavailable ?? {})) lines.push(`  ${name} unavailable: ${why}`);
  const [ours, peer] = [r.results?.[0], r.results?.[1]];
  if (ours && peer) lines.push(`  modc / onnxruntime-web: ${(ours.gflops / peer.gflops).toFixed(2)}x`);
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await page.close();
}
