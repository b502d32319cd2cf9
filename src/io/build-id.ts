/**
 * The compiler's build id: a hash of modc's own source files as installed (the package version alone does not
 * change while the compiler does). Caches put it in their keys, so entries made by another build of the
 * compiler are never read, and artifacts record it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;
let version: string | undefined;

function sources(dir: string, out: string[]): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** sha256 (hex, 16 digits) over the path and content of every module of modc's `src` tree (this file's parent's parent). */
export function compilerBuildId(): string {
  if (cached !== undefined) return cached;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const h = createHash('sha256');
  for (const f of sources(root, []).sort()) {
    h.update(relative(root, f));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  cached = h.digest('hex').slice(0, 16);
  return cached;
}

/** modc's package version: package.json of the package this module belongs to. */
export function compilerVersion(): string {
  if (version !== undefined) return version;
  for (let dir = new URL('..', import.meta.url); dir.pathname !== '/'; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'modc' && typeof pkg.version === 'string') return (version = pkg.version);
    } catch {
      // no package.json here: look further up
    }
  }
  return (version = 'unknown');
}
