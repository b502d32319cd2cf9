/**
 * The artifact round trip on WebGPU (Dawn): `modc compile CK --target webgpu --adapter local --out DIR` then
 * `modc run --plan DIR` (pipelines built from the artifact's WGSL, nothing rendered) writes the same bytes as
 * `modc run --checkpoint CK --backend webgpu` compiling in process; a portable artifact (every WebGPU device)
 * runs here too and routes like it. A 4-layer p-MoD model keeps Dawn's pipeline compiles short. Skips with one
 * line without an adapter (fails under MODC_REQUIRE_WEBGPU=1).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTensor, Rng, SafetensorsFile, tensorEntry, writeSafetensors } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { openDawnOrWhy } from '../backends/webgpu/dawn.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s), { progress: { write: () => true, isTTY: false } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const root = mkdtempSync(join(tmpdir(), 'modc-artifact-webgpu-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let missing: string | undefined;

beforeAll(async () => {
  const d = await openDawnOrWhy();
  if (typeof d === 'string') {
    missing = d;
    if (process.env.MODC_REQUIRE_WEBGPU === '1') throw new Error(`webgpu: ${d} (MODC_REQUIRE_WEBGPU=1 requires it)`);
    process.stdout.write(`skipping the WebGPU artifact round trip: ${d}\n`);
  } else await d.dispose();
});

it('compile -> write -> load -> run on WebGPU equals compiling in process; a portable artifact routes the same', async () => {
  if (missing !== undefined) return;
  const ck = join(root, 'ck');
  writeCheckpoint(ck, { kind: 'pmod-llava', dtype: 'f32', seed: 6, numLayers: 4, tokenizer: false });
  const rng = new Rng(2);
  const ids = Array.from({ length: 10 }, () => 3 + rng.int(380));
  ids.splice(3, 0, -200);
  const inPath = join(root, 'in.safetensors');
  writeSafetensors(inPath, [tensorEntry('input_ids', makeTensor('i32', [ids.length], ids)), tensorEntry('vision_embeds', makeTensor('f32', [16, 64], Array.from({ length: 16 * 64 }, () => rng.normal())))]);

  const local = join(root, 'local');
  const c = await cli('compile', ck, '--target', 'webgpu', '--adapter', 'local', '--vision-tokens', '16', '--text-tokens', '12', '--max-new-tokens', '3', '--out', local);
  expect(c.err).toBe('');
  const plan = JSON.parse(readFileSync(join(local, 'plan.json'), 'utf8')) as { renderer: { kind: string }; kernels: { code: { path: string } }[] };
  expect(plan.renderer.kind).toBe('wgsl');
  expect(plan.kernels.every((k) => k.code.path.endsWith('.wgsl'))).toBe(true);

  const fromPlan = join(root, 'plan.safetensors');
  const inProcess = join(root, 'proc.safetensors');
  expect((await cli('run', '--plan', local, '--checkpoint', ck, '--inputs', inPath, '--out', fromPlan, '--max-new-tokens', '3')).err).toBe('');
  expect((await cli('run', '--checkpoint', ck, '--backend', 'webgpu', '--inputs', inPath, '--out', inProcess, '--max-new-tokens', '3')).err).toBe('');
  expect(readFileSync(fromPlan).equals(readFileSync(inProcess))).toBe(true);

  // Portable: compiled without any adapter, for the spec's limits; same routing and tokens, logits within f32 noise.
  const portable = join(root, 'portable');
  expect((await cli('compile', ck, '--target', 'webgpu', '--emulated', '--vision-tokens', '16', '--text-tokens', '12', '--max-new-tokens', '3', '--out', portable)).err).toBe('');
  const fromPortable = join(root, 'portable.safetensors');
  expect((await cli('run', '--plan', portable, '--checkpoint', ck, '--inputs', inPath, '--out', fromPortable, '--max-new-tokens', '3')).err).toBe('');
  const [a, b] = [SafetensorsFile.open(fromPortable), SafetensorsFile.open(inProcess)];
  try {
    for (const name of b.names()) {
      const x = a.get(name).data;
      const y = b.get(name).data;
      if (name.startsWith('routing') || name === 'generated_ids') expect(Array.from(x)).toEqual(Array.from(y));
      else for (let i = 0; i < y.length; i++) expect(Math.abs((x[i] ?? 0) - (y[i] ?? 0))).toBeLessThan(1e-4);
    }
  } finally {
    a.close();
    b.close();
  }
}, 600_000);
