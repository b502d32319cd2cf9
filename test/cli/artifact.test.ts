/**
 * Compiled models as artifacts, end to end through the CLI as a user runs it: `modc compile <checkpoint> --out DIR`
 * then `modc run --plan DIR --checkpoint CK --inputs IN --out OUT` writes exactly the file that compiling in process
 * (`modc run --checkpoint CK --inputs IN --out OUT` on the same backend) writes: logits, routing and tokens, for a
 * full-length and a shorter (padded) prompt and for each N_v entry of one artifact. A damaged artifact, a missing
 * kernel file and a checkpoint of another model are refused with errors that say what is wrong.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HostTensor, makeTensor, Rng, SafetensorsFile, tensorEntry, writeSafetensors } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s), { progress: { write: () => true, isTTY: false } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const root = mkdtempSync(join(tmpdir(), 'modc-artifact-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const ck = join(root, 'ck');
writeCheckpoint(ck, { kind: 'pmod-llava', dtype: 'bf16', seed: 3 });
const art = join(root, 'art');
const cacheDir = join(root, 'cache');
const T = 20;

function inputs(name: string, textTokens: number, nv: number): string {
  const rng = new Rng(textTokens * 100 + nv);
  const ids = Array.from({ length: textTokens }, () => 3 + rng.int(380));
  ids.splice(4, 0, -200);
  const path = join(root, name);
  writeSafetensors(path, [
    tensorEntry('input_ids', makeTensor('i32', [ids.length], ids)),
    tensorEntry('vision_embeds', makeTensor('f32', [nv, 64], Array.from({ length: nv * 64 }, () => rng.normal()))),
  ]);
  return path;
}

function read(path: string): Record<string, HostTensor> {
  const f = SafetensorsFile.open(path);
  try {
    return Object.fromEntries(f.names().map((n) => [n, f.get(n)]));
  } finally {
    f.close();
  }
}

beforeAll(async () => {
  const r = await cli('compile', ck, '--target', 'wasm', '--vision-tokens', '16,24', '--text-tokens', String(T), '--max-new-tokens', '6', '--out', art);
  expect(r.err).toBe('');
  expect(r.out).toMatch(/wrote .*: 2 entries \(N_v = 16, 24\), 6 programs/);
});

describe('the round trip: compile -> write -> load -> run equals compiling in process', () => {
  it.each([
    ['a prompt of the compiled length', T, 24],
    ['a shorter prompt (padded in the plan)', 11, 24],
    ['the other N_v entry of the same artifact', 15, 16],
  ])('%s', async (_what, textTokens, nv) => {
    const inPath = inputs(`in-${textTokens}-${nv}.safetensors`, textTokens, nv);
    const fromPlan = join(root, `plan-${textTokens}-${nv}.safetensors`);
    const inProcess = join(root, `proc-${textTokens}-${nv}.safetensors`);
    const a = await cli('run', '--plan', art, '--checkpoint', ck, '--inputs', inPath, '--out', fromPlan, '--max-new-tokens', '6', '--threads', '2');
    expect(a.err).toBe('');
    const b = await cli('run', '--checkpoint', ck, '--inputs', inPath, '--out', inProcess, '--max-new-tokens', '6', '--cache-dir', cacheDir);
    expect(b.err).toBe('');
    const [p, q] = [read(fromPlan), read(inProcess)];
    expect(Object.keys(p).sort()).toEqual(Object.keys(q).sort());
    expect(Object.keys(p)).toEqual(expect.arrayContaining(['logits', 'routing.layer2', 'routing.layer7', 'generated_ids', 'generated_logits']));
    for (const name of Object.keys(q)) {
      expect(p[name]?.shape).toEqual(q[name]?.shape);
      expect(Array.from(p[name]?.data ?? [])).toEqual(Array.from(q[name]?.data ?? []));
    }
    expect(p.logits?.shape).toEqual([textTokens + nv, 384]);
    // The files are the same bytes: metadata too.
    expect(readFileSync(fromPlan).equals(readFileSync(inProcess))).toBe(true);
  });
});

describe('damaged or mismatched artifacts are refused', () => {
  const copy = (name: string): string => {
    const d = join(root, name);
    cpSync(art, d, { recursive: true });
    return d;
  };
  const runPlan = (dir: string, checkpoint = ck): Promise<Run> => cli('run', '--plan', dir, '--checkpoint', checkpoint, '--inputs', inputs('in-err.safetensors', 8, 24), '--out', join(root, 'err.safetensors'));

  it('an edited plan.json (content hash)', async () => {
    const d = copy('edited-plan');
    const plan = readFileSync(join(d, 'plan.json'), 'utf8');
    writeFileSync(join(d, 'plan.json'), plan.replace('"maxNewTokens":6', '"maxNewTokens":7'));
    const r = await runPlan(d);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/plan\.json: content hash mismatch .* damaged or edited/);
  });

  it('an edited kernel binary and a missing kernel file', async () => {
    const d = copy('edited-kernel');
    const plan = JSON.parse(readFileSync(join(d, 'plan.json'), 'utf8')) as { kernels: { code: { path: string } }[] };
    const first = plan.kernels[0]?.code.path ?? '';
    const bin = readFileSync(join(d, first));
    bin[bin.length - 2] = (bin[bin.length - 2] ?? 0) ^ 0x40;
    writeFileSync(join(d, first), bin);
    const r = await runPlan(d);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${first}: SHA-256`);
    rmSync(join(d, first));
    const r2 = await runPlan(d);
    expect(r2.err).toMatch(/missing \(the plan lists it\): the artifact is incomplete/);
  });

  it('a checkpoint of another model: one error listing every mismatch', async () => {
    const other = join(root, 'other');
    writeCheckpoint(other, { kind: 'pmod-llava', dtype: 'f32', seed: 3, hiddenSize: 32 });
    const r = await runPlan(art, other);
    expect(r.code).toBe(1);
    // Every mis-shaped tensor, and the dtype the plan was compiled for.
    const lines = r.err.split('\n').filter((l) => /^\s+(shape|dtype|missing|unexpected)\s/.test(l));
    expect(lines.length).toBeGreaterThan(20);
    expect(r.err).toMatch(/CheckpointError: .*: \d+ problems binding the checkpoint to the model/);
    expect(r.err).toMatch(/shape\s+model\.embed_tokens\.weight: expected \[384, 64\], found F32 \[384, 32\]/);
  });

  it('a prompt longer than the artifact was compiled for, and an N_v it has no entry for', async () => {
    const long = await cli('run', '--plan', art, '--checkpoint', ck, '--inputs', inputs('in-long.safetensors', T + 3, 24), '--out', join(root, 'x.safetensors'));
    expect(long.err).toMatch(/the prompt has 23 text tokens; the artifact was compiled for at most 20 \(compile with --text-tokens 23\)/);
    const nv = await cli('run', '--plan', art, '--checkpoint', ck, '--inputs', inputs('in-nv.safetensors', 8, 20), '--out', join(root, 'x.safetensors'));
    expect(nv.err).toMatch(/no plan for 20 vision tokens \(it has N_v = 16, 24\)/);
  });
});

describe('a WebGL artifact (gather kernels, gpu.js source files)', () => {
  it('runs from the plan as compiling in process does on the webgl backend (gpu.js cpu mode in Node)', async () => {
    const missing = await (await import('../../src/backends/webgl/gpujs.js')).loadGpuJs().then(() => undefined, (e: Error) => e.message);
    if (missing !== undefined) {
      if (process.env.MODC_REQUIRE_WEBGL === '1') throw new Error(`webgl: ${missing} (MODC_REQUIRE_WEBGL=1 requires it)`);
      process.stdout.write(`skipping the WebGL artifact: ${missing}\n`);
      return;
    }
    const gl = join(root, 'art-webgl');
    const c = await cli('compile', ck, '--target', 'webgl', '--vision-tokens', '16', '--text-tokens', '12', '--max-new-tokens', '3', '--out', gl);
    expect(c.err).toBe('');
    const plan = JSON.parse(readFileSync(join(gl, 'plan.json'), 'utf8')) as { renderer: { kind: string }; kernels: { code: { path: string } }[] };
    expect(plan.renderer.kind).toBe('gpujs');
    expect(plan.kernels.every((k) => k.code.path.endsWith('.js'))).toBe(true);
    const inPath = inputs('in-webgl.safetensors', 12, 16);
    const [fromPlan, inProcess] = [join(root, 'gl-plan.safetensors'), join(root, 'gl-proc.safetensors')];
    const a = await cli('run', '--plan', gl, '--checkpoint', ck, '--inputs', inPath, '--out', fromPlan, '--max-new-tokens', '3');
    expect(a.err).toBe('');
    const b = await cli('run', '--checkpoint', ck, '--backend', 'webgl', '--inputs', inPath, '--out', inProcess, '--max-new-tokens', '3', '--no-cache');
    expect(b.err).toBe('');
    const [p, q] = [read(fromPlan), read(inProcess)];
    expect(Object.keys(p).sort()).toEqual(Object.keys(q).sort());
    for (const name of Object.keys(q)) expect(Array.from(p[name]?.data ?? [])).toEqual(Array.from(q[name]?.data ?? []));
  }, 300_000);
});
