/**
 * The WebGL benchmark's page (Chromium with WebGPU on, so both GPU backends run in one page): the workloads of
 * webgl-case.ts on webgl (gpu.js webgl2 mode) and on webgpu, medians of repeats. Results in
 * globalThis.__modcBench (JSON), errors per backend.
 */
import { openBrowserDevice } from '../src/backends/webgpu/browser.js';
import { openWebGlDevice } from '../src/backends/webgl/browser.js';
import type { Device } from '../src/runtime/device.js';
import { DeviceExecutor } from '../src/runtime/device-executor.js';
import { type Measured, measure } from './webgl-case.js';

const g = globalThis as unknown as { __modcBench?: string; __modcBenchRequest?: { repeat: number; only?: string[] } };

async function open<B, K>(name: string, device: Promise<Device<B, K>>): Promise<[DeviceExecutor<B, K>, string]> {
  const d = await device;
  return [new DeviceExecutor(name, d), d.target.device];
}

async function main(): Promise<void> {
  const req = g.__modcBenchRequest ?? { repeat: 5 };
  const results: Measured[] = [];
  const errors: Record<string, string> = {};
  for (const name of ['webgl', 'webgpu'] as const) {
    try {
      const [exec, device] = name === 'webgl' ? await open(name, openWebGlDevice()) : await open(name, openBrowserDevice());
      try {
        results.push(...(await measure(exec, name, device, req.repeat, req.only)));
      } finally {
        await exec.dispose();
      }
    } catch (e) {
      errors[name] = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
  g.__modcBench = JSON.stringify({ results, errors, userAgent: (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? '' });
}

// The driver sets the request before the page script runs (an init script), then waits for __modcBench.
void main();
