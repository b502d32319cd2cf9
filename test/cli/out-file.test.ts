/** `modc run --inputs IN --out OUT`: a bad OUT is refused before anything is loaded or computed, naming the path. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliRun, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const cli = (...argv: string[]): Promise<CliRun> => runCli(argv);

describe('modc run --out', () => {
  const dir = tempDir();
  // Neither the checkpoint nor the inputs exist: an --out error must come first, before they are looked at.
  const args = ['run', '--backend', 'reference', '--checkpoint', join(dir, 'no-checkpoint'), '--inputs', join(dir, 'no-inputs.safetensors'), '--out'];

  it('refuses a directory that does not exist', async () => {
    const out = join(dir, 'missing', 'out.safetensors');
    const r = await cli(...args, out);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`modc run: FileError: ${out}: cannot write here: directory ${join(dir, 'missing')} does not exist`);
  });

  it('refuses a path under a file, and a path that is a directory', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect((await cli(...args, join(file, 'out.safetensors'))).err).toContain(`cannot write here: ${file} is not a directory`);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expect((await cli(...args, sub)).err).toBe(`modc run: FileError: ${sub}: is a directory; give a file name for the output`);
  });
});
