/**
 * `checkPass`: the property "this pass preserves the reference interpreter's outputs (within tolerance) and the
 * verifier accepts its result", checked on random graphs from `arbGraph`. A failure throws PassCheckError with
 * the shrunk counterexample printed as IR before and after the pass, and the seed and path that replay it.
 * A property over graphs the pass never changes proves nothing: the report counts the cases the pass changed,
 * and none is a failure (or a warning). Where a pass's rounding flips a routing or top-k decision between two
 * scores within tolerance, the outputs after it cannot be compared: such a case is counted as a near-tie, while a
 * flip with a clear margin fails.
 */
import fc from 'fast-check';
import { interpret } from '../backends/reference/index.js';
import { type Graph, type HostTensor, isFloat, printGraph, verifyGraph } from '../ir/index.js';
import { type Pass, runPasses } from '../passes/index.js';
import { arbGraph, type ArbGraphOptions, type GraphCase } from './arb-graph.js';
import { compareDecisions, decisionsMade, withDecisions } from './selections.js';

export interface CheckPassOptions extends ArbGraphOptions {
  /** Cases to try (default 200). */
  numRuns?: number;
  /** fast-check seed, for reproducing a failure (printed with every counterexample). */
  seed?: number;
  /** fast-check path of a counterexample: with `seed`, replays exactly that case. */
  path?: string;
  /** Passes applied before the pass under test (its preconditions), e.g. route fusion before STRing fusion. */
  before?: readonly Pass[];
  /** |a - b| <= atol + rtol * |a| for float outputs (defaults 1e-5 and 1e-4); integer outputs must be equal. */
  rtol?: number;
  atol?: number;
  /** When the pass changed no case: 'fail' (default) throws, 'warn' calls `warn` and returns the report. */
  ifUnchanged?: 'fail' | 'warn';
  /** Where warnings go (default console.warn). */
  warn?: (message: string) => void;
}

/** What a property run saw. */
export interface PassCheckReport {
  readonly pass: string;
  readonly runs: number;
  /** Cases whose graph the pass rewrote (the printed IR differs). */
  readonly changed: number;
  /** Cases where a decision flipped between scores within tolerance (outputs not compared). */
  readonly nearTies: number;
  readonly seed: number;
}

export class PassCheckError extends Error {
  override name = 'PassCheckError';
  constructor(
    message: string,
    /** The shrunk counterexample: the graph given to the pass and what it returned. */
    readonly before: string,
    readonly after: string,
  ) {
    super(message);
  }
}

function compareTensors(name: string, a: HostTensor, b: HostTensor, rtol: number, atol: number): string | undefined {
  if (a.dtype !== b.dtype) return `output '${name}': dtype ${a.dtype} became ${b.dtype}`;
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) return `output '${name}': shape [${a.shape.join(', ')}] became [${b.shape.join(', ')}]`;
  for (let i = 0; i < a.data.length; i++) {
    const [x, y] = [a.data[i] ?? 0, b.data[i] ?? 0];
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    const ok = isFloat(a.dtype) ? Math.abs(x - y) <= atol + rtol * Math.abs(x) : x === y;
    if (!ok) return `output '${name}' element ${i}: ${x} before the pass, ${y} after`;
  }
  return undefined;
}

/** The outcome of one case: a failure message, or a near-tie description, and whether the pass changed the graph. */
export interface CaseOutcome {
  readonly message?: string;
  readonly nearTie?: string;
  readonly changed: boolean;
  readonly after?: Graph;
}

