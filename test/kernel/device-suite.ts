/**
 * Registers the kernel cases of kernel-cases.ts as jest tests for one device: `describeDeviceCases('webgpu',
 * open, skip)` where `open` returns a device, or a string saying what is missing (then one line is printed and
 * the suite is skipped, unless `requireFlag` is set in the environment, which turns it into a failure).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import type { Device } from '../../src/runtime/device.js';
import { expectedOutputs, outputMismatch, runOnDevice } from './device-harness.js';
import { kernelCases } from './kernel-cases.js';

export function describeDeviceCases<B, K>(
  name: string,
  open: () => Promise<Device<B, K> | string>,
  opts: { readonly skip?: Readonly<Record<string, string>>; readonly requireFlag?: string } = {},
): void {
  describe(`kernel cases on ${name}`, () => {
    let device: Device<B, K> | undefined;
    let missing: string | undefined;
    const runner = new KernelRunner(1);
    beforeAll(async () => {
      const d = await open();
      if (typeof d === 'string') {
        missing = d;
        if (opts.requireFlag && process.env[opts.requireFlag] === '1') throw new Error(`${name}: ${d} (${opts.requireFlag}=1 requires it)`);
        process.stdout.write(`skipping kernel cases on ${name}: ${d}\n`);
      } else device = d;
    });
    afterAll(async () => {
      await device?.dispose();
      await runner.dispose();
    });
    for (const c of kernelCases()) {
      const why = opts.skip?.[c.name];
      if (why !== undefined) {
        it.skip(`${c.name} (skipped: ${why})`, () => undefined);
        continue;
      }
      it(c.name, async () => {
        // No device here (the one line above said what is missing): nothing to run.
        if (missing !== undefined || device === undefined) return;
        const got = await runOnDevice(device, c);
        const want = expectedOutputs(c, runner);
        for (const [buf, w] of Object.entries(want)) expect(`${buf}: ${outputMismatch(got[buf], w, c.compare) ?? 'ok'}`).toBe(`${buf}: ok`);
      });
    }
  });
}
