/**
 * The CLI's persistent caches (`--cache-dir DIR`, `--no-cache`, src/api/caches.ts) and the `--verbose` report of
 * which kernels and programs were compiled and which came from the cache.
 */
import { type Caches, type CacheRecord, diskCaches } from '../api/caches.js';
import { type Options, flag, type Parsed, strOpt } from './args.js';

export const CACHE_OPTIONS: Options = {
  'cache-dir': { type: 'string' },
  'no-cache': { type: 'boolean' },
  verbose: { type: 'boolean' },
};

export const CACHE_HELP = `  --cache-dir DIR     keep rendered kernels and compiled programs here (default $XDG_CACHE_HOME/modc or
                      ~/.cache/modc; bounded, least recently used entries removed)
  --no-cache          compile everything in this process and keep nothing
  --verbose           list which programs and kernels were compiled and which came from the cache`;

/** The caches the flags ask for (undefined with --no-cache). */
export function openCaches(p: Parsed): Caches | undefined {
  if (flag(p, 'no-cache')) return undefined;
  const dir = strOpt(p, 'cache-dir');
  return dir === undefined ? diskCaches() : diskCaches(dir);
}

/** The --verbose report: counts, then one line per kernel. */
export function cacheReport(c: Caches | undefined): string[] {
  if (c === undefined) return ['cache: off (--no-cache)'];
  const count = (what: CacheRecord['what'], how: CacheRecord['how']): number => c.log.filter((r) => r.what === what && r.how === how).length;
  const lines = [
    `cache: ${c.disk.dir}`,
    `programs: ${count('program', 'compiled')} compiled, ${count('program', 'cached')} from the cache`,
    `kernels: ${count('kernel', 'compiled') + count('kernel', 'recompiled')} compiled, ${count('kernel', 'cached')} from the cache`,
  ];
  for (const r of c.log.filter((x) => x.what === 'kernel')) lines.push(`  ${r.how.padEnd(10)} ${r.name}${r.reason ? ` (${r.reason})` : ''}`);
  return lines;
}