/** Checks one case; `message` is set when the pass broke the graph's meaning. */
export function checkPassOnCase(pass: Pass, c: GraphCase, prepared: Graph, opts: Pick<CheckPassOptions, 'rtol' | 'atol'> = {}): CaseOutcome {
  let after: Graph;
  try {
    after = pass.run(prepared);
  } catch (e) {
    return { message: `the pass threw: ${(e as Error).message}`, changed: false };
  }
  const changed = printGraph(after) !== printGraph(prepared);
  const problems = verifyGraph(after);
  if (problems.length) return { message: `the verifier rejects the result:\n  ${problems.slice(0, 5).join('\n  ')}`, after, changed };
  // A pass may bind symbols (specialisation): give each graph only the symbols it still declares.
  const run = (g: Graph): Record<string, HostTensor> =>
    interpret(withDecisions(g), c.inputs, { weights: c.weights, symbols: Object.fromEntries(Object.entries(c.symbols).filter(([k]) => g.symbols.some((s) => s.name === k))) });
  const want = run(prepared);
  let got: Record<string, HostTensor>;
  try {
    got = run(after);
  } catch (e) {
    return { message: `the result does not run: ${(e as Error).message}`, after, changed };
  }
  const [rtol, atol] = [opts.rtol ?? 1e-4, opts.atol ?? 1e-5];
  const decision = compareDecisions(decisionsMade(prepared, want), decisionsMade(after, got), { rtol, atol });
  if (decision.kind === 'clear') return { message: `a decision flipped with a clear margin: ${decision.detail}`, after, changed };
  if (decision.kind === 'near-tie') return { nearTie: decision.detail, after, changed };
  for (const o of prepared.outputs) {
    const [t, g] = [want[o.name], got[o.name]];
    if (t === undefined) continue;
    if (g === undefined) return { message: `output '${o.name}' disappeared`, after, changed };
    const m = compareTensors(o.name, t, g, rtol, atol);
    if (m) return { message: m, after, changed };
  }
  return { changed };
}

/** Runs the property; throws PassCheckError with the shrunk counterexample on failure. Returns what it saw. */
export function checkPass(pass: Pass, opts: CheckPassOptions = {}): PassCheckReport {
  const before = opts.before ?? [];
  const prepare = (c: GraphCase): Graph => runPasses(c.graph, before, { verify: true });
  let changed = 0;
  let nearTies = 0;
  const details = fc.check(
    fc.property(arbGraph(opts), (c) => {
      const r = checkPassOnCase(pass, c, prepare(c), opts);
      if (r.changed) changed++;
      if (r.nearTie !== undefined) nearTies++;
      return r.message === undefined;
    }),
    { numRuns: opts.numRuns ?? 200, ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.path !== undefined ? { path: opts.path } : {}) },
  );
  if (details.failed) throw failure(pass, details, prepare, opts);
  const report: PassCheckReport = { pass: pass.name, runs: details.numRuns, changed, nearTies, seed: details.seed };
  if (changed === 0) {
    const msg = `pass '${pass.name}' changed none of ${details.numRuns} random graphs (seed ${details.seed}): the property says nothing about it; generate graphs it rewrites (arbGraph options), or pass ifUnchanged: 'warn'`;
    if ((opts.ifUnchanged ?? 'fail') === 'fail') throw new PassCheckError(msg, '', '');
    (opts.warn ?? console.warn)(msg);
  }
  return report;
}

function failure(pass: Pass, details: fc.RunDetails<[GraphCase]>, prepare: (c: GraphCase) => Graph, opts: CheckPassOptions): PassCheckError {
  const c = details.counterexample?.[0];
  if (c === undefined) return new PassCheckError(`pass '${pass.name}' failed: ${String(details.errorInstance ?? 'property error')}`, '', '');
  const prepared = prepare(c);
  const res = checkPassOnCase(pass, c, prepared, opts);
  const beforeText = printGraph(prepared);
  const afterText = res.after ? printGraph(res.after) : '(no graph)';
  return new PassCheckError(
    [
      `pass '${pass.name}' does not preserve the graph's meaning: ${res.message ?? 'property failed'}`,
      `counterexample (seed ${details.seed}, path "${details.counterexamplePath ?? ''}", after ${details.numShrinks} shrinks), inputs N_v = ${c.plan.N_v}, T = ${c.plan.T}:`,
      `replay it with checkPass(pass, { ...options, seed: ${details.seed}, path: '${details.counterexamplePath ?? ''}' })`,
      '--- before the pass ---',
      beforeText.trimEnd(),
      '--- after the pass ---',
      afterText.trimEnd(),
    ].join('\n'),
    beforeText,
    afterText,
  );
}
