/**
 * The immutable Graph IR: nodes in topological order, each with typed attributes and typed outputs; values
 * are (node, output) references. Graphs are deep-frozen; passes rewrite them with immer's `produce`.
 */
import { freeze } from 'immer';
export const valueRef = (node, output = 0) => ({ node, output });
export function refText(r) {
    return r.output === 0 ? `%${r.node}` : `%${r.node}#${r.output}`;
}
export function freezeGraph(g) {
    return freeze(g, true);
}
export function nodeMap(g) {
    return new Map(g.nodes.map((n) => [n.id, n]));
}
/** The type of a value; throws if the reference is dangling (use the verifier for a full diagnosis). */
export function valueType(nodes, ref) {
    const t = nodes.get(ref.node)?.outputs[ref.output];
    if (t === undefined)
        throw new Error(`dangling value reference ${refText(ref)}`);
    return t;
}
export function graphInputs(g) {
    return g.nodes.filter((n) => n.op === 'input');
}
/** Every weight node of the graph and of its region bodies, in order of appearance. */
export function graphWeights(g) {
    const out = [];
    for (const n of g.nodes) {
        if (n.op === 'weight')
            out.push(n);
        else if (n.op === 'modRoute')
            out.push(...graphWeights(n.attrs.body));
    }
    return out;
}
/** Calls f on every node of the graph and of every nested region, depth first, with the region path. */
export function walkNodes(g, f, path = []) {
    for (const n of g.nodes) {
        f(n, path);
        if (n.op === 'modRoute')
            walkNodes(n.attrs.body, f, [...path, n]);
    }
}
export function nextNodeId(g) {
    return g.nodes.reduce((m, n) => Math.max(m, n.id + 1), 0);
}
/** Describes a node for error messages: "node %12 'layers.3.q_proj' (linear)". */
export function describeNode(n) {
    return `node %${n.id}${n.name ? ` '${n.name}'` : ''} (${n.op})`;
}
