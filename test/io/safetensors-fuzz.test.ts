/** Fuzzing the safetensors reader (quick run; `npm run test:props` runs the long one). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fuzzCase, runCase, writeClean } from './safetensors-fuzz.js';

describe('safetensors reader under random corruption', () => {
  it('reads consistently or fails with SafetensorsError, never anything else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modc-fuzz-'));
    let serial = 0;
    const outcomes = { error: 0, read: 0 };
    fc.assert(
      fc.property(fuzzCase, (c) => {
        const s = serial++;
        writeClean(dir, c, s);
        outcomes[runCase(dir, c, s)]++;
      }),
      { numRuns: 300, seed: 20250101 },
    );
    // Both outcomes occur, so the property is not vacuous.
    expect(outcomes.error).toBeGreaterThan(20);
    expect(outcomes.read).toBeGreaterThan(20);
  });
});
