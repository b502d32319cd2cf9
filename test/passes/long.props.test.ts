/**
 * The long property run (`npm run test:props`): every pass on 5000+ random graphs, larger than in npm test. The
 * run is seeded and the seed printed; a counterexample's message gives the seed and path that replay it.
 */
import { jest } from '@jest/globals';
import { type Pass, pipeline } from '../../src/passes/index.js';
import { checkPass, type PassCheckReport } from '../../src/testing/index.js';
import { PASS_CASES } from '../helpers/pass-cases.js';
import { runSeed } from '../helpers/seed.js';

const RUNS = Number(process.env.MODC_PROP_RUNS ?? 5000);
const seed = runSeed('passes');
const opts = { numRuns: RUNS, maxSteps: 12, maxText: 8, maxVision: 10, weightDtypes: ['f32', 'f16', 'bf16'] as const, seed, ifUnchanged: 'warn' as const };

function print(r: PassCheckReport): void {
  process.stdout.write(`${r.pass}: ${r.runs} graphs, ${r.changed} changed, ${r.nearTies} near-ties (seed ${r.seed})\n`);
}

describe(`passes preserve meaning on ${RUNS} random graphs each`, () => {
  jest.setTimeout(30 * 60 * 1000);
  it.each(PASS_CASES.map(([p, b]) => [`${p.name} after [${b.map((x) => x.name).join(' > ')}]`, p, b] as const))('%s', (_n, pass, before) => {
    print(checkPass(pass, { ...opts, before }));
  });
  it('the whole full pipeline as one pass', () => {
    const full: Pass = { name: 'full', description: 'the full pipeline', run: (g) => pipeline('full').reduce((acc, p) => p.run(acc), g) };
    print(checkPass(full, { ...opts, rtol: 3e-4 }));
  });
});
