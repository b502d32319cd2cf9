/**
 * Elementwise fusion: a tree of float unary/binary ops whose intermediate values each have one consumer becomes
 * one `fusedElementwise` op with the tree as its expression. Constant operands (`full`) that do not widen the
 * result become literals. Values used twice, graph outputs and non-elementwise consumers end a tree.
 */
import { arg, bin, evalExpr, exprSize, isFloat, lit, shapeEq, un } from '../ir/index.js';
import { mapRegions, refKey, rewrite, useCounts } from './rewrite.js';
const isElementwise = (n) => (n.op === 'unary' || n.op === 'binary' || n.op === 'fusedElementwise') && n.outputs.length === 1 && isFloat(n.outputs[0]?.dtype ?? 'bool');
/** Per-node facts for the sweep: which values fold into their single consumer. */
function analyse(g) {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const uses = useCounts(g);
    const consumer = new Map();
    for (const n of g.nodes)
        for (const r of n.inputs)
            consumer.set(r.node, n);
    const outputs = new Set(g.outputs.map((o) => o.value.node));
    const absorbed = new Set();
    for (const n of g.nodes) {
        const c = consumer.get(n.id);
        if (isElementwise(n) && c && isElementwise(c) && !outputs.has(n.id) && uses.get(refKey({ node: n.id, output: 0 })) === 1 && c.outputs[0]?.dtype === n.outputs[0]?.dtype)
            absorbed.add(n.id);
    }
    return { byId, absorbed };
}
export function fuseElementwise(g) {
    const { byId, absorbed } = analyse(g);
    const fused = rewrite(g, (n, rw) => {
        if (absorbed.has(n.id))
            return; // emitted as part of its consumer's expression
        if (!isElementwise(n)) {
            rw.keep(n);
            return;
        }
        const leaves = [];
        const leafIndex = new Map();
        const leaf = (r) => {
            const m = rw.map(r);
            const k = refKey(m);
            let i = leafIndex.get(k);
            if (i === undefined) {
                i = leaves.length;
                leaves.push(m);
                leafIndex.set(k, i);
            }
            return arg(i);
        };
        const operandShapes = (node) => node.inputs.map((r) => shapeEq(byId.get(r.node)?.outputs[r.output]?.shape ?? [], node.outputs[0]?.shape ?? []));
        const expand = (node) => {
            const full = operandShapes(node);
            const operand = (i) => {
                const r = node.inputs[i];
                if (r === undefined)
                    throw new Error(`${node.op} %${node.id} lacks operand ${i}`);
                const src = byId.get(r.node);
                // A constant operand becomes a literal when another operand already has the result's shape, so the
                // literal cannot have widened it by broadcasting.
                if (src?.op === 'full' && (node.op === 'unary' || full.some((f, j) => f && j !== i)))
                    return lit(src.attrs.value);
                return src && absorbed.has(src.id) ? expand(src) : leaf(r);
            };
            switch (node.op) {
                case 'unary':
                    return un(node.attrs.fn, operand(0));
                case 'binary':
                    return bin(node.attrs.fn, operand(0), operand(1));
                case 'fusedElementwise': {
                    const subs = node.inputs.map((_, i) => operand(i));
                    const sub = (e) => (e.k === 'arg' ? (subs[e.i] ?? e) : e.k === 'un' ? un(e.fn, sub(e.a)) : e.k === 'bin' ? bin(e.fn, sub(e.a), sub(e.b)) : e);
                    return sub(node.attrs.expr);
                }
                default:
                    throw new Error(`not elementwise: ${node.op}`);
            }
        };
        const expr = expand(n);
        const out = n.outputs[0];
        if (leaves.length === 0 && out) {
            // Every leaf was a literal: the whole tree is one constant.
            rw.alias({ node: n.id, output: 0 }, rw.emit1('full', [], { value: evalExpr(expr, []), dtype: out.dtype, shape: out.shape }, n.name));
            return;
        }
        if (exprSize(expr) < 2 && n.op !== 'fusedElementwise') {
            rw.keep(n);
            return;
        }
        rw.alias({ node: n.id, output: 0 }, rw.emit1('fusedElementwise', leaves, { expr }, n.name));
    });
    return mapRegions(fused, fuseElementwise);
}
export const elementwiseFusionPass = {
    name: 'fuse-elementwise',
    description: 'trees of single-use elementwise ops -> one fusedElementwise kernel',
    run: fuseElementwise,
};
