// Jest global setup and teardown: every test run gets its own temporary directory (TMPDIR, inherited by the test
// workers and the processes they start), and the run fails if a test leaves anything in it. The directory is
// removed either way, so a run never leaves files behind in the system temporary directory.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const KEY = 'MODC_TEST_TMPDIR';
const CACHE_KEY = 'MODC_TEST_CACHE';

export async function setup() {
  // modc's persistent cache ($XDG_CACHE_HOME/modc) goes to a directory of this run, not the user's home.
  // Mesa's shader cache (also under XDG_CACHE_HOME by default) stays where it was: llvmpipe compiling every
  // WGSL pipeline from scratch made the WebGPU tests about 15x slower (tiny p-MoD's first run 7 s -> 135 s).
  process.env.MESA_SHADER_CACHE_DIR ??= process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  const cache = mkdtempSync(join(tmpdir(), 'modc-test-cache-'));
  process.env[CACHE_KEY] = cache;
  process.env.XDG_CACHE_HOME = cache;
  const dir = mkdtempSync(join(tmpdir(), 'modc-test-run-'));
  process.env[KEY] = dir;
  process.env.TMPDIR = dir;
}

export async function teardown() {
  const cache = process.env[CACHE_KEY];
  if (cache !== undefined) rmSync(cache, { recursive: true, force: true });
  const dir = process.env[KEY];
  if (dir === undefined) return;
  const left = readdirSync(dir);
  rmSync(dir, { recursive: true, force: true });
  if (left.length) throw new Error(`tests left ${left.length} entries in the temporary directory (removed now): ${left.slice(0, 20).join(', ')}${left.length > 20 ? ', ...' : ''}`);
}
