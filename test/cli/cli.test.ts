import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HF_CONFIGS } from '../../models/index.js';
import { BACKEND_NAMES } from '../../src/cli/backends.js';
import { main } from '../../src/cli/main.js';
import { tempDir } from '../helpers/temp.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('modc CLI', () => {
  it('report prints the k_l vector and the vision KV ratio', async () => {
    const r = await cli('report', 'pmod-llava-1.5-7b', '--vision-tokens', '576', '--text-tokens', '60');
    expect(r.code).toBe(0);
    expect(r.out).toContain('576 x8, 486 464 440 414 388 360 331 302 273 244 215 187 161 135 111 89, 86 x8');
    expect(r.out).toContain('vision KV ratio: 53.7%');
    expect(r.out).toContain('N_v = 576 vision tokens, T = 60 text tokens');
  });

  it('report --json has layers[] and totals', async () => {
    const r = await cli('report', 'pmod-llava-next-7b', '--vision-tokens', '2880', '--text-tokens', '64', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { layers: { index: number; kind: string; ratio: number; capacity: number; flops: number; kvEntries: number }[]; totals: Record<string, number> };
    expect(j.layers).toHaveLength(32);
    expect(j.layers[8]).toMatchObject({ index: 8, kind: 'mod', capacity: 2432 });
    expect(j.layers.map((l) => l.capacity).slice(24)).toEqual(new Array(8).fill(432));
    for (const k of ['flops', 'flopsDense', 'flopRatio', 'visionKvRatio']) expect(typeof j.totals[k]).toBe('number');
    expect(j.totals.visionKvRatio).toBeCloseTo(0.5374, 4);
  });

  it('report reads a Hugging Face config.json path', async () => {
    const dir = tempDir('modc-');
    writeFileSync(join(dir, 'config.json'), JSON.stringify(HF_CONFIGS['pmod-llava-1.5-7b']));
    const r = await cli('report', join(dir, 'config.json'), '--vision-tokens', '576', '--text-tokens', '60', '--json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as { totals: { visionKvRatio: number } }).totals.visionKvRatio).toBeCloseTo(0.5369, 4);
    const viaDir = await cli('report', dir, '--json');
    expect(viaDir.code).toBe(0);
  });

  it('report refuses absurd sizes in a config.json at once, naming the field and range', async () => {
    const dir = tempDir();
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ ...HF_CONFIGS['pmod-llava-1.5-7b'], num_hidden_layers: 1e6 }));
    const t0 = performance.now();
    const r = await cli('report', file);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`modc report: ConfigError: ${file}: field 'num_hidden_layers' must be an integer in [1, 1024], got 1000000`);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('ir prints the graph', async () => {
    const r = await cli('ir', 'tiny-pmod');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^graph "tiny-pmod"\(T: \[0, 512\], N_v: \[0, 512\]\) \{/);
    expect(r.out).toContain('modRoute(');
  });

  it('ir --after prints the graph after a pass; --stats prints counts', async () => {
    const after = await cli('ir', 'tiny-pmod', '--after', 'fuse-route', '--vision-tokens', '32');
    expect(after.code).toBe(0);
    expect(after.out).toContain('fusedRoute(');
    expect(after.out).toContain('stringCombine(');
    expect(after.out).not.toContain('modRoute(');
    const stats = await cli('ir', 'tiny-pmod', '--pipeline', 'full', '--vision-tokens', '32', '--stats');
    const j = JSON.parse(stats.out) as { kernelsPerLayer: Record<string, number>; ops: Record<string, number> };
    expect(j.kernelsPerLayer['2']).toBe(11);
    expect(j.ops.fusedRoute).toBe(6);
    const list = await cli('ir', 'tiny-pmod', '--list-passes');
    expect(list.out.split('\n')[0]).toMatch(/^infer-types/);
    const bad = await cli('ir', 'tiny-pmod', '--after', 'nope');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/no pass named 'nope'/);
  });

  it('report --memory compares the planned peak memory of p-MoD and dense', async () => {
    const r = await cli('report', 'pmod-llava-1.5-7b', '--vision-tokens', '576', '--text-tokens', '60', '--memory', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { peakRatio: number; kvRatio: number; pmod: { slotBytes: number }; dense: { slotBytes: number } };
    expect(j.kvRatio).toBeCloseTo(11816 / 20352, 3); // token entries ratio; positions add a few aligned bytes
    expect(j.peakRatio).toBeLessThan(0.7);
    const text = await cli('report', 'pmod-llava-1.5-7b', '--memory');
    expect(text.out).toMatch(/KV cache \(state\)\s+369\.3 MiB\s+636\.1 MiB\s+58\.1%/);
  });

  it('run executes the tiny model on the reference backend, seeded', async () => {
    const a = await cli('run', 'tiny-pmod', '--backend', 'reference', '--seed', '5', '--json');
    const b = await cli('run', 'tiny-pmod', '--backend', 'reference', '--seed', '5', '--json');
    expect(a.code).toBe(0);
    const ja = JSON.parse(a.out) as { nextToken: number; routing: { layer: number; kept: number[]; capacity: number }[]; logitsShape: number[] };
    const jb = JSON.parse(b.out) as typeof ja;
    expect(ja.logitsShape).toEqual([48, 256]);
    expect(ja.routing.map((r) => r.capacity)).toEqual([25, 19, 12, 6, 4, 4]);
    expect(ja.routing.every((r) => r.kept.length === r.capacity && r.kept.every((i) => i >= 0 && i < 32))).toBe(true);
    expect(jb.nextToken).toBe(ja.nextToken);
    expect(jb.routing).toEqual(ja.routing);
  });

  it('every command has --help', async () => {
    for (const c of ['report', 'ir', 'run']) {
      const r = await cli(c, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^usage: modc ${c}`));
    }
    expect((await cli('--help')).out).toContain('commands:');
  });

  it('errors go to stderr with a non-zero exit code', async () => {
    const unknown = await cli('report', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/unknown model 'nope'/);
    expect(unknown.out).toBe('');
    const badFlag = await cli('report', 'tiny-pmod', '--vision-tokens', 'many');
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toMatch(/--vision-tokens must be an integer/);
    const tooLong = await cli('report', 'pmod-llava-1.5-7b', '--vision-tokens', '4000', '--text-tokens', '200');
    expect(tooLong.code).toBe(1);
    expect(tooLong.err).toMatch(/exceeds max_position_embeddings 4096/);
    const big = await cli('run', 'pmod-llava-1.5-7b');
    expect(big.code).toBe(1);
    expect(big.err).toMatch(/GiB of weights/);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('run', 'tiny-pmod', '--backend', 'metal')).err).toContain(`--backend 'metal' is not in this build; its backends are ${BACKEND_NAMES.join(', ')}`);
    // A backend of this build that this machine cannot run says what is missing.
    if (!existsSync('/usr/lib/x86_64-linux-gnu/libcuda.so.1')) expect((await cli('run', 'tiny-pmod', '--backend', 'cuda')).err).toMatch(/cannot run here: .*libcuda\.so\.1/);
  });
});
