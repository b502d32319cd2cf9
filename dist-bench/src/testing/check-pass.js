/**
 * `checkPass`: the property "this pass preserves the reference interpreter's outputs (within tolerance) and the
 * verifier accepts its result", checked on random graphs from `arbGraph`. A failure throws PassCheckError with
 * the shrunk counterexample printed as IR before and after the pass.
 */
import fc from 'fast-check';
import { interpret } from '../backends/reference/index.js';
import { isFloat, printGraph, verifyGraph } from '../ir/index.js';
import { runPasses } from '../passes/index.js';
import { arbGraph } from './arb-graph.js';
export class PassCheckError extends Error {
    before;
    after;
    name = 'PassCheckError';
    constructor(message, 
    /** The shrunk counterexample: the graph given to the pass and what it returned. */
    before, after) {
        super(message);
        this.before = before;
        this.after = after;
    }
}
function compareTensors(name, a, b, rtol, atol) {
    if (a.dtype !== b.dtype)
        return `output '${name}': dtype ${a.dtype} became ${b.dtype}`;
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
        return `output '${name}': shape [${a.shape.join(', ')}] became [${b.shape.join(', ')}]`;
    for (let i = 0; i < a.data.length; i++) {
        const [x, y] = [a.data[i] ?? 0, b.data[i] ?? 0];
        if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y)))
            continue;
        const ok = isFloat(a.dtype) ? Math.abs(x - y) <= atol + rtol * Math.abs(x) : x === y;
        if (!ok)
            return `output '${name}' element ${i}: ${x} before the pass, ${y} after`;
    }
    return undefined;
}
/** Checks one case; returns a failure message, or undefined when the pass preserved the outputs. */
export function checkPassOnCase(pass, c, prepared, opts = {}) {
    let after;
    try {
        after = pass.run(prepared);
    }
    catch (e) {
        return { message: `the pass threw: ${e.message}` };
    }
    const problems = verifyGraph(after);
    if (problems.length)
        return { message: `the verifier rejects the result:\n  ${problems.slice(0, 5).join('\n  ')}`, after };
    // A pass may bind symbols (specialisation): give each graph only the symbols it still declares.
    const run = (g) => interpret(g, c.inputs, { weights: c.weights, symbols: Object.fromEntries(Object.entries(c.symbols).filter(([k]) => g.symbols.some((s) => s.name === k))) });
    const want = run(prepared);
    let got;
    try {
        got = run(after);
    }
    catch (e) {
        return { message: `the result does not run: ${e.message}`, after };
    }
    for (const [name, t] of Object.entries(want)) {
        const g = got[name];
        if (g === undefined)
            return { message: `output '${name}' disappeared`, after };
        const m = compareTensors(name, t, g, opts.rtol ?? 1e-4, opts.atol ?? 1e-5);
        if (m)
            return { message: m, after };
    }
    return {};
}
/** Runs the property; throws PassCheckError with the shrunk counterexample on failure. */
export function checkPass(pass, opts = {}) {
    const before = opts.before ?? [];
    const prepare = (c) => runPasses(c.graph, before, { verify: true });
    const details = fc.check(fc.property(arbGraph(opts), (c) => checkPassOnCase(pass, c, prepare(c), opts).message === undefined), { numRuns: opts.numRuns ?? 200, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
    if (!details.failed)
        return;
    const c = details.counterexample?.[0];
    if (c === undefined)
        throw new PassCheckError(`pass '${pass.name}' failed: ${String(details.errorInstance ?? 'property error')}`, '', '');
    const prepared = prepare(c);
    const res = checkPassOnCase(pass, c, prepared, opts);
    const beforeText = printGraph(prepared);
    const afterText = res.after ? printGraph(res.after) : '(no graph)';
    throw new PassCheckError([
        `pass '${pass.name}' does not preserve the graph's meaning: ${res.message ?? 'property failed'}`,
        `counterexample (seed ${details.seed}, path "${details.counterexample ? details.counterexamplePath : ''}", after ${details.numShrinks} shrinks), inputs N_v = ${c.plan.N_v}, T = ${c.plan.T}:`,
        '--- before the pass ---',
        beforeText.trimEnd(),
        '--- after the pass ---',
        afterText.trimEnd(),
    ].join('\n'), beforeText, afterText);
}
