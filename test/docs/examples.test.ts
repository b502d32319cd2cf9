/** The docs' examples are real: the code in docs/passes.md is examples/custom-pass.ts, and it runs. */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('docs examples', () => {
  it('docs/passes.md shows examples/custom-pass.ts verbatim', () => {
    expect(readFileSync(join(root, 'docs', 'passes.md'), 'utf8')).toContain(readFileSync(join(root, 'examples', 'custom-pass.ts'), 'utf8'));
  });

  it('the custom pass example runs its property check', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const mod = (await import('../../examples/custom-pass.js')) as { dropDoubleNegation: { name: string } };
    expect(mod.dropDoubleNegation.name).toBe('drop-double-negation');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('preserves the interpreter results'));
    // The example's pass fires on the random graphs (it rewrote none of 300 before arbGraph made double negations).
    const line = String(log.mock.calls.flat().find((a) => String(a).includes('preserves')));
    expect(Number(/it rewrote (\d+)/.exec(line)?.[1] ?? 0)).toBeGreaterThan(5);
    log.mockRestore();
  });
});
