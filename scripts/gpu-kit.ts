/**
 * `npm run gpu-kit [dir] [--sm sm_90] [--ptx-version 7.8]`: packs what the accelerator machine (NVIDIA GPU, CUDA
 * driver, Python with CuPy, no Node, no network) needs to run the shared kernel suite on the GPU: the emitted
 * PTX, a launch manifest with input and expected-output files (expected values from the Wasm KernelRunner or
 * the case's own formula), and run_kit.py, which checks and times every case and writes a JSON report.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { choosePtxTarget } from '../src/backends/cuda-ptx/isa.js';
import { KernelRunner } from '../src/backends/wasm/kernel-runner.js';
import { expectedOutputs } from '../test/kernel/device-harness.js';
import { kernelCases } from '../test/kernel/kernel-cases.js';
import { buildGpuKit, type KitCase, writeGpuKit } from './gpu-kit-manifest.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(all[i - 1] ?? '').startsWith('--'));
  const dir = resolve(positional[0] ?? 'dist/gpu-kit');
  const choice = choosePtxTarget({ sm: arg('--sm') ?? 'sm_90', ...(arg('--ptx-version') ? { isa: arg('--ptx-version') } : {}) });
  const runner = new KernelRunner(1);
  try {
    const cases: KitCase[] = kernelCases().map((c) => ({ ...c, expect: expectedOutputs(c, runner) }));
    const kit = buildGpuKit(cases, choice);
    const here = dirname(fileURLToPath(import.meta.url));
    // run_kit.py sits in scripts/gpu-kit/ of the source tree (the build keeps TypeScript output only).
    const runnerPy = readFileSync(join(here, '..', '..', 'scripts', 'gpu-kit', 'run_kit.py'), 'utf8');
    writeGpuKit(dir, kit, new Map([['run_kit.py', runnerPy]]));
    process.stdout.write(`gpu kit: ${kit.manifest.cases.length} cases, .version ${choice.version} .target ${choice.target}, ${kit.bytes} bytes in ${dir}\n`);
    process.stdout.write(`on the GPU machine: python3 run_kit.py --kit . --report report.json\n`);
  } finally {
    await runner.dispose();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`gpu-kit: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
