/**
 * The GPU run kit: the manifest writer (PTX per kernel, launch parameters in order, buffers with dtypes, sizes,
 * input and expected files) and the Python runner's manifest reading and argument parsing (--dry-run, which
 * needs neither a GPU nor CuPy). No GPU is lent here, so the runner's launch path runs only on the accelerator.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { choosePtxTarget } from '../../../src/backends/cuda-ptx/isa.js';
import { parsePtx } from '../../../src/backends/cuda-ptx/emu/parse.js';
import { KernelRunner } from '../../../src/backends/wasm/kernel-runner.js';
import { buildGpuKit, KIT_FORMAT, type KitCase, writeGpuKit } from '../../../scripts/gpu-kit-manifest.js';
import { expectedOutputs } from '../../kernel/device-harness.js';
import { kernelCases } from '../../kernel/kernel-cases.js';

const here = dirname(fileURLToPath(import.meta.url));
const runnerPy = join(here, '..', '..', '..', 'scripts', 'gpu-kit', 'run_kit.py');
const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const maybe = python.status === 0 ? it : it.skip;
if (python.status !== 0) process.stdout.write(`skipping the gpu kit runner tests: python3 is not on the PATH\n`);

describe('gpu kit', () => {
  const choice = choosePtxTarget({ sm: 'sm_90' });
  let cases: KitCase[] = [];
  let dir = '';
  const runner = new KernelRunner(1);
  beforeAll(() => {
    const pick = kernelCases().filter((c) => ['builder: broadcast elementwise silu(a) * b', 'storage: f32 -> bf16 store rounds to nearest even (scalar)', 'builder: packed matmul with bf16 weights'].includes(c.name));
    cases = pick.map((c) => ({ ...c, expect: expectedOutputs(c, runner) }));
    dir = mkdtempSync(join(tmpdir(), 'modc-gpukit-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await runner.dispose();
  });

  it('writes one PTX per kernel, the launch in parameter order, buffers with dtypes and data files', () => {
    const kit = buildGpuKit(cases, choice);
    expect(kit.manifest.format).toBe(KIT_FORMAT);
    expect(kit.manifest.ptx).toEqual({ version: '7.8', target: 'sm_90' });
    const mm = kit.manifest.cases.find((c) => c.kernel === 'mm_bf16');
    expect(mm?.params.map((p) => (p.kind === 'buffer' ? p.buffer : `${p.name}=${p.value}`))).toEqual(['a', 'b', 'c', 'bias', 'M=13']);
    expect(mm?.buffers.find((b) => b.name === 'b')).toMatchObject({ dtype: 'bf16', access: 'read', expect: null });
    expect(mm?.buffers.find((b) => b.name === 'c')?.expect).toMatch(/^data\/builder_packed_matmul_with_bf16_weights\/c\.expect\.bin$/);
    expect(mm?.block).toEqual([1, 1, 1]);
    const ptx = kit.files.get(mm?.ptx ?? '');
    expect(typeof ptx === 'string' && parsePtx(ptx).entries.map((e) => e.name)).toEqual(['mm_bf16']);
    const c = cases.find((x) => x.kernel.name === 'mm_bf16');
    const inputB = kit.files.get(mm?.buffers.find((b) => b.name === 'b')?.input ?? '');
    expect(inputB instanceof Uint8Array && Buffer.from(inputB).equals(Buffer.from((c?.buffers.b as Uint16Array).buffer))).toBe(true);
    expect(kit.bytes).toBeLessThan(1 << 20);
  });

  maybe('run_kit.py --dry-run reads the manifest and checks every file; a damaged kit fails naming the file', () => {
    const kit = buildGpuKit(cases, choice);
    writeGpuKit(dir, kit, new Map([['run_kit.py', readFileSync(runnerPy, 'utf8')]]));
    const report = join(dir, 'report.json');
    const ok = spawnSync('python3', [join(dir, 'run_kit.py'), '--kit', dir, '--report', report, '--dry-run', '--only', 'bf16'], { encoding: 'utf8' });
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout.trim()).toBe('dry run: 2 cases checked');
    const r = JSON.parse(readFileSync(report, 'utf8')) as { dry_run: boolean; cases: { name: string; planned: boolean; grid: number[] }[]; ptx: { target: string } };
    expect(r.dry_run).toBe(true);
    expect(r.ptx.target).toBe('sm_90');
    expect(r.cases.map((x) => x.name).sort()).toEqual(['builder: packed matmul with bf16 weights', 'storage: f32 -> bf16 store rounds to nearest even (scalar)']);
    // A truncated input file.
    const input = kit.manifest.cases[0]?.buffers[0]?.input ?? '';
    writeFileSync(join(dir, input), new Uint8Array(3));
    const bad = spawnSync('python3', [join(dir, 'run_kit.py'), '--kit', dir, '--report', report, '--dry-run'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, input)} has 3 bytes, the manifest says`);
    // Without CuPy (as here) a real run says what it needs.
    writeGpuKit(dir, kit);
    const run = spawnSync('python3', [join(dir, 'run_kit.py'), '--kit', dir, '--report', report], { encoding: 'utf8' });
    const hasCupy = spawnSync('python3', ['-c', 'import cupy'], { encoding: 'utf8' }).status === 0;
    if (!hasCupy) {
      expect(run.status).toBe(3);
      expect(run.stderr).toContain('CuPy and NumPy are needed to run the kit');
    } else expect([0, 1]).toContain(run.status);
  });

  maybe('run_kit.py --help lists its options', () => {
    const h = spawnSync('python3', [runnerPy, '--help'], { encoding: 'utf8' });
    expect(h.status).toBe(0);
    for (const opt of ['--kit', '--report', '--only', '--dry-run', '--iterations']) expect(h.stdout).toContain(opt);
  });
});
