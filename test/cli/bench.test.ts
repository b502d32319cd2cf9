/** `modc bench` and `modc run --backend wasm` through the CLI entry point (shapes of the output, not timings). */
import { main } from '../../src/cli/main.js';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('modc bench / run on wasm', () => {
  it('bench matmul --json lists modc-wasm with a rate and every peer with a rate or the reason it is unavailable', async () => {
    const r = await cli('bench', 'matmul', '--m', '8', '--k', '16', '--n', '12', '--threads', '1', '--repeat', '1', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      results: { engine: string; threads: number; m: number; k: number; n: number; gflops?: number; unavailable?: string }[];
      bounds?: { before: { fmaGflops: { median: number }; readGBs: { median: number } } };
    };
    const ours = j.results.find((x) => x.engine === 'modc-wasm');
    expect(ours).toMatchObject({ threads: 1, m: 8, k: 16, n: 12, dtype: 'f32', builder: 'matmul' });
    expect(ours?.gflops).toBeGreaterThan(0);
    // The machine's bounds, measured in the same run (gcc here, Wasm kernels without it).
    expect(j.bounds?.before.fmaGflops.median).toBeGreaterThan(0);
    expect(j.bounds?.before.readGBs.median).toBeGreaterThan(0);
    for (const engine of ['onnxruntime-web', 'jax-js', 'tfjs-wasm']) {
      const p = j.results.find((x) => x.engine === engine);
      expect(p).toBeDefined();
      expect(p?.gflops !== undefined || (p?.unavailable ?? '').length > 0).toBe(true);
    }
  });

  it('bench matmul of one row uses the GEMV builder, with bf16 weights too', async () => {
    const r = await cli('bench', 'matmul', '--m', '1', '--k', '64', '--n', '40', '--threads', '2', '--repeat', '1', '--dtype', 'bf16', '--skip-bounds', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { results: { engine: string; builder?: string; dtype: string; weightGBs?: number }[]; bounds?: unknown };
    expect(j.results.find((x) => x.engine === 'modc-wasm')).toMatchObject({ builder: 'gemv', dtype: 'bf16' });
    expect(j.bounds).toBeUndefined();
  });

  it('rejects an unknown benchmark', async () => {
    const r = await cli('bench', 'nope');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown benchmark 'nope'");
  });

  it('run --backend wasm routes like the reference backend', async () => {
    const ref = JSON.parse((await cli('run', 'tiny-pmod', '--backend', 'reference', '--json')).out) as { routing: unknown; nextToken: number };
    const wasm = await cli('run', 'tiny-pmod', '--backend', 'wasm', '--json');
    expect(wasm.code).toBe(0);
    const w = JSON.parse(wasm.out) as { routing: unknown; nextToken: number; backend: string };
    expect(w.backend).toBe('wasm');
    expect(w.routing).toEqual(ref.routing);
    expect(w.nextToken).toBe(ref.nextToken);
  }, 60_000);
});
