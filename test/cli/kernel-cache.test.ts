/**
 * The persistent kernel and program cache through `modc run`: a second run compiles nothing (its program and every
 * kernel come from the cache) and prints the same results; a cache entry truncated by hand is detected and that
 * kernel alone is compiled again; --no-cache keeps nothing.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';

interface Run {
  code: number;
  out: string;
  err: string;
  progress: string;
}

async function cli(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s), { progress: { write: (s: string) => progress.push(s), isTTY: false } });
  return { code, out: out.join('\n'), err: err.join('\n'), progress: progress.join('') };
}

const root = mkdtempSync(join(tmpdir(), 'modc-kcache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cache = join(root, 'cache');

interface Summary {
  nextToken: number;
  nextTokenLogit: number;
  routing: { layer: number; kept: number[] }[];
}

const summary = (r: Run): Summary => {
  const s = JSON.parse(r.out) as Summary;
  return { nextToken: s.nextToken, nextTokenLogit: s.nextTokenLogit, routing: s.routing.map((x) => ({ layer: x.layer, kept: x.kept })) };
};
const counts = (r: Run, what: string): [number, number] => {
  const m = new RegExp(`${what}: (\\d+) compiled, (\\d+) from the cache`).exec(r.progress);
  return [Number(m?.[1] ?? -1), Number(m?.[2] ?? -1)];
};

it('a second run compiles nothing; a truncated entry is recompiled; --no-cache keeps nothing', async () => {
  const run = (...extra: string[]): Promise<Run> => cli('run', 'tiny-pmod', '--json', '--verbose', ...extra);
  const first = await run('--cache-dir', cache);
  expect(first.err).toBe('');
  const [kernels, none] = counts(first, 'kernels');
  expect(kernels).toBeGreaterThan(10);
  expect(none).toBe(0);
  expect(counts(first, 'programs')).toEqual([1, 0]);

  const second = await run('--cache-dir', cache);
  expect(counts(second, 'programs')).toEqual([0, 1]);
  expect(counts(second, 'kernels')).toEqual([0, kernels]);
  expect(second.progress).not.toMatch(/^\s+compiled\s/m);
  expect(summary(second)).toEqual(summary(first));

  // Cut one kernel entry short: that kernel is compiled again (and reported), the rest still come from the cache.
  const dir = join(cache, 'kernel');
  const victim = readdirSync(dir).map((f) => join(dir, f)).sort((a, b) => statSync(a).size - statSync(b).size)[0] ?? '';
  writeFileSync(victim, readFileSync(victim).subarray(0, 40));
  const third = await run('--cache-dir', cache);
  expect(counts(third, 'kernels')).toEqual([1, kernels - 1]);
  expect(third.progress).toMatch(/recompiled .* \(.*: (truncated header|payload of \d+ bytes, the header says \d+ \(truncated\))\)/);
  expect(summary(third)).toEqual(summary(first));
  // The entry was written again, whole: a fourth run compiles nothing.
  expect(counts(await run('--cache-dir', cache), 'kernels')).toEqual([0, kernels]);

  const off = join(root, 'unused');
  const nocache = await run('--no-cache', '--cache-dir', off);
  expect(nocache.progress).toMatch(/cache: off/);
  expect(() => readdirSync(off)).toThrow();
  expect(summary(nocache)).toEqual(summary(first));
});
