/**
 * Every input format under random corruption (a modest number of cases; `npm run test:props` runs many more):
 * each case reads or is refused with the format's error type and a message naming the file and the field, line
 * or byte offset, within a time and memory budget per case.
 */
import { jest } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FUZZ_TARGETS } from './targets/index.js';
import { tempDir } from '../helpers/temp.js';

const RUNS = Number(process.env.MODC_FUZZ_RUNS ?? 40);

jest.setTimeout(120_000);

describe('input formats under random corruption', () => {
  const root = tempDir('modc-fuzz-');
  let serial = 0;
  it.each(FUZZ_TARGETS.map((t) => [t.name, t] as const))('%s', async (_name, target) => {
    const dir = (): string => {
      const d = join(root, String(serial++));
      mkdirSync(d);
      return d;
    };
    const outcomes = await target.fuzz({ numRuns: RUNS, seed: Number(process.env.MODC_FUZZ_SEED ?? 20250613), dir });
    // Both outcomes occur, so neither half of the property is vacuous.
    expect(outcomes.refused).toBeGreaterThan(0);
    expect(outcomes.read).toBeGreaterThan(0);
  });
});
