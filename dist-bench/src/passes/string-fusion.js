import { emitLinear, isLinear, linearForm } from './linear-form.js';
import { mapRegions, refKey, rewrite, useCounts } from './rewrite.js';
export function fuseStringCombine(g) {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const uses = useCounts(g);
    const outputs = new Set(g.outputs.map((o) => refKey(o.value)));
    const absorbed = new Set();
    for (const n of g.nodes) {
        const u = n.op === 'stringCombine' ? n.inputs[2] : undefined;
        if (u && isLinear(byId.get(u.node)) && uses.get(refKey(u)) === 1 && !outputs.has(refKey(u)))
            absorbed.add(u.node);
    }
    const fused = rewrite(g, (n, rw) => {
        if (absorbed.has(n.id))
            return; // emitted with its stringCombine
        const u = n.op === 'stringCombine' ? n.inputs[2] : undefined;
        const host = u ? byId.get(u.node) : undefined;
        if (n.op === 'stringCombine' && u && absorbed.has(u.node) && isLinear(host)) {
            const [xFull, h1, , rowMap, gate, routable] = n.inputs.map((r) => rw.map(r));
            if (!xFull || !h1 || !rowMap || !gate || !routable)
                throw new Error(`stringCombine %${n.id} lacks operands`);
            const form = linearForm(host, rw);
            rw.alias({ node: n.id, output: 0 }, emitLinear({ ...form, combine: { xFull, h1, rowMap, gate, routable } }, rw));
            return;
        }
        rw.keep(n);
    });
    return mapRegions(fused, fuseStringCombine);
}
export const stringFusionPass = {
    name: 'fuse-string',
    description: 'STRing combine -> epilogue of the down projection (fusedLinear combine=string)',
    run: fuseStringCombine,
};
