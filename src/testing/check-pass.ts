/**
 * `checkPass`: the property "this pass preserves the reference interpreter's outputs (within tolerance) and the
 * verifier accepts its result", checked on random graphs from `arbGraph`. A failure throws PassCheckError with
 * the shrunk counterexample printed as IR before and after the pass.
 */
import fc from 'fast-check';
import { interpret } from '../backends/reference/index.js';
import { type Graph, type HostTensor, isFloat, printGraph, verifyGraph } from '../ir/index.js';
import { type Pass, runPasses } from '../passes/index.js';
import { arbGraph, type ArbGraphOptions, type GraphCase } from './arb-graph.js';

export interface CheckPassOptions extends ArbGraphOptions {
  /** Cases to try (default 200). */
  numRuns?: number;
  /** fast-check seed, for reproducing a failure. */
  seed?: number;
  /** Passes applied before the pass under test (its preconditions), e.g. route fusion before STRing fusion. */
  before?: readonly Pass[];
  /** |a - b| <= atol + rtol * |a| for float outputs (defaults 1e-5 and 1e-4); integer outputs must be equal. */
  rtol?: number;
  atol?: number;
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

/** Checks one case; returns a failure message, or undefined when the pass preserved the outputs. */
export function checkPassOnCase(pass: Pass, c: GraphCase, prepared: Graph, opts: Pick<CheckPassOptions, 'rtol' | 'atol'> = {}): { message?: string; after?: Graph } {
  let after: Graph;
  try {
    after = pass.run(prepared);
  } catch (e) {
    return { message: `the pass threw: ${(e as Error).message}` };
  }
  const problems = verifyGraph(after);
  if (problems.length) return { message: `the verifier rejects the result:\n  ${problems.slice(0, 5).join('\n  ')}`, after };
  // A pass may bind symbols (specialisation): give each graph only the symbols it still declares.
  const run = (g: Graph): Record<string, HostTensor> =>
    interpret(g, c.inputs, { weights: c.weights, symbols: Object.fromEntries(Object.entries(c.symbols).filter(([k]) => g.symbols.some((s) => s.name === k))) });
  const want = run(prepared);
  let got: Record<string, HostTensor>;
  try {
    got = run(after);
  } catch (e) {
    return { message: `the result does not run: ${(e as Error).message}`, after };
  }
  for (const [name, t] of Object.entries(want)) {
    const g = got[name];
    if (g === undefined) return { message: `output '${name}' disappeared`, after };
    const m = compareTensors(name, t, g, opts.rtol ?? 1e-4, opts.atol ?? 1e-5);
    if (m) return { message: m, after };
  }
  return {};
}

/** Runs the property; throws PassCheckError with the shrunk counterexample on failure. */
export function checkPass(pass: Pass, opts: CheckPassOptions = {}): void {
  const before = opts.before ?? [];
  const prepare = (c: GraphCase): Graph => runPasses(c.graph, before, { verify: true });
  const details = fc.check(
    fc.property(arbGraph(opts), (c) => checkPassOnCase(pass, c, prepare(c), opts).message === undefined),
    { numRuns: opts.numRuns ?? 200, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) },
  );
  if (!details.failed) return;
  const c = details.counterexample?.[0];
  if (c === undefined) throw new PassCheckError(`pass '${pass.name}' failed: ${String(details.errorInstance ?? 'property error')}`, '', '');
  const prepared = prepare(c);
  const res = checkPassOnCase(pass, c, prepared, opts);
  const beforeText = printGraph(prepared);
  const afterText = res.after ? printGraph(res.after) : '(no graph)';
  throw new PassCheckError(
    [
      `pass '${pass.name}' does not preserve the graph's meaning: ${res.message ?? 'property failed'}`,
      `counterexample (seed ${details.seed}, path "${details.counterexample ? details.counterexamplePath : ''}", after ${details.numShrinks} shrinks), inputs N_v = ${c.plan.N_v}, T = ${c.plan.T}:`,
      '--- before the pass ---',
      beforeText.trimEnd(),
      '--- after the pass ---',
      afterText.trimEnd(),
    ].join('\n'),
    beforeText,
    afterText,
  );
}
