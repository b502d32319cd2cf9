/**
 * The browser test's page: opens the WebGPU Device on navigator.gpu (the same device code as Node's Dawn) and
 * runs kernel cases the test sends, through alloc / write / compile / dispatch / read only. It reports the
 * adapter's limits next to the Target made from them, so the test can check the Target came from the adapter.
 */
import { openBrowserDevice } from '../../src/backends/webgpu/browser.js';
import type { WebGpuDevice } from '../../src/backends/webgpu/device.js';
import { elemBytes, type Kernel } from '../../src/kernel/ir.js';
import { decode, encode, type HostArray } from './codec.js';

export interface PageCase {
  readonly name: string;
  readonly kernel: Kernel;
  readonly buffers: Readonly<Record<string, HostArray>>;
  readonly params: Readonly<Record<string, number>>;
  readonly grid: readonly [number, number, number];
}

export interface PageReady {
  readonly error?: string;
  /** The GPUDevice's limits (as requested from the adapter). */
  readonly adapterLimits?: Readonly<Record<string, number>>;
  readonly adapter?: string;
  readonly target?: WebGpuDevice['target'];
}

/** Outputs of one case by buffer name, or the error it raised. */
export type PageResult = { readonly name: string; readonly outputs: Readonly<Record<string, HostArray>> } | { readonly name: string; readonly error: string };

async function runCase(d: WebGpuDevice, c: PageCase): Promise<PageResult> {
  const compiled = await d.compile(c.kernel);
  const handles = c.kernel.buffers.map((b) => {
    const host = c.buffers[b.name];
    if (host === undefined) throw new Error(`case '${c.name}': no data for buffer '${b.name}'`);
    if (host.byteLength !== host.length * elemBytes(b.elem)) throw new Error(`case '${c.name}': buffer '${b.name}' is ${b.elem}, host array has ${host.BYTES_PER_ELEMENT}-byte elements`);
    const h = d.alloc(Math.max(4, host.byteLength), `${c.name}.${b.name}`);
    d.write(h, host);
    return h;
  });
  try {
    d.dispatch(compiled, handles, c.kernel.params.map((p) => c.params[p.name] ?? Number.NaN), c.grid);
    const outputs: Record<string, HostArray> = {};
    for (const [i, b] of c.kernel.buffers.entries()) {
      const host = c.buffers[b.name];
      const h = handles[i];
      if (b.access === 'read' || host === undefined || h === undefined) continue;
      const bytes = (await d.read(h, 0, host.byteLength)).slice();
      const Ctor = host.constructor as new (buf: ArrayBuffer) => HostArray;
      outputs[b.name] = new Ctor(bytes.buffer);
    }
    return { name: c.name, outputs };
  } finally {
    for (const h of handles) d.free(h);
  }
}

interface PageGlobals {
  __modcReady?: PageReady;
  __modcRun?: (encoded: string) => void;
  __modcResults?: string;
}
const g = globalThis as unknown as PageGlobals;

async function main(): Promise<void> {
  let device: WebGpuDevice;
  try {
    device = await openBrowserDevice();
  } catch (e) {
    g.__modcReady = { error: e instanceof Error ? e.message : String(e) };
    return;
  }
  // The limits the GPUDevice actually has (requested from the adapter), not the Target's copy of them.
  const raw: Record<string, number> = {};
  for (const k of Object.keys(device.adapter.limits)) {
    const v = (device.gpu.limits as unknown as Record<string, unknown>)[k];
    if (typeof v === 'number') raw[k] = v;
  }
  g.__modcRun = (encoded: string): void => {
    void (async () => {
      const results: PageResult[] = [];
      for (const c of decode<PageCase[]>(encoded)) {
        try {
          results.push(await runCase(device, c));
        } catch (e) {
          results.push({ name: c.name, error: e instanceof Error ? e.message : String(e) });
        }
      }
      g.__modcResults = encode(results);
    })();
  };
  g.__modcReady = { adapterLimits: raw, adapter: device.target.device, target: device.target };
}

void main();
