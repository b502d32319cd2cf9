/**
 * Graph rewriting by one forward sweep: each node is kept (with its inputs renamed), replaced by new nodes, or
 * aliased to an existing value. New nodes get fresh ids and their types from the type rules; the result is
 * produced through immer, so unchanged nodes keep their identity and the output is frozen.
 */
import { produce } from 'immer';
import { BuildError, describeNode, inferTypes, nextNodeId, typeEq, TypeRuleError, } from '../ir/index.js';
const key = (r) => `${r.node}:${r.output}`;
export class Rewriter {
    source;
    subst = new Map();
    out = [];
    nextId;
    types = new Map();
    constructor(source) {
        this.source = source;
        this.nextId = nextNodeId(source);
    }
    /** The current name of a value of the source graph. */
    map(r) {
        return this.subst.get(key(r)) ?? r;
    }
    /** From now on, `from` (a source value) means `to`. */
    alias(from, to) {
        this.subst.set(key(from), to);
    }
    typeOf(r) {
        const t = this.types.get(r.node)?.[r.output];
        if (t === undefined)
            throw new Error(`value %${r.node}#${r.output} is not defined in the rewritten graph`);
        return t;
    }
    /** Re-emits a source node with its inputs renamed (the same object when nothing changed). */
    keep(n) {
        const inputs = n.inputs.map((r) => this.map(r));
        const same = inputs.every((r, i) => r === n.inputs[i]);
        const node = same ? n : { ...n, inputs };
        this.out.push(node);
        this.types.set(node.id, node.outputs);
        return node;
    }
    /**
     * Re-emits a source node under its own id with new attributes (default: unchanged) and re-inferred types;
     * returns the same object when nothing changed.
     */
    retype(n, attrs = n.attrs) {
        const inputs = n.inputs.map((r) => this.map(r));
        let outputs;
        try {
            outputs = inferTypes(n.op, inputs.map((r) => this.typeOf(r)), attrs);
        }
        catch (e) {
            if (e instanceof TypeRuleError)
                throw new BuildError(`${describeNode(n)}: ${e.message}`);
            throw e;
        }
        const same = attrs === n.attrs && inputs.every((r, i) => r === n.inputs[i]) && outputs.every((t, i) => typeEq(t, n.outputs[i] ?? t) && n.outputs[i] !== undefined);
        const node = same ? n : { ...n, inputs, attrs, outputs };
        this.out.push(node);
        this.types.set(node.id, node.outputs);
        return node;
    }
    /** Appends a new node; its output types come from the op's type rule. */
    emit(op, inputs, attrs, name) {
        let outputs;
        try {
            outputs = inferTypes(op, inputs.map((r) => this.typeOf(r)), attrs);
        }
        catch (e) {
            if (e instanceof TypeRuleError)
                throw new BuildError(`rewrite produced an ill-typed ${describeNode({ id: this.nextId, name, op })}: ${e.message}`);
            throw e;
        }
        const id = this.nextId++;
        const node = { id, op, name, inputs: [...inputs], attrs, outputs };
        this.out.push(node);
        this.types.set(id, outputs);
        return outputs.map((_, i) => ({ node: id, output: i }));
    }
    emit1(op, inputs, attrs, name) {
        const [r] = this.emit(op, inputs, attrs, name);
        if (r === undefined)
            throw new Error(`${op} has no outputs`);
        return r;
    }
    finish() {
        const outputs = this.source.outputs.map((o) => ({ name: o.name, value: this.map(o.value) }));
        return produce(this.source, (draft) => {
            draft.nodes = this.out;
            draft.outputs = outputs;
        });
    }
}
/** Rewrites a graph by visiting every node in order; the visitor must keep, replace or alias each node. */
export function rewrite(g, visit) {
    const rw = new Rewriter(g);
    for (const n of g.nodes)
        visit(n, rw);
    return rw.finish();
}
/** Applies a graph transformation to every modRoute body (recursively), leaving other nodes alone. */
export function mapRegions(g, f) {
    if (!g.nodes.some((n) => n.op === 'modRoute'))
        return g;
    return produce(g, (draft) => {
        g.nodes.forEach((n, i) => {
            if (n.op !== 'modRoute')
                return;
            const body = f(mapRegions(n.attrs.body, f));
            if (body !== n.attrs.body)
                draft.nodes[i] = { ...n, attrs: { ...n.attrs, body } };
        });
    });
}
/** How many times each value is used (by node inputs and graph outputs). */
export function useCounts(g) {
    const uses = new Map();
    const bump = (r) => {
        uses.set(key(r), (uses.get(key(r)) ?? 0) + 1);
    };
    for (const n of g.nodes)
        n.inputs.forEach(bump);
    for (const o of g.outputs)
        bump(o.value);
    return uses;
}
export const refKey = key;
