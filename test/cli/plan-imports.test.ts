/**
 * Running an artifact needs no compiler: from the `modc` binary through `run --plan` (main.ts loads a command's
 * module only when it runs, and routes `run --plan` to run-plan.ts), no module of src/passes is reachable (bin.ts
 * imports the passes only under MODC_VERIFY=1, to switch on verification after each pass). The
 * same walk from `modc compile` does reach the passes, so the check can fail.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chain, reachable } from '../helpers/imports.js';

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
