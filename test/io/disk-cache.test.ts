/**
 * The persistent cache: entries come back as written; a truncated, edited or foreign entry reads as a miss and
 * is removed; another compiler build never reads them; the size bound evicts the least recently used; and two
 * processes writing the same and different entries at once leave only whole, valid entries.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { DiskCache } from '../../src/io/disk-cache.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'modc-cache-test-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255);

describe('DiskCache', () => {
  it('returns what was put, under its key and namespace only', () => {
    const dir = tempDir();
    const c = new DiskCache({ dir, namespace: 'build-a' });
    c.put('kernel', 'k1', bytes(100, 1));
    expect(c.get('kernel', 'k1')).toEqual(bytes(100, 1));
    expect(c.get('kernel', 'k2')).toBeUndefined();
    expect(c.get('program', 'k1')).toBeUndefined();
    // Another compiler build never sees this build's entries.
    expect(new DiskCache({ dir, namespace: 'build-b' }).get('kernel', 'k1')).toBeUndefined();
    expect(c.events.map((e) => e.kind)).toEqual(['write', 'hit', 'miss', 'miss']);
  });

  it('detects a truncated entry, an edited byte and a file copied over another key, and removes them', () => {
    const dir = tempDir();
    const c = new DiskCache({ dir, namespace: 'b' });
    c.put('kernel', 'a', bytes(500, 2));
    c.put('kernel', 'b', bytes(500, 3));
    c.put('kernel', 'c', bytes(500, 4));
    const [pa, pb, pc] = ['a', 'b', 'c'].map((k) => c.path('kernel', k)) as [string, string, string];
    const intactB = readFileSync(pb);
    writeFileSync(pa, readFileSync(pa).subarray(0, 300));
    const edited = Buffer.from(intactB);
    edited[edited.length - 7] = (edited[edited.length - 7] ?? 0) ^ 1;
    writeFileSync(pb, edited);
    // A whole, valid entry under another key's file name (a hash collision, or a file copied by hand).
    writeFileSync(pc, intactB);
    for (const k of ['a', 'b', 'c']) expect(c.get('kernel', k)).toBeUndefined();
    const reasons = c.events.filter((e) => e.kind === 'bad').map((e) => (e.kind === 'bad' ? e.reason : ''));
    expect(reasons[0]).toMatch(/truncated/);
    expect(reasons[1]).toMatch(/payload hash mismatch/);
    expect(reasons[2]).toMatch(/another key/);
    expect(readdirSync(join(dir, 'kernel'))).toEqual([]);
    // Put again, and it is whole again.
    c.put('kernel', 'a', bytes(500, 2));
    expect(c.get('kernel', 'a')).toEqual(bytes(500, 2));
  });

  it('keeps within its bound by removing the least recently used entries', () => {
    const dir = tempDir();
    // Room for three entries of 1000 payload bytes (an entry also holds a small header).
    const probe = new DiskCache({ dir: tempDir(), namespace: 'b' });
    probe.put('kernel', 'x', bytes(1000, 0));
    const entryBytes = probe.events[0]?.kind === 'write' ? probe.events[0].bytes : 0;
    const c = new DiskCache({ dir, namespace: 'b', maxBytes: 3 * entryBytes + 10 });
    const old = new Date(Date.now() - 60_000);
    for (const [i, k] of ['a', 'b', 'c'].entries()) {
      c.put('kernel', k, bytes(1000, i));
      // Distinct, ordered use times (a oldest) without sleeping.
      const t = new Date(old.getTime() + i * 1000);
      utimesSync(c.path('kernel', k), t, t);
    }
    expect(c.get('kernel', 'a')).toBeDefined(); // a is now the most recently used
    c.put('kernel', 'd', bytes(1000, 9));
    expect(c.get('kernel', 'b')).toBeUndefined();
    for (const k of ['a', 'c', 'd']) expect(c.get('kernel', k)).toBeDefined();
    expect(c.events.some((e) => e.kind === 'evict')).toBe(true);
  });
});

/** The cache module as plain JavaScript for child processes (it imports only node: modules). */
function compiledCacheModule(dir: string): string {
  const src = readFileSync(new URL('../../src/io/disk-cache.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = join(dir, 'disk-cache.mjs');
  writeFileSync(file, js);
  return file;
}

function runChild(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

it('two processes writing at once leave only whole entries, each readable', async () => {
  const dir = tempDir();
  const mod = compiledCacheModule(dir);
  const cacheDir = join(dir, 'cache');
  // Each process writes 60 shared keys (the same content) and 60 of its own, interleaved, then reads all back.
  const script = (who: string): string => `
    import { DiskCache } from ${JSON.stringify(mod)};
    const c = new DiskCache({ dir: ${JSON.stringify(cacheDir)}, namespace: 'n' });
    const data = (k) => new TextEncoder().encode(k.repeat(200));
    for (let i = 0; i < 60; i++) { c.put('kernel', 'shared' + i, data('shared' + i)); c.put('kernel', '${who}' + i, data('${who}' + i)); }
    for (let i = 0; i < 60; i++) for (const k of ['shared' + i, '${who}' + i]) {
      const got = c.get('kernel', k);
      if (!got || new TextDecoder().decode(got) !== k.repeat(200)) { console.error('bad entry', k); process.exit(3); }
    }`;
  const codes = await Promise.all([runChild(script('p')), runChild(script('q'))]);
  expect(codes).toEqual([0, 0]);
  const c = new DiskCache({ dir: cacheDir, namespace: 'n' });
  for (let i = 0; i < 60; i++) for (const k of [`shared${i}`, `p${i}`, `q${i}`]) expect(new TextDecoder().decode(c.get('kernel', k))).toBe(k.repeat(200));
  // No temporary file is left behind.
  expect(readdirSync(join(cacheDir, 'kernel')).filter((f) => f.includes('.tmp-'))).toEqual([]);
  expect(readdirSync(join(cacheDir, 'kernel'))).toHaveLength(180);
});
