// Module hooks: `.js` imports between TypeScript sources resolve to the `.ts` file, and `.ts` files are
// transpiled (types stripped, no type check: `npm run typecheck` does that) with the project's own compiler.
// Transpiled files are cached by content hash in node_modules/.cache, as build tools keep their caches, so a
// test that starts the binary several times pays the transpile once.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'modc-ts-loader');
let ts;

export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent?.endsWith('.ts') && specifier.startsWith('.') && specifier.endsWith('.js')) {
    const url = new URL(`${specifier.slice(0, -3)}.ts`, parent);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}

async function transpile(source, file) {
  const key = createHash('sha256').update(file).update('\0').update(source).digest('hex');
  const cached = join(CACHE, `${key}.js`);
  if (existsSync(cached)) return readFileSync(cached, 'utf8');
  ts ??= (await import('typescript')).default;
  const options = { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true, isolatedModules: true };
  const out = ts.transpileModule(source, { compilerOptions: options, fileName: file }).outputText;
  mkdirSync(CACHE, { recursive: true });
  // Write then rename: concurrent test processes never read a half-written file.
  const tmp = `${cached}.${process.pid}.tmp`;
  writeFileSync(tmp, out);
  renameSync(tmp, cached);
  return out;
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  return { format: 'module', source: await transpile(await readFile(file, 'utf8'), file), shortCircuit: true };
}
