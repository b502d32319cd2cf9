/**
 * The package as an installer meets it: an MIT LICENSE matching package.json, `main` and `types` (and types for
 * the subpaths under moduleResolution node), source maps whose sources ship, and the Node version in the README.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string): string => readFileSync(join(root, p), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  license: string;
  main: string;
  types: string;
  engines: { node: string };
  files: string[];
  exports: Record<string, { types: string; import: string } | string>;
  typesVersions: Record<string, Record<string, string[]>>;
};
const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { outDir: string; rootDir: string; sourceMap?: boolean; declaration?: boolean }; include: string[] };

/** The TypeScript source a file under dist/ is compiled from (rootDir "." keeps the tree). */
function sourceOf(built: string): string {
  return built.replace(/^\.\//, '').replace(new RegExp(`^${tsconfig.compilerOptions.outDir}/`), '').replace(/\.d\.ts$|\.js$/, '.ts');
}

describe('package.json', () => {
  it('has an MIT LICENSE file, as its license field says', () => {
    expect(pkg.license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
  });

  it('has main and types for resolvers that ignore exports, matching exports["."]', () => {
    const dot = pkg.exports['.'];
    expect(typeof dot).toBe('object');
    if (typeof dot !== 'object') return;
    expect(`./${pkg.main}`).toBe(dot.import);
    expect(`./${pkg.types}`).toBe(dot.types);
    expect(tsconfig.compilerOptions.declaration).toBe(true);
    expect(existsSync(join(root, sourceOf(pkg.main)))).toBe(true);
  });

  it('gives every subpath its types, in exports and for moduleResolution node (typesVersions)', () => {
    for (const [sub, entry] of Object.entries(pkg.exports)) {
      if (typeof entry === 'string') continue;
      expect(existsSync(join(root, sourceOf(entry.import)))).toBe(true);
      expect(sourceOf(entry.types)).toBe(sourceOf(entry.import));
      if (sub !== '.') expect(pkg.typesVersions['*']?.[sub.slice(2)]).toEqual([entry.types.replace(/^\.\//, '')]);
    }
  });

  it('ships the sources its source maps point at', () => {
    // Maps name ../../src/x.ts from dist/src/x.js.map: every compiled root must be in the package.
    expect(tsconfig.compilerOptions.sourceMap).toBe(true);
    for (const dir of tsconfig.include) expect(pkg.files).toContain(dir);
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'LICENSE', 'README.md', 'docs']));
  });

  it('states the Node version it needs in the README, as engines does', () => {
    expect(pkg.engines.node).toBe('>=20');
    expect(read('README.md')).toMatch(/Node\.js 20 or later/);
  });
});
