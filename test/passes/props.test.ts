/**
 * Every pass preserves the reference interpreter's results on random graphs (200 cases each in npm test), and
 * rewrites a fair share of them: a property over graphs the pass never changes proves nothing.
 */
import { specializePass, type Pass } from '../../src/passes/index.js';
import { checkPass } from '../../src/testing/index.js';
import { PASS_CASES } from '../helpers/pass-cases.js';

const RUNS = Number(process.env.MODC_PROP_RUNS ?? 200);

describe('passes preserve meaning (checkPass)', () => {
  it.each(PASS_CASES.map(([p, before]) => [p.name, before.map((b) => b.name).join(' > ') || '-', p, before] as const))('%s after [%s]', (_n, _b, pass, before) => {
    // infer-types only fills in types, which the builder already wrote: on well-typed graphs it changes nothing.
    const identity = pass.name === 'infer-types';
    const warnings: string[] = [];
    const report = checkPass(pass, { numRuns: RUNS, before, weightDtypes: ['f32', 'f16', 'bf16'], ifUnchanged: identity ? 'warn' : 'fail', warn: (m) => warnings.push(m) });
    if (identity) {
      expect(report.changed).toBe(0);
      expect(warnings).toEqual([expect.stringContaining(`pass 'infer-types' changed none of ${RUNS} random graphs`)]);
    } else expect(report.changed).toBeGreaterThanOrEqual(0.1 * report.runs);
  });

  it('specialize: binding N_v (and T) preserves results', () => {
    // Generated graphs bound N_v and T above by the case's own values, so binding a symbol to its upper bound
    // binds it to the value the case runs with.
    const toMax = (names: readonly string[]): Pass => ({
      name: 'specialize',
      description: 'bind symbols to their upper bounds',
      run: (g) => specializePass(Object.fromEntries(g.symbols.filter((s) => names.includes(s.name)).map((s) => [s.name, s.max]))).run(g),
    });
    expect(checkPass(toMax(['N_v']), { numRuns: RUNS }).changed).toBeGreaterThan(0);
    expect(checkPass(toMax(['N_v', 'T']), { numRuns: Math.ceil(RUNS / 4) }).changed).toBeGreaterThan(0);
  });
});
