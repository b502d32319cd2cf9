/**
 * The backend a page runs on: WebGPU where the browser has an adapter, else WebGL2 (this backend), else the
 * page's Wasm executor. A page that names a backend (`?backend=webgl`) gets that one or an error saying what it
 * lacks. Each backend passed over is reported with the reason, so a page can show why it fell back.
 */
import { openBrowserDevice } from '../webgpu/browser.js';
import { DeviceExecutor } from '../../runtime/device-executor.js';
import type { Executor } from '../../runtime/executor.js';
import { openWebGlDevice, type WebGlOpenOptions } from './browser.js';

export type BrowserBackend = 'webgpu' | 'webgl' | 'wasm';

/** The order pages try backends in. */
export const FALLBACK_ORDER: readonly BrowserBackend[] = ['webgpu', 'webgl', 'wasm'];

export interface ChooseOptions {
  /** Only this backend (the page's --backend / ?backend= choice); default: the first of FALLBACK_ORDER that opens. */
  readonly backend?: BrowserBackend;
  /**
   * The page's Wasm executor, the last fallback. This build's Wasm device runs on Node worker threads, so a page
   * supplies its own; without it the chain ends at WebGL.
   */
  readonly wasm?: () => Promise<Executor>;
  readonly webgl?: WebGlOpenOptions;
}

export interface ChosenBackend {
  readonly name: BrowserBackend;
  readonly executor: Executor;
  /** What it runs on (the adapter or WebGL renderer). */
  readonly device: string;
  /** The backends tried before it, each with the reason it was passed over. */
  readonly skipped: readonly { readonly name: BrowserBackend; readonly reason: string }[];
}

async function open(name: BrowserBackend, opts: ChooseOptions): Promise<{ executor: Executor; device: string }> {
  switch (name) {
    case 'webgpu': {
      const d = await openBrowserDevice();
      return { executor: new DeviceExecutor('webgpu', d), device: d.target.device };
    }
    case 'webgl': {
      const d = await openWebGlDevice(opts.webgl);
      return { executor: new DeviceExecutor('webgl', d), device: d.target.device };
    }
    case 'wasm': {
      if (opts.wasm === undefined) throw new Error('the page supplied no Wasm executor (chooseBackend({ wasm }))');
      return { executor: await opts.wasm(), device: 'wasm' };
    }
  }
}

export async function chooseBackend(opts: ChooseOptions = {}): Promise<ChosenBackend> {
  const order = opts.backend !== undefined ? [opts.backend] : FALLBACK_ORDER;
  const skipped: { name: BrowserBackend; reason: string }[] = [];
  for (const name of order) {
    try {
      const { executor, device } = await open(name, opts);
      return { name, executor, device, skipped };
    } catch (e) {
      skipped.push({ name, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  throw new Error(`no backend can run in this browser: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** `?backend=NAME` of a page URL, when it names a browser backend. */
export function backendFromQuery(search: string): BrowserBackend | undefined {
  const v = new URLSearchParams(search).get('backend');
  return v === 'webgpu' || v === 'webgl' || v === 'wasm' ? v : undefined;
}
