/**
 * checkPass reports what it saw: how many cases the pass changed (none is a failure, or a warning), and flips of a
 * routing decision at a near-tie, which are not failures, while a flip with a clear margin is. Seed and path replay
 * a counterexample.
 */
import { type Graph, GraphBuilder, makeTensor, MapStore, printGraph } from '../../src/ir/index.js';
import type { Pass } from '../../src/passes/index.js';
import { checkPass, checkPassOnCase, compareDecisions, type GraphCase, PassCheckError } from '../../src/testing/index.js';

const identity: Pass = { name: 'identity', description: 'changes nothing', run: (g) => g };

describe('checkPass counts the cases the pass changed', () => {
  it('fails when the pass changed no case, or warns when asked to', () => {
    expect(() => checkPass(identity, { numRuns: 30 })).toThrow(PassCheckError);
    expect(() => checkPass(identity, { numRuns: 30 })).toThrow(/pass 'identity' changed none of 30 random graphs \(seed -?\d+\): the property says nothing about it/);
    const warnings: string[] = [];
    const r = checkPass(identity, { numRuns: 30, ifUnchanged: 'warn', warn: (m) => warnings.push(m) });
    expect(r).toMatchObject({ pass: 'identity', runs: 30, changed: 0, nearTies: 0 });
    expect(warnings).toHaveLength(1);
  });

  it('replays a counterexample from its seed and path', () => {
    // A broken pass: turns every tanh into sigmoid.
    const broken: Pass = {
      name: 'tanh-to-sigmoid',
      description: 'wrong on purpose',
      run: (g: Graph): Graph => ({ ...g, nodes: g.nodes.map((n) => (n.op === 'unary' && n.attrs.fn === 'tanh' ? { ...n, attrs: { fn: 'sigmoid' } } : n)) }) as Graph,
    };
    let message = '';
    try {
      checkPass(broken, { numRuns: 100, seed: 5 });
    } catch (e) {
      message = (e as Error).message;
    }
    const m = /replay it with checkPass\(pass, \{ \.\.\.options, seed: (-?\d+), path: '([\d:]+)' \}\)/.exec(message);
    expect(m).not.toBeNull();
    // Replaying runs that one case: the same counterexample, found without searching.
    let replayed = '';
    try {
      checkPass(broken, { numRuns: 100, seed: Number(m?.[1]), path: m?.[2] ?? '' });
    } catch (e) {
      replayed = (e as Error).message;
    }
    const graphOf = (s: string): string => s.slice(s.indexOf('--- before the pass ---'));
    expect(graphOf(replayed)).toBe(graphOf(message));
  });
});

/**
 * One MoD layer over 4 tokens, tokens 2 and 3 routable with equal rows (so equal router scores), capacity 1: the
 * tie goes to token 2. `shift` is added to token 2's row before routing (what a rewrite's rounding may do).
 */
function tiedRoute(shift: number): Graph {
  const b = new GraphBuilder('tied', {});
  const x = b.input('x', 'f32', [4, 2]);
  const routable = b.input('routable', 'bool', [4]);
  const positions = b.iota(4, 'positions');
  const moved = shift === 0 ? x : b.add(x, b.weight('shift', 'f32', [4, 2]), 'shifted');
  const r = b.modRoute(moved, positions, routable, b.weight('router.w', 'f32', [1, 2]), b.weight('router.b', 'f32', [1]), { capacity: 1, routableCount: 2, ratio: 0.5, alpha: 0.2, bias: 1 }, (rb, xk) => {
    const h1 = rb.add(xk, rb.unary('tanh', xk, 'attn'), 'h1');
    return { h1, u: rb.unary('sin', h1, 'mlp') };
  }, 'route');
  b.output('y', r.y);
  return b.build();
}

function tiedCase(shift: number): GraphCase {
  const weights = new MapStore();
  weights.set('router.w', makeTensor('f32', [1, 2], [1, -0.5]));
  weights.set('router.b', makeTensor('f32', [1], [0.25]));
  weights.set('shift', makeTensor('f32', [4, 2], [0, 0, 0, 0, shift, 0, 0, 0]));
  const graph = tiedRoute(0);
  const inputs = { x: makeTensor('f32', [4, 2], [0.3, 0.1, -0.2, 0.4, 0.7, 0.2, 0.7, 0.2]), routable: makeTensor('bool', [4], [0, 0, 1, 1]) };
  return { plan: { T: 2, N_v: 2, d: 2, seed: 0, weightDtype: 'f32', zeroRouter: false, duplicateVisionRow: true, steps: [], outputs: 1 }, graph, inputs, weights, symbols: {} };
}

/** A "pass" that moves token 2's score by `shift` (down: the tie, or the clear lead, goes to token 3). */
const shifting = (shift: number): Pass => ({ name: 'shift', description: 'perturbs one row', run: () => tiedRoute(shift) });

describe('routing flips', () => {
  it('a flip between scores within the tolerance is a near-tie, not a broken pass', () => {
    const c = tiedCase(-1e-6);
    const r = checkPassOnCase(shifting(-1e-6), c, c.graph);
    expect(r.message).toBeUndefined();
    expect(r.nearTie).toMatch(/modRoute %\d+ \(route\): indices 2, 3 within [\d.e-]+ of the boundary score/);
  });

  it('a flip with a clear margin fails, naming the decision, the index and the margin', () => {
    const c = tiedCase(-0.5);
    const r = checkPassOnCase(shifting(-0.5), c, c.graph);
    expect(r.message).toMatch(/^a decision flipped with a clear margin: modRoute %\d+ \(route\) selects index 2 before the pass only: after the pass its score [\d.]+ is 0.5 from the boundary score [\d.]+ \(tolerance [\d.e-]+\)$/);
  });

  it('the same decisions compare as the same', () => {
    const c = tiedCase(0);
    expect(checkPassOnCase({ ...identity, run: (g) => g }, c, c.graph)).toEqual({ changed: false });
    expect(printGraph(tiedRoute(0))).toBe(printGraph(c.graph));
  });

  it('compareDecisions: same, near-tie, clear, incomparable', () => {
    const tol = { rtol: 1e-4, atol: 1e-5 };
    const made = (kept: number[]): { label: string; kept: number[]; scores: number[] } => ({ label: 'topk %1', kept, scores: [0.5, 0.2, 0.2000001, -1] });
    // -1 is far below the boundary score 0.2 before and after.
    expect(compareDecisions([made([0, 1])], [made([1, 0])], tol)).toEqual({ kind: 'same' });
    expect(compareDecisions([made([0, 1])], [made([0, 2])], tol).kind).toBe('near-tie');
    expect(compareDecisions([made([0, 1])], [made([0, 3])], tol)).toMatchObject({ kind: 'clear', detail: expect.stringMatching(/^topk %1 selects index 3 after the pass only/) });
    expect(compareDecisions([made([0])], [], tol)).toEqual({ kind: 'incomparable' });
  });
});
