/** Long fuzz run of the safetensors reader (npm run test:props). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { fuzzCase, runCase, writeClean } from './safetensors-fuzz.js';

describe('safetensors reader under random corruption (long)', () => {
  it('reads consistently or fails with SafetensorsError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'modc-fuzz-'));
    let serial = 0;
    fc.assert(
      fc.property(fuzzCase, (c) => {
        const s = serial++;
        writeClean(dir, c, s);
        runCase(dir, c, s);
      }),
      { numRuns: 50000 },
    );
  }, 600_000);
});
