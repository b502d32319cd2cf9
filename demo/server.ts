/**
 * `npm run demo`: the browser demo of a tiny p-MoD LLaVA model. Once, it writes the model (random weights, a tiny
 * CLIP tower seeing 112-pixel images as 8x8 patches, so 64 vision tokens) and compiles it into three artifacts,
 * WebGPU (WGSL), WebGL (gpu.js kernels: where there is no WebGPU) and Wasm (where there is neither, or
 * `?backend=wasm`); then it bundles demo/page.ts with
 * esbuild and serves the page, the artifacts and the weights on 127.0.0.1 only, cross-origin isolated (the Wasm
 * fallback needs shared memory).
 *
 *   npm run demo [-- --port 8080] [--emulated]
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildClipVisionTower, CLIP_VISION_PREFIX, clipVisionFromHf } from '../models/index.js';
import { main } from '../src/cli/main.js';
import { compilerBuildId } from '../src/io/build-id.js';
import { tensorEntry, writeSafetensors } from '../src/io/safetensors/index.js';
import { randomWeights } from '../src/runtime/random.js';
import { writeCheckpoint } from '../scripts/make-checkpoint.js';

/** The repository root: the directory of modc's package.json above this file (demo/ or dist/demo/). */
function repoRoot(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'modc') return d;
  }
  throw new Error('cannot find the modc repository root');
}

export const DEMO_IMAGE_SIZE = 112;
const PATCH = 14;
export const DEMO_VISION_TOKENS = (DEMO_IMAGE_SIZE / PATCH) ** 2;

export interface DemoOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Where the model and the artifacts are kept (default demo/.data). */
  readonly dataDir?: string;
  /**
   * WebGPU schedules for CPU-emulated adapters (SwiftShader, llvmpipe) instead of GPUs'. Their fully unrolled
   * register tiles make shaders about 6x larger, which SwiftShader compiles about 3x slower here, so the GPU
   * schedules are the default even without a GPU.
   */
  readonly emulated?: boolean;
  readonly log?: (s: string) => void;
}

