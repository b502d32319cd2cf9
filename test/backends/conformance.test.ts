/**
 * The conformance suite: every case on every backend against the reference interpreter, with the backend's
 * tolerances and skip list (test/backends/backends.ts).
 */
import { interpret } from '../../src/backends/reference/index.js';
import { OP_KINDS, walkNodes } from '../../src/ir/index.js';
import type { Executor } from '../../src/runtime/executor.js';
import { AVAILABLE, mismatch } from './backends.js';
import { ALL_OP_KINDS_COVERED, conformanceCases } from './cases.js';

const CASES = conformanceCases();

it('the cases cover every op kind', () => {
  const seen = new Set<string>();
  for (const c of CASES) walkNodes(c.graph, (n) => seen.add(n.op));
  expect([...seen].sort()).toEqual([...OP_KINDS].sort());
  expect([...ALL_OP_KINDS_COVERED].sort()).toEqual([...OP_KINDS].sort());
});

describe.each(AVAILABLE)('backend $name', (backend) => {
  let exec: Executor;
  beforeAll(async () => {
    exec = await backend.create();
  });
  afterAll(() => exec.dispose());

  const runnable = CASES.filter((c) => backend.skip[c.name] === undefined);
  it.each(runnable.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const prepared = await exec.prepare(c.graph, c.weights);
    try {
      if (c.error) {
        // Wrapped so a backend that throws synchronously inside run() is judged like one that rejects.
        await expect((async () => prepared.run(c.inputs, c.symbols))()).rejects.toThrow(c.error);
        return;
      }
      const want = interpret(c.graph, c.inputs, { weights: c.weights, ...(c.symbols ? { symbols: c.symbols } : {}) });
      const got = await prepared.run(c.inputs, c.symbols);
      for (const [name, w] of Object.entries(want)) {
        // 'exact' cases use the reference's f64-then-round arithmetic; an f32-only backend is held to its
        // f32 tolerance there instead (one rounding per operation, within an ulp or two).
        const tol = c.compare === 'exact' && (backend.f64 || w.dtype === 'i32' || w.dtype === 'u32' || w.dtype === 'bool') ? { abs: 0, rel: 0 } : backend.reordered[w.dtype];
        const problem = mismatch(got[name], w, tol);
        expect(problem === undefined ? 'ok' : `${name}: ${problem}`).toBe('ok');
      }
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    } finally {
      prepared.dispose();
    }
  });

  it('skips only cases that exist, each with a reason', () => {
    for (const [name, why] of Object.entries(backend.skip)) {
      expect(CASES.some((c) => c.name === name)).toBe(true);
      expect(why.length).toBeGreaterThan(10);
    }
  });
});
