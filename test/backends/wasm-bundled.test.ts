/**
 * The Wasm pool's worker source is built from functions' own source text (erf64, the spin loop). A bundler may
 * rename such a function when two modules define one of the same name (esbuild renamed math.ts's erf64 to
 * erf642 beside the PTX renderer's erf64): the worker then failed at its first line while the main thread
 * waited for it forever. Bundled as an application would bundle it, `modc run` on the Wasm workers must finish.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../helpers/modc-bin.js';

describe('the CLI bundled by esbuild', () => {
  // The Wasm device starts one worker per further core: this machine's CI has 2.
  it('runs tiny-pmod on the Wasm workers', async () => {
    // Packages stay outside the bundle, so it is written below node_modules, where they resolve; removed after.
    const cache = join(ROOT, 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, 'modc-bundle-'));
    const out = join(dir, 'modc.mjs');
    try {
      await build({ entryPoints: [join(ROOT, 'src', 'cli', 'bin.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: out, logLevel: 'silent', absWorkingDir: ROOT });
      // The case this guards: some function whose source the worker embeds was renamed.
      expect(readFileSync(out, 'utf8')).toMatch(/function erf64\d/);
      const text = execFileSync(process.execPath, [out, 'run', 'tiny-pmod', '--backend', 'wasm', '--json'], { encoding: 'utf8', timeout: 60_000, cwd: ROOT });
      const r = JSON.parse(text) as { backend: string; routing: unknown[] };
      expect(r.backend).toBe('wasm');
      expect(r.routing.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
