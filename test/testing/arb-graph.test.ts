/** arbGraph generates every op kind a user graph can hold, and every function of the elementwise, compare, logical, reduce and top-k ops. */
import fc from 'fast-check';
import { BINARY_FNS, COMPARE_FNS, LOGICAL_FNS, OP_KINDS, type OpKind, REDUCE_FNS, TOPK_ORDERS, UNARY_FNS, walkNodes } from '../../src/ir/index.js';
import { arbGraph } from '../../src/testing/index.js';

/** Produced by the fusion passes only: a user graph (and so arbGraph) never holds them. */
const FUSED: readonly OpKind[] = ['fusedRoute', 'stringCombine', 'fusedElementwise', 'fusedLinear'];

describe('arbGraph', () => {
  const seen = new Map<string, number>();
  for (const c of fc.sample(arbGraph(), { numRuns: 300, seed: 17 }))
    walkNodes(c.graph, (n) => {
      const a = n.attrs as { fn?: string; order?: string };
      for (const key of [n.op, a.fn !== undefined ? `${n.op}:${a.fn}` : '', a.order !== undefined ? `${n.op}:${a.order}` : '']) if (key) seen.set(key, (seen.get(key) ?? 0) + 1);
    });

  it.each(OP_KINDS.filter((k) => !FUSED.includes(k)))('generates %s', (op) => {
    expect(seen.get(op) ?? 0).toBeGreaterThan(0);
  });

  it('generates every function and order of the parameterised ops', () => {
    const missing = [
      ...UNARY_FNS.map((f) => `unary:${f}`),
      ...BINARY_FNS.map((f) => `binary:${f}`),
      ...COMPARE_FNS.map((f) => `compare:${f}`),
      ...LOGICAL_FNS.map((f) => `logical:${f}`),
      ...REDUCE_FNS.map((f) => `reduce:${f}`),
      ...TOPK_ORDERS.map((o) => `topk:${o}`),
    ].filter((k) => !seen.has(k));
    expect(missing).toEqual([]);
  });

  it('never generates the fused ops', () => {
    for (const op of FUSED) expect(seen.has(op)).toBe(false);
  });
});
