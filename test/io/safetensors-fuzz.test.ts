/** Fuzzing the safetensors reader (quick run; `npm run test:props` runs the long one). */
import fc from 'fast-check';
import { fuzzCase, runCase } from './safetensors-fuzz.js';
import { tempDir } from '../helpers/temp.js';

describe('safetensors reader under random corruption', () => {
  it('reads consistently or fails with SafetensorsError, never anything else', () => {
    const dir = tempDir('modc-fuzz-');
    let serial = 0;
    const outcomes = { error: 0, read: 0 };
    fc.assert(
      fc.property(fuzzCase, (c) => {
        const s = serial++;
        outcomes[runCase(dir, c, s)]++;
      }),
      { numRuns: 300, seed: 20250101 },
    );
    // Both outcomes occur, so the property is not vacuous.
    expect(outcomes.error).toBeGreaterThan(20);
    expect(outcomes.read).toBeGreaterThan(20);
  });
});
