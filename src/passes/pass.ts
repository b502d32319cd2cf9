/**
 * The pass manager: a pass maps a graph to a graph; a pipeline runs passes in order, verifying between them when
 * MODC_VERIFY=1 (tests always verify) so a pass that breaks the graph fails at that pass, by name.
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
  /** Verify after every pass (default: MODC_VERIFY=1 in the environment). */
  verify?: boolean;
  /** Stop after this pass (inclusive); an unknown name is an error. */
  stopAfter?: string;
  /** Called after every pass with its result and the time it took. */
  onPass?: (pass: Pass, graph: Graph, ms: number) => void;
}

export function verifyByDefault(): boolean {
  return process.env.MODC_VERIFY === '1';
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
