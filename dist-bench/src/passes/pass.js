/**
 * The pass manager: a pass maps a graph to a graph; a pipeline runs passes in order, verifying between them when
 * MODC_VERIFY=1 (tests always verify) so a pass that breaks the graph fails at that pass, by name.
 */
import { VerifyError, verifyGraph } from '../ir/index.js';
export class PassError extends Error {
    name = 'PassError';
}
export function verifyByDefault() {
    return process.env.MODC_VERIFY === '1';
}
export function runPasses(graph, passes, opts = {}) {
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
            if (problems.length)
                throw new VerifyError(`after pass '${pass.name}', graph '${next.name}' is malformed:\n  ${problems.slice(0, 20).join('\n  ')}`);
        }
        opts.onPass?.(pass, next, ms);
        g = next;
        if (pass.name === opts.stopAfter)
            break;
    }
    return g;
}
