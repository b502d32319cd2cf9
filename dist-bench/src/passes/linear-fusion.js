/**
 * Matmul prologue/epilogue fusion: an RMSNorm feeding a linear layer becomes its prologue; a bias, and an
 * elementwise consumer that is the linear's only user (activation, residual add, the SwiGLU product) become its
 * epilogue. Runs after elementwise fusion, so one consumer carries the whole elementwise tree.
 */
import { shapeEq } from '../ir/index.js';
import { elementwiseExpr, emitLinear, isLinear, linearForm, withEpilogue, withNormPrologue } from './linear-form.js';
import { mapRegions, refKey, rewrite, useCounts } from './rewrite.js';
/** For each elementwise consumer, the operand index of the linear it absorbs (the later one when several qualify). */
function planHosts(g) {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const uses = useCounts(g);
    const outputs = new Set(g.outputs.map((o) => refKey(o.value)));
    const position = new Map(g.nodes.map((n, i) => [n.id, i]));
    const hosts = new Map();
    const taken = new Set();
    for (const e of g.nodes) {
        if (elementwiseExpr(e) === undefined)
            continue;
        let best = -1;
        e.inputs.forEach((r, i) => {
            const src = byId.get(r.node);
            const ok = isLinear(src) &&
                !taken.has(src.id) &&
                uses.get(refKey(r)) === 1 &&
                !outputs.has(refKey(r)) &&
                src.outputs[0]?.dtype === e.outputs[0]?.dtype &&
                shapeEq(src.outputs[0]?.shape ?? [], e.outputs[0]?.shape ?? []);
            const bestPos = best >= 0 ? (position.get(e.inputs[best]?.node ?? -1) ?? -1) : -1;
            if (ok && (position.get(r.node) ?? -1) > bestPos)
                best = i;
        });
        const hostRef = e.inputs[best];
        if (best >= 0 && hostRef) {
            hosts.set(e.id, best);
            taken.add(hostRef.node);
        }
    }
    return hosts;
}
export function fuseLinears(g) {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const hosts = planHosts(g);
    const absorbed = new Set();
    for (const [eid, i] of hosts) {
        const r = byId.get(eid)?.inputs[i];
        if (r)
            absorbed.add(r.node);
    }
    const fused = rewrite(g, (n, rw) => {
        if (absorbed.has(n.id))
            return; // emitted with its consumer
        const host = hosts.get(n.id);
        const expr = elementwiseExpr(n);
        if (host !== undefined && expr !== undefined) {
            const hostNode = byId.get(n.inputs[host]?.node ?? -1);
            if (!isLinear(hostNode))
                throw new Error(`planned host of %${n.id} is not a linear`);
            const form = withEpilogue(withNormPrologue(linearForm(hostNode, rw), byId, rw), expr, n.inputs.map((r) => rw.map(r)), host);
            rw.alias({ node: n.id, output: 0 }, emitLinear({ ...form, name: hostNode.name }, rw));
            return;
        }
        if (isLinear(n)) {
            const form = linearForm(n, rw);
            const withNorm = withNormPrologue(form, byId, rw);
            if (n.op === 'linear' && withNorm === form && form.operands.length === 0) {
                rw.keep(n);
                return;
            }
            rw.alias({ node: n.id, output: 0 }, emitLinear(withNorm, rw));
            return;
        }
        rw.keep(n);
    });
    return mapRegions(fused, fuseLinears);
}
export const linearFusionPass = {
    name: 'fuse-linear',
    description: 'RMSNorm prologue, bias / activation / residual / gating epilogues into fusedLinear',
    run: fuseLinears,
};
