/**
 * Runs a page in Debian's Chromium for tests: bundles the page's TypeScript with esbuild, serves it on
 * 127.0.0.1 (a random free port) with node:http, drives /usr/bin/chromium headless through playwright-core with
 * WebGPU enabled (SwiftShader without a GPU). Missing pieces are reported as one line, not thrown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** The playwright-core pieces used here (loaded dynamically: a devDependency). */
interface PwPage {
  goto(url: string): Promise<unknown>;
  screenshot(o: { path?: string; fullPage?: boolean }): Promise<Uint8Array>;
  setViewportSize(s: { width: number; height: number }): Promise<void>;
  waitForFunction(f: string, arg?: unknown, opts?: { timeout?: number }): Promise<unknown>;
  evaluate<R>(f: string): Promise<R>;
  addInitScript(script: string): Promise<unknown>;
  on(event: 'console' | 'pageerror', f: (m: { text?: () => string; message?: string }) => void): void;
}
interface PwBrowser {
  newPage(): Promise<PwPage>;
  close(): Promise<void>;
}

export interface BrowserPage {
  readonly page: PwPage;
  readonly url: string;
  /** Console lines and page errors, for failure messages. */
  readonly log: string[];
  close(): Promise<void>;
}

/** What is missing to run a browser test here, or undefined. */
export async function browserMissing(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (apt-get install chromium)`;
  try {
    await import('playwright-core');
    await import('esbuild');
  } catch (e) {
    return `playwright-core or esbuild cannot be loaded: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

export interface PageOptions {
  /** Module specifiers resolved to files (esbuild's alias): 'modc/runtime-webgpu' -> its source. */
  readonly alias?: Readonly<Record<string, string>>;
  /** WebGPU on (--enable-unsafe-webgpu: SwiftShader without a GPU; the default) or off (the WebGL fallback's tests). */
  readonly webgpu?: boolean;
  /** Globals set before the page's script runs (a request the page reads at start). */
  readonly init?: Readonly<Record<string, unknown>>;
}

/** Chromium's flags with WebGPU on or off. */
const flags = (webgpu: boolean | undefined): string[] => (webgpu === false ? ['--disable-features=WebGPU', ...FLAGS] : ['--enable-unsafe-webgpu', ...FLAGS]);

async function bundle(entry: string, opts: PageOptions = {}): Promise<string> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent', ...(opts.alias ? { alias: { ...opts.alias } } : {}) });
  const file = out.outputFiles[0];
  if (file === undefined) throw new Error(`esbuild produced nothing for ${entry}`);
  return file.text;
}

/** Content types of the static files a page may load (runtime files of a peer such as onnxruntime-web). */
const TYPES: Readonly<Record<string, string>> = { '.wasm': 'application/wasm', '.mjs': 'text/javascript', '.js': 'text/javascript', '.json': 'application/json' };

function serve(script: string, assets: Readonly<Record<string, string>>): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><title>modc</title><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    const asset = req.url === undefined ? undefined : assets[req.url.split('?')[0] ?? ''];
    if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(script);
    } else if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    } else if (asset !== undefined && existsSync(asset)) {
      res.writeHead(200, { 'content-type': TYPES[extname(asset)] ?? 'application/octet-stream' });
      res.end(readFileSync(asset));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Chromium with WebGPU enabled (or not: then the page has no adapter), for pages served elsewhere. */
export async function launchChromium(opts: { readonly webgpu?: boolean } = {}): Promise<{ open(url: string): Promise<BrowserPage>; close(): Promise<void> }> {
  const { chromium } = (await import('playwright-core')) as unknown as { chromium: { launch(o: object): Promise<PwBrowser> } };
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: flags(opts.webgpu) });
  return {
    open: async (url) => {
      const page = await browser.newPage();
      const log: string[] = [];
      page.on('console', (m) => log.push(m.text?.() ?? ''));
      page.on('pageerror', (e) => log.push(`page error: ${e.message ?? ''}`));
      await page.goto(url);
      return { page, url, log, close: () => Promise.resolve() };
    },
    close: () => browser.close(),
  };
}

/**
 * Bundles `entry` (with `opts.alias` resolving module specifiers to files), serves it (and `assets`: URL path ->
 * file) on 127.0.0.1 and opens it in Chromium; `close` stops the browser and the server.
 */
export async function openPage(entry: string, assets: Readonly<Record<string, string>> = {}, opts: PageOptions = {}): Promise<BrowserPage> {
  const script = await bundle(entry, opts);
  const server = await serve(script, assets);
  const port = (server.address() as AddressInfo).port;
  const { chromium } = (await import('playwright-core')) as unknown as { chromium: { launch(o: object): Promise<PwBrowser> } };
  let browser: PwBrowser | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: flags(opts.webgpu) });
    const page = await browser.newPage();
    const log: string[] = [];
    page.on('console', (m) => log.push(m.text?.() ?? ''));
    page.on('pageerror', (e) => log.push(`page error: ${e.message ?? ''}`));
    if (opts.init !== undefined) await page.addInitScript(`Object.assign(globalThis, ${JSON.stringify(opts.init)});`);
    const url = `http://127.0.0.1:${port}/`;
    await page.goto(url);
    const b = browser;
    return {
      page,
      url,
      log,
      close: async () => {
        await b.close();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  } catch (e) {
    await browser?.close();
    await new Promise<void>((r) => server.close(() => r()));
    throw e;
  }
}
