/**
 * The pass manager: a pass maps a graph to a graph; a pipeline runs passes in order, verifying between them when
 * verification is on (MODC_VERIFY=1 for the CLI, always in tests) so a pass that breaks the graph fails at that pass, by name.
 */
import { type Graph, VerifyError, verifyGraph } from '../ir/index.js';

export interface Pass {
  readonly name: string;
  /** What the pass does, one line (printed by `modc ir --list-passes`). */
  readonly description: string;
  run(graph: Graph): Graph;
}

export class PassError extends Error {
  override name = 'PassError';
}

export interface PipelineOptions {
  /** Verify after every pass (default: setVerifyByDefault, which the CLI sets from MODC_VERIFY=1). */
  verify?: boolean;
  /** Stop after this pass (inclusive); an unknown name is an error. */
  stopAfter?: string;
  /** Called after every pass with its result and the time it took. */
  onPass?: (pass: Pass, graph: Graph, ms: number) => void;
}

let verifyDefault = false;

/**
 * Whether pipelines verify after every pass unless told otherwise. The compiler core reads no environment (it
 * runs in browsers): the CLI sets this from MODC_VERIFY=1, the test setup turns it on for every test.
 */
export function setVerifyByDefault(on: boolean): void {
  verifyDefault = on;
}

export function verifyByDefault(): boolean {
  return verifyDefault;
}

export function runPasses(graph: Graph, passes: readonly Pass[], opts: PipelineOptions = {}): Graph {
  const verify = opts.verify ?? verifyByDefault();
  if (opts.stopAfter !== undefined && !passes.some((p) => p.name === opts.stopAfter))
    throw new PassError(`no pass named '${opts.stopAfter}' in this pipeline (passes: ${passes.map((p) => p.name).join(', ')})`);
  let g = graph;
  for (const pass of passes) {
    const t0 = performance.now();
    const next = pass.run(g);
    const ms = performance.now() - t0;
    if (verify) {
      const problems = verifyGraph(next);
      if (problems.length) throw new VerifyError(`after pass '${pass.name}', graph '${next.name}' is malformed:\n  ${problems.slice(0, 20).join('\n  ')}`);
    }
    opts.onPass?.(pass, next, ms);
    g = next;
    if (pass.name === opts.stopAfter) break;
  }
  return g;
}
