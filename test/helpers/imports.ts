/**
 * The modules a TypeScript source file reaches through its imports (static, and dynamic imports of string
 * literals), read from the sources: which code a command path can load, checked without running it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const IMPORT = /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface ImportOptions {
  /** Follow dynamic `import('...')` of these files (relative to the root); others are not followed. */
  readonly dynamicFrom?: (file: string) => boolean;
}

/** Every repository file reachable from `entry`, each with the file that imported it first (for a chain). */
export function reachable(root: string, entry: string, opts: ImportOptions = {}): Map<string, string | undefined> {
  const seen = new Map<string, string | undefined>();
  const visit = (file: string, from: string | undefined): void => {
    if (seen.has(file)) return;
    seen.set(file, from);
    const src = readFileSync(resolve(root, file), 'utf8');
    for (const m of src.matchAll(IMPORT)) {
      if (m[1] !== undefined) continue; // `import type`: erased
      const dynamic = m[3] !== undefined;
      const spec = m[2] ?? m[3] ?? '';
      if (!spec.startsWith('.')) continue;
      if (dynamic && !(opts.dynamicFrom?.(file) ?? false)) continue;
      const target = resolve(dirname(resolve(root, file)), spec.replace(/\.js$/, '.ts'));
      if (existsSync(target)) visit(relative(root, target), file);
    }
  };
  visit(entry, undefined);
  return seen;
}

/** The import chain from the entry to `file`. */
export function chain(seen: ReadonlyMap<string, string | undefined>, file: string): string[] {
  const out: string[] = [];
  for (let f: string | undefined = file; f !== undefined; f = seen.get(f)) out.push(f);
  return out.reverse();
}
