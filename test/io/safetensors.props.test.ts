/** Long fuzz run of the safetensors reader (npm run test:props). */
import fc from 'fast-check';
import { fuzzCase, runCase } from './safetensors-fuzz.js';
import { runSeed } from '../helpers/seed.js';
import { tempDir } from '../helpers/temp.js';

describe('safetensors reader under random corruption (long)', () => {
  it('reads consistently or fails with SafetensorsError naming the file and offset or tensor', () => {
    const dir = tempDir('modc-fuzz-');
    let serial = 0;
    fc.assert(
      fc.property(fuzzCase, (c) => {
        const s = serial++;
        runCase(dir, c, s);
      }),
      { numRuns: 50000, seed: runSeed('safetensors fuzz') },
    );
  }, 600_000);
});
