/** The long property run (`npm run test:props`): every pass on 5000+ random graphs, larger than in npm test. */
import { jest } from '@jest/globals';
import {
  attentionFusionPass,
  csePass,
  dcePass,
  elementwiseFusionPass,
  foldPass,
  inferTypesPass,
  linearFusionPass,
  type Pass,
  pipeline,
  routeFusionPass,
  stringFusionPass,
} from '../../src/passes/index.js';
import { checkPass } from '../../src/testing/index.js';

const RUNS = Number(process.env.MODC_PROP_RUNS ?? 5000);
const opts = { numRuns: RUNS, maxSteps: 12, maxText: 8, maxVision: 10, weightDtypes: ['f32', 'f16', 'bf16'] as const };

const cases: [Pass, readonly Pass[]][] = [
  [inferTypesPass, []],
  [foldPass, []],
  [csePass, []],
  [dcePass, []],
  [routeFusionPass, []],
  [attentionFusionPass, []],
  [elementwiseFusionPass, []],
  [linearFusionPass, [routeFusionPass, elementwiseFusionPass]],
  [stringFusionPass, [routeFusionPass, elementwiseFusionPass, linearFusionPass]],
];

describe(`passes preserve meaning on ${RUNS} random graphs each`, () => {
  jest.setTimeout(30 * 60 * 1000);
  it.each(cases.map(([p, b]) => [p.name, p, b] as const))('%s', (_n, pass, before) => {
    checkPass(pass, { ...opts, before });
  });
  it('the whole full pipeline as one pass', () => {
    const full: Pass = { name: 'full', description: 'the full pipeline', run: (g) => pipeline('full').reduce((acc, p) => p.run(acc), g) };
    checkPass(full, { ...opts, rtol: 3e-4 });
  });
});
