/**
 * gpu.js, loaded on demand: it is an optional peer dependency (a large package that pulls an old Dawn build), so
 * a user who never picks the webgl backend never installs or loads it. Without it, `WebGlUnavailable` says how
 * to get it.
 */
import type { GpuJs } from './device.js';

export class WebGlUnavailable extends Error {
  override name = 'WebGlUnavailable';
}

export interface GpuJsModule {
  readonly GPU: new (settings: Readonly<Record<string, unknown>>) => GpuJs;
}

function isModule(m: unknown): m is GpuJsModule {
  return typeof m === 'object' && m !== null && typeof (m as { GPU?: unknown }).GPU === 'function';
}

let cached: Promise<GpuJsModule> | undefined;

/** The gpu.js module (its CommonJS exports in Node, the browser bundle in pages). */
export function loadGpuJs(): Promise<GpuJsModule> {
  cached ??= (async () => {
    let m: unknown;
    try {
      m = await import('gpu.js');
    } catch (e) {
      cached = undefined;
      throw new WebGlUnavailable(`the webgl backend needs the optional package gpu.js (npm i gpu.js@2.24.1), which cannot be loaded: ${(e as Error).message.split('\n')[0] ?? ''}`);
    }
    const mod = isModule(m) ? m : (m as { default?: unknown }).default;
    if (!isModule(mod)) throw new WebGlUnavailable('the module gpu.js has no GPU class (gpu.js 2.x is required)');
    return mod;
  })();
  return cached;
}
