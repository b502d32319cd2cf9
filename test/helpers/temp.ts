/**
 * Temporary directories for tests, removed after the test file's last test (the jest run fails if anything is
 * left in its temporary directory: test/global/temp-dir.js).
 */
import { afterAll } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory under the system temporary directory, removed when the test file ends. */
export function tempDir(prefix = 'modc-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
