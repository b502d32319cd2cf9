/**
 * Running an artifact needs no compiler: from the `modc` binary through `run --plan` (main.ts loads a command's
 * module only when it runs, and routes `run --plan` to run-plan.ts), no module of src/passes is reachable (bin.ts
 * imports the passes only under MODC_VERIFY=1, to switch on verification after each pass). The same walk from
 * `modc compile` does reach the passes, so the check can fail. And at run time: the modules a real `modc run
 * --plan` resolves include no pass, while a plain `modc run` resolves them. (Node's WasmDevice still imports
 * binaryen, its renderer, though it renders nothing for an artifact; the page device imports neither.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main as modc } from '../../src/cli/main.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { chain, reachable } from '../helpers/imports.js';
import { runBin } from '../helpers/modc-bin.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

function passesFrom(entry: string, dynamicFrom: (f: string) => boolean): string[][] {
  const seen = reachable(root, entry, { dynamicFrom });
  return [...seen.keys()].filter((f) => f.startsWith('src/passes/')).map((f) => chain(seen, f));
}

it('modc run --plan reaches no src/passes module', () => {
  // bin.ts -> main.ts statically; main.ts's dynamic import for `run --plan` is run-plan.ts; everything below it.
  const cli = reachable(root, 'src/cli/bin.ts');
  expect(cli.has('src/cli/main.ts')).toBe(true);
  expect([...cli.keys()].filter((f) => f.startsWith('src/passes/'))).toEqual([]);
  const plan = reachable(root, 'src/cli/run-plan.ts', { dynamicFrom: () => true });
  expect(plan.has('src/runtime/plan-session.ts')).toBe(true);
  expect(plan.has('src/backends/wasm/device.ts')).toBe(true);
  expect([...plan.keys()].filter((f) => f.startsWith('src/passes/')).map((f) => chain(plan, f))).toEqual([]);
  // main.ts routes `run --plan` to run-plan.ts, not run.ts.
  const main = readFileSync(new URL('../../src/cli/main.ts', import.meta.url), 'utf8');
  expect(main).toMatch(/isPlanRun\(argv\) \? import\('\.\/run-plan\.js'\)/);
});

it('the same walk finds the passes behind modc compile', () => {
  const found = passesFrom('src/cli/compile.ts', () => true);
  expect(found.length).toBeGreaterThan(5);
  expect(found[0]?.[0]).toBe('src/cli/compile.ts');
});

const LOADED = join(root, 'test', 'helpers', 'loaded-modules.ts');

async function loaded(args: string[]): Promise<{ code: number; modules: string[] }> {
  const r = await runBin(args, { script: LOADED });
  if (r.code !== 0) throw new Error(`the module listing failed (${r.code}): ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as { code: number; modules: string[] };
}

it('a real modc run --plan loads no src/passes module; modc run loads them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modc-plan-imports-'));
  try {
    const ck = join(dir, 'ck');
    writeCheckpoint(ck, { kind: 'pmod-llava', dtype: 'f32', seed: 2, numLayers: 2 });
    const art = join(dir, 'art');
    expect(await modc(['compile', ck, '--target', 'wasm', '--vision-tokens', '0', '--text-tokens', '140', '--max-new-tokens', '2', '--out', art], () => undefined, () => undefined)).toBe(0);
    const plan = await loaded(['run', '--plan', art, '--checkpoint', ck, '--prompt', 'hi', '--max-new-tokens', '2', '--threads', '1']);
    expect(plan.code).toBe(0);
    expect(plan.modules.some((u) => u.includes('/src/runtime/plan-session.ts'))).toBe(true);
    expect(plan.modules.filter((u) => u.includes('/src/passes/'))).toEqual([]);
    const compiled = await loaded(['run', 'tiny-pmod', '--no-cache', '--json']);
    expect(compiled.modules.some((u) => u.includes('/src/passes/'))).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
