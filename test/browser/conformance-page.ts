/**
 * The browser conformance page: runs graph-level cases the test sends (a graph, its inputs, weights and symbols)
 * through the compiler core and the program runner on the page's WebGPU device, and returns every output or the
 * error each case raised.
 */
import { type Graph, type HostTensor, MapStore } from '../../src/ir/index.js';
import { openBrowserDevice } from '../../src/backends/webgpu/browser.js';
import { DeviceExecutor } from '../../src/runtime/device-executor.js';
import { decode, encode } from './codec.js';

export interface PageGraphCase {
  readonly name: string;
  readonly graph: Graph;
  readonly inputs: Readonly<Record<string, HostTensor>>;
  readonly weights: readonly (readonly [string, HostTensor])[];
  readonly symbols?: Readonly<Record<string, number>>;
}

export type PageGraphResult = { readonly name: string; readonly outputs: Readonly<Record<string, HostTensor>> } | { readonly name: string; readonly error: string };

const g = globalThis as unknown as { __modcReady?: string; __modcRun?: (s: string) => void; __modcResults?: string };

async function main(): Promise<void> {
  let exec: DeviceExecutor<unknown, unknown>;
  try {
    exec = new DeviceExecutor('webgpu', await openBrowserDevice()) as DeviceExecutor<unknown, unknown>;
  } catch (e) {
    g.__modcReady = encode({ error: e instanceof Error ? e.message : String(e) });
    return;
  }
  g.__modcRun = (payload: string): void => {
    void (async () => {
      const results: PageGraphResult[] = [];
      for (const c of decode<PageGraphCase[]>(payload)) {
        try {
          const prepared = await exec.prepare(c.graph, new MapStore(c.weights));
          try {
            results.push({ name: c.name, outputs: await prepared.run(c.inputs, c.symbols) });
          } finally {
            prepared.dispose();
          }
        } catch (e) {
          results.push({ name: c.name, error: e instanceof Error ? e.message : String(e) });
        }
      }
      g.__modcResults = encode(results);
    })();
  };
  g.__modcReady = encode({ adapter: exec.device.target.device });
}

void main();
