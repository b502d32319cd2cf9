/**
 * The reference interpreter: runs a Graph on host tensors. It binds symbols from the input shapes, checks every
 * weight against its declaration, runs one kernel per node, checks each result against the node's type, and
 * frees values after their last use. It is the oracle the other backends and every pass are tested against.
 */
import { describeNode, dimSymbols, dimText, evalDim, ExecutionError, roundInPlace, shapeText, substDim, } from '../../ir/index.js';
import { KERNELS } from './kernels.js';
const shapeStr = (s) => `[${s.join(', ')}]`;
/** Binds symbols by matching declared input shapes against the given tensors; then checks every dim. */
export function bindSymbols(g, inputs, given = {}) {
    const env = { ...given };
    const decls = new Map(g.symbols.map((s) => [s.name, s]));
    const ins = g.nodes.filter((n) => n.op === 'input');
    for (const n of ins) {
        const t = inputs[n.attrs.name];
        if (t === undefined)
            throw new ExecutionError(`missing input '${n.attrs.name}' (${n.attrs.dtype}${shapeText(n.attrs.shape)}) of graph '${g.name}'`);
        if (t.dtype !== n.attrs.dtype)
            throw new ExecutionError(`input '${n.attrs.name}': expected dtype ${n.attrs.dtype}, got ${t.dtype}`);
        if (t.shape.length !== n.attrs.shape.length)
            throw new ExecutionError(`input '${n.attrs.name}': expected rank ${n.attrs.shape.length} ${shapeText(n.attrs.shape)}, got ${shapeStr(t.shape)}`);
    }
    // Solve dims that are linear in exactly one unbound symbol (input_ids: [T + N_v] binds T once N_v is known),
    // repeating until nothing new is learned.
    for (let progress = true; progress;) {
        progress = false;
        for (const n of ins) {
            const t = inputs[n.attrs.name];
            n.attrs.shape.forEach((d, i) => {
                const solved = solveLinear(substDim(d, env), t?.shape[i] ?? 0);
                if (solved && env[solved.name] === undefined) {
                    if (!Number.isInteger(solved.value))
                        throw new ExecutionError(`input '${n.attrs.name}': dim ${i} is ${t?.shape[i]}, which ${dimText(d)} cannot equal`);
                    env[solved.name] = solved.value;
                    progress = true;
                }
            });
        }
    }
    for (const [name, v] of Object.entries(env)) {
        const decl = decls.get(name);
        if (decl === undefined)
            throw new ExecutionError(`symbol '${name}' is not declared by graph '${g.name}'`);
        if (!Number.isInteger(v) || v < decl.min || v > decl.max)
            throw new ExecutionError(`symbol ${name} = ${v} is outside its bounds [${decl.min}, ${decl.max}]`);
    }
    for (const n of ins) {
        const t = inputs[n.attrs.name];
        n.attrs.shape.forEach((d, i) => {
            const missing = [...dimSymbols(d)].filter((s) => env[s] === undefined);
            if (missing.length)
                throw new ExecutionError(`input '${n.attrs.name}' dim ${i} (${dimText(d)}) needs symbol ${missing.join(', ')}: bind it in options.symbols`);
            const want = evalDim(d, env);
            if (t && t.shape[i] !== want)
                throw new ExecutionError(`input '${n.attrs.name}': dim ${i} is ${t.shape[i]}, but ${dimText(d)} = ${want} (shape ${shapeText(n.attrs.shape)} with ${JSON.stringify(env)})`);
        });
    }
    return env;
}
/** If d is c + a*sym, the symbol value that makes d equal `actual`. */
function solveLinear(d, actual) {
    if (typeof d === 'number')
        return undefined;
    if (d.k === 'sym')
        return { name: d.name, value: actual };
    const term = d.k === 'lin' && d.terms.length === 1 ? d.terms[0] : undefined;
    if (term === undefined || term.atom.k !== 'sym')
        return undefined;
    return { name: term.atom.name, value: (actual - (d.k === 'lin' ? d.c : 0)) / term.coeff };
}
function lastUses(g) {
    const last = new Map();
    g.nodes.forEach((n, i) => n.inputs.forEach((r) => last.set(r.node, i)));
    for (const o of g.outputs)
        last.set(o.value.node, Number.POSITIVE_INFINITY);
    return last;
}
function runGraph(g, inputs, env, weights, path) {
    const values = new Map();
    const last = lastUses(g);
    const evalD = (d) => evalDim(d, env);
    g.nodes.forEach((node, i) => {
        const where = `${path}${describeNode(node)}`;
        const fail = (msg) => {
            throw new ExecutionError(`${where}: ${msg}`);
        };
        const ins = node.inputs.map((r) => values.get(r.node)?.[r.output] ?? fail(`operand %${r.node}#${r.output} has no value`));
        const outShapes = node.outputs.map((t) => t.shape.map(evalD));
        const ctx = {
            node,
            outShapes,
            dim: evalD,
            fail,
            input: (name) => inputs[name] ?? fail(`missing input '${name}'`),
            weight: (name) => loadWeight(weights, name, node, outShapes[0] ?? [], fail),
            runRegion: (body, regionInputs) => {
                const res = runGraph(body, regionInputs, env, weights, `${where} > `);
                return body.outputs.map((o) => res[o.name] ?? fail(`region output '${o.name}' missing`));
            },
        };
        const kernel = KERNELS[node.op];
        const outs = kernel(ins, node.attrs, ctx);
        outs.forEach((t, k) => {
            const want = node.outputs[k];
            const shape = outShapes[k];
            if (want === undefined || shape === undefined)
                return fail(`kernel produced ${outs.length} values, node declares ${node.outputs.length}`);
            if (t.dtype !== want.dtype || t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j]))
                fail(`result ${k} is ${t.dtype}${shapeStr(t.shape)} but the node's type is ${want.dtype}${shapeStr(shape)}`);
            if (node.op !== 'input' && node.op !== 'weight')
                roundInPlace(t.dtype, t.data);
        });
        values.set(node.id, outs);
        for (const r of node.inputs)
            if ((last.get(r.node) ?? -1) <= i)
                values.delete(r.node);
    });
    const result = {};
    for (const o of g.outputs) {
        const v = values.get(o.value.node)?.[o.value.output];
        if (v === undefined)
            throw new ExecutionError(`${path}graph '${g.name}': output '${o.name}' has no value`);
        result[o.name] = v;
    }
    return result;
}
function loadWeight(store, name, node, shape, fail) {
    if (!store.has(name))
        fail(`weight '${name}' is not in the weight store`);
    const t = store.get(name);
    const want = node.outputs[0];
    if (want && t.dtype !== want.dtype)
        fail(`weight '${name}' has dtype ${t.dtype}, the graph declares ${want.dtype}`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
        fail(`weight '${name}' has shape ${shapeStr(t.shape)}, the graph declares ${shapeStr(shape)}`);
    return t;
}
/** Runs the graph; returns its named outputs. */
export function interpret(g, inputs, opts) {
    const env = bindSymbols(g, inputs, opts.symbols);
    return runGraph(g, inputs, env, opts.weights, '');
}
