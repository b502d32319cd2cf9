/** The long fuzz run (`npm run test:props`): every input format on many more cases, seeded and printed. */
import { jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FUZZ_TARGETS } from './targets/index.js';
import { tempDir } from '../helpers/temp.js';
import { runSeed } from '../helpers/seed.js';

const RUNS = Number(process.env.MODC_FUZZ_RUNS ?? 3000);

jest.setTimeout(30 * 60 * 1000);

describe(`input formats under random corruption (${RUNS} cases each)`, () => {
  const seed = runSeed('fuzz');
  const root = tempDir('modc-fuzz-');
  let serial = 0;
  it.each(FUZZ_TARGETS.map((t) => [t.name, t] as const))('%s', async (_name, target) => {
    const dir = (): string => {
      const d = join(root, String(serial++));
      mkdirSync(d);
      return d;
    };
    const outcomes = await target.fuzz({ numRuns: RUNS, seed, dir });
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.read).toBeGreaterThan(0);
  });
});