/** The tiny checkpoint with a CLIP tower of 112-pixel images (the fixture's tower sees 28 pixels: 4 tokens). */
function writeDemoCheckpoint(dir: string): void {
  writeCheckpoint(dir, { kind: 'pmod-llava', dtype: 'f32', seed: 7, tokenizer: 'json', visionTower: 'full' });
  const towerDir = join(dir, 'vision_tower');
  const cfg = { ...(JSON.parse(readFileSync(join(towerDir, 'config.json'), 'utf8')) as Record<string, unknown>), image_size: DEMO_IMAGE_SIZE, patch_size: PATCH };
  writeFileSync(join(towerDir, 'config.json'), JSON.stringify(cfg, null, 2));
  const processor = JSON.parse(readFileSync(join(towerDir, 'preprocessor_config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(towerDir, 'preprocessor_config.json'), JSON.stringify({ ...processor, size: { shortest_edge: DEMO_IMAGE_SIZE }, crop_size: { height: DEMO_IMAGE_SIZE, width: DEMO_IMAGE_SIZE } }, null, 2));
  const graph = buildClipVisionTower(clipVisionFromHf(cfg), { selectLayer: -2, prefix: CLIP_VISION_PREFIX });
  const w = randomWeights(graph, 17);
  writeSafetensors(join(towerDir, 'model.safetensors'), w.names().map((n) => tensorEntry(n, w.get(n))));
}

async function compileInto(ck: string, out: string, target: 'webgpu' | 'webgl' | 'wasm', emulated: boolean): Promise<void> {
  const err: string[] = [];
  const args = ['compile', ck, '--target', target, '--vision-tokens', String(DEMO_VISION_TOKENS), '--text-tokens', '160', '--max-new-tokens', '32', '--out', out];
  if (target === 'webgpu' && emulated) args.push('--emulated');
  const code = await main(args, () => undefined, (s) => err.push(s));
  if (code !== 0) throw new Error(`compiling the demo model for ${target} failed:\n${err.join('\n')}`);
}

/** Writes the model and its artifacts into `dataDir` unless they are there for this compiler build. */
export async function prepareDemo(dataDir: string, emulated = false, log: (s: string) => void = () => undefined): Promise<void> {
  const stamp = join(dataDir, 'build.json');
  const want = JSON.stringify({ build: compilerBuildId(), emulated });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  log(`writing the demo model and compiling it (WebGPU, WebGL and Wasm) into ${dataDir} ...`);
  const ck = join(dataDir, 'model');
  writeDemoCheckpoint(ck);
  await compileInto(ck, join(dataDir, 'webgpu'), 'webgpu', emulated);
  await compileInto(ck, join(dataDir, 'webgl'), 'webgl', emulated);
  await compileInto(ck, join(dataDir, 'wasm'), 'wasm', emulated);
  writeFileSync(stamp, want);
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.wgsl': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** A file under `root` for a URL path, or undefined (never a path outside it). */
function fileUnder(root: string, rel: string): string | undefined {
  const full = resolve(root, `.${sep}${decodeURIComponent(rel)}`);
  if (!full.startsWith(`${resolve(root)}${sep}`)) return undefined;
  return existsSync(full) && statSync(full).isFile() ? full : undefined;
}

async function bundlePage(demoDir: string, root: string): Promise<string> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({ entryPoints: [join(demoDir, 'page.ts')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent', absWorkingDir: root });
  const file = out.outputFiles[0];
  if (file === undefined) throw new Error('esbuild produced no page bundle');
  return file.text;
}

/** Prepares the data, bundles the page and serves it; `close` stops the server. */
export async function startDemo(o: DemoOptions = {}): Promise<{ url: string; dataDir: string; close: () => Promise<void> }> {
  const root = repoRoot();
  const demoDir = join(root, 'demo');
  const dataDir = o.dataDir ?? join(demoDir, '.data');
  await prepareDemo(dataDir, o.emulated ?? false, o.log);
  const page = await bundlePage(demoDir, root);
  const routes: readonly [string, string][] = [
    ['/model/', join(dataDir, 'model')],
    ['/webgpu/', join(dataDir, 'webgpu')],
    ['/webgl/', join(dataDir, 'webgl')],
    ['/wasm/', join(dataDir, 'wasm')],
  ];
  const server: Server = createServer((req, res) => {
    // Cross-origin isolation: the Wasm fallback's shared memory needs it.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const send = (type: string, body: string | Uint8Array): void => {
      res.writeHead(200, { 'content-type': type });
      res.end(body);
    };
    if (path === '/' || path === '/index.html') return send(TYPES['.html'] ?? '', readFileSync(join(demoDir, 'index.html')));
    if (path === '/page.js') return send(TYPES['.js'] ?? '', page);
    if (path === '/default.png') return send(TYPES['.png'] ?? '', readFileSync(join(demoDir, 'default.png')));
    if (path === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    for (const [prefix, dir] of routes) {
      if (!path.startsWith(prefix)) continue;
      const file = fileUnder(dir, path.slice(prefix.length));
      if (file !== undefined) return send(TYPES[extname(file)] ?? 'application/octet-stream', readFileSync(file));
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((r, j) => {
    server.once('error', j);
    server.listen(o.port ?? 0, '127.0.0.1', () => r());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, dataDir, close: () => new Promise<void>((r) => server.close(() => r())) };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--port');
  const port = i >= 0 ? Number(process.argv[i + 1]) : 8080;
  const d = await startDemo({ port, emulated: process.argv.includes('--emulated'), log: (s) => process.stdout.write(`${s}\n`) });
  process.stdout.write(`modc demo: ${d.url} (127.0.0.1 only; Ctrl-C stops it)\n`);
}
