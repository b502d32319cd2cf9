/**
 * Safetensors output is atomic and safe: the temporary file is created exclusively (a planted symbolic link is
 * never followed), a failed write leaves nothing, and an asynchronous write interrupted by a signal removes its
 * temporary file before the signal ends the process.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTensor } from '../../src/ir/index.js';
import { SafetensorsError, SafetensorsFile, tensorEntry, writeSafetensors, writeSafetensorsAsync } from '../../src/io/index.js';
import { ROOT, runBin } from '../helpers/modc-bin.js';
import { tempDir } from '../helpers/temp.js';

const entries = [tensorEntry('x', makeTensor('f32', [3], [1, 2, 3]))];

function readX(path: string): number[] {
  const f = SafetensorsFile.open(path);
  try {
    return Array.from(f.get('x').data);
  } finally {
    f.close();
  }
}

describe('atomic safetensors output', () => {
  it.each([
    ['writeSafetensors', (p: string) => Promise.resolve(writeSafetensors(p, entries))],
    ['writeSafetensorsAsync', (p: string) => writeSafetensorsAsync(p, entries)],
  ])('%s never follows a link planted at the temporary name', async (_name, write) => {
    const dir = tempDir();
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const out = join(dir, 'out.safetensors');
    symlinkSync(victim, `${out}.tmp-${process.pid}`);
    await write(out);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(out).isFile()).toBe(true);
    expect(readX(out)).toEqual([1, 2, 3]);
    // The planted link is left alone, and no temporary file of ours remains.
    expect(readdirSync(dir).sort()).toEqual(['out.safetensors', 'out.safetensors.tmp-' + process.pid, 'victim.txt'].sort());
  });

  it('leaves neither the target nor a temporary file when a tensor fails to encode', async () => {
    const dir = tempDir();
    const bad = [tensorEntry('u', makeTensor('i32', [2], [1, 256]), 'U8')];
    expect(() => writeSafetensors(join(dir, 'a.safetensors'), bad)).toThrow(/tensor 'u': element 1 = 256 does not fit in U8/);
    await expect(writeSafetensorsAsync(join(dir, 'b.safetensors'), bad)).rejects.toThrow(SafetensorsError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names the path when the directory does not exist', async () => {
    const out = join(tempDir(), 'missing', 'o.safetensors');
    await expect(writeSafetensorsAsync(out, entries)).rejects.toThrow(`${out}: cannot create a temporary file next to it`);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('removes the temporary file when %s arrives during an asynchronous write', async (signal) => {
    const dir = tempDir();
    const out = join(dir, 'out.safetensors');
    const r = await runBin([out, signal], { script: join(ROOT, 'test', 'helpers', 'interrupted-write.ts') });
    expect(r.stdout.toString()).toBe('');
    expect(r.signal).toBe(signal);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });
});
