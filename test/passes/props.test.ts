/** Every pass preserves the reference interpreter's results on random graphs (200 cases each in npm test). */
import {
  attentionFusionPass,
  csePass,
  elementwiseFusionPass,
  foldPass,
  linearFusionPass,
  type Pass,
  routeFusionPass,
  specializePass,
  stringFusionPass,
} from '../../src/passes/index.js';
import fc from 'fast-check';
import { printGraph } from '../../src/ir/index.js';
import { runPasses } from '../../src/passes/index.js';
import { arbGraph, checkPass } from '../../src/testing/index.js';
import { PASS_CASES } from '../helpers/pass-cases.js';

const RUNS = Number(process.env.MODC_PROP_RUNS ?? 200);

const cases = PASS_CASES;

describe('passes preserve meaning (checkPass)', () => {
  it.each(cases.map(([p, before]) => [p.name, before.map((b) => b.name).join(' > ') || '-', p, before] as const))('%s after [%s]', (_n, _b, pass, before) => {
    checkPass(pass, { numRuns: RUNS, before, weightDtypes: ['f32', 'f16', 'bf16'] });
  });

  it('specialize: binding N_v (and T) preserves results', () => {
    // Generated graphs bound N_v and T above by the case's own values, so binding a symbol to its upper bound
    // binds it to the value the case runs with.
    const toMax = (names: readonly string[]): Pass => ({
      name: 'specialize',
      description: 'bind symbols to their upper bounds',
      run: (g) => specializePass(Object.fromEntries(g.symbols.filter((s) => names.includes(s.name)).map((s) => [s.name, s.max]))).run(g),
    });
    checkPass(toMax(['N_v']), { numRuns: RUNS });
    checkPass(toMax(['N_v', 'T']), { numRuns: Math.ceil(RUNS / 4) });
  });
});

describe('the random graphs exercise the passes', () => {
  // A property over graphs the pass never changes proves nothing: check that each pass rewrites a fair share of them.
  it.each([
    [foldPass, []],
    [csePass, []],
    [routeFusionPass, []],
    [attentionFusionPass, []],
    [elementwiseFusionPass, []],
    [linearFusionPass, [elementwiseFusionPass]],
    [stringFusionPass, [routeFusionPass, elementwiseFusionPass, linearFusionPass]],
  ].map(([p, b]) => [(p as Pass).name, p, b]) as [string, Pass, Pass[]][])('%s changes at least 10% of random graphs', (_name, pass, before) => {
    const cases = fc.sample(arbGraph(), { numRuns: 100, seed: 42 });
    const changed = cases.filter((c) => {
      const g = runPasses(c.graph, before);
      return printGraph(pass.run(g)) !== printGraph(g);
    }).length;
    expect(changed).toBeGreaterThanOrEqual(10);
  });
});
