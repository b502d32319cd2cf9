/** One test per fuzz target, each case in a fresh directory, for the quick and the long fuzz runs. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FUZZ_TARGETS } from './targets/index.js';
import { tempDir } from '../helpers/temp.js';

export function describeFuzz(title: string, runs: number, seed: number): void {
  describe(title, () => {
    const root = tempDir('modc-fuzz-');
    let serial = 0;
    const dir = (): string => {
      const d = join(root, String(serial++));
      mkdirSync(d);
      return d;
    };
    it.each(FUZZ_TARGETS.map((t) => [t.name, t] as const))('%s', async (_name, target) => {
      const outcomes = await target.fuzz({ numRuns: runs, seed, dir });
      // Both outcomes occur, so neither half of the property is vacuous.
      expect(outcomes.refused).toBeGreaterThan(0);
      expect(outcomes.read).toBeGreaterThan(0);
    });
  });
}
