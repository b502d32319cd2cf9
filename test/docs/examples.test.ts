/** The docs' examples are real: the code in the docs is the examples/ files verbatim, and it runs. */
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (...p: string[]): string => readFileSync(join(root, ...p), 'utf8');

const cli = (...argv: string[]): Promise<CliRun> => runCli(argv);

describe('docs examples', () => {
  it.each([
    ['passes.md', 'custom-pass.ts'],
    ['checkpoints.md', 'inputs-file.ts'],
    ['checkpoints.md', 'generate.ts'],
  ])('docs/%s shows examples/%s verbatim', (doc, example) => {
    expect(read('docs', doc)).toContain(read('examples', example));
  });

  it('the custom pass example runs its property check, and its pass fires', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const mod = (await import('../../examples/custom-pass.js')) as { dropDoubleNegation: { name: string } };
    expect(mod.dropDoubleNegation.name).toBe('drop-double-negation');
    expect(log).toHaveBeenCalledWith(expect.stringContaining('preserves the interpreter results'));
    // The example's pass fires on the random graphs (it rewrote none of 300 before arbGraph made double negations).
    const line = String(log.mock.calls.flat().find((a) => String(a).includes('preserves')));
    expect(Number(/it rewrote (\d+)/.exec(line)?.[1] ?? 0)).toBeGreaterThan(5);
    log.mockRestore();
  });

  const dir = join(tempDir('modc-docs-'), 'llava');
  writeCheckpoint(dir, { kind: 'llava-1.5', dtype: 'f32', numLayers: 2, seed: 9 });

  it('the --inputs example writes a file modc run reads', async () => {
    const { writeInputs } = await import('../../examples/inputs-file.js');
    const inputs = join(dirname(dir), 'in.safetensors');
    writeInputs(inputs, [1, 31, -200, 172, 299], { rows: 4, width: 32, values: Array.from({ length: 128 }, (_, i) => Math.sin(i)) });
    const out = join(dirname(dir), 'out.safetensors');
    const r = await cli('run', '--checkpoint', dir, '--inputs', inputs, '--out', out, '--max-new-tokens', '2', '--backend', 'reference');
    expect(r.err).toBe('');
    expect(r.out).toBe(`wrote ${out}: logits [8, 384], routing of 0 MoD layers, 2 generated tokens`);
  });

  it('the generation example answers as modc run --prompt does', async () => {
    const { answer } = await import('../../examples/generate.js');
    const r = await cli('run', '--checkpoint', dir, '--prompt', 'What is this?', '--max-new-tokens', '6', '--backend', 'reference');
    expect(await answer(dir, 'What is this?', 6)).toBe(r.streamed.replace(/\n$/, ''));
  });
});
