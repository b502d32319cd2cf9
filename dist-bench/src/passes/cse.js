/**
 * Common-subexpression elimination: nodes with the same op, attributes and (renamed) inputs are merged; weights
 * with the same checkpoint name are one tensor. Region bodies get their own CSE scope.
 */
import { attrParts, refText } from '../ir/index.js';
import { mapRegions, rewrite } from './rewrite.js';
function nodeKey(n, inputs) {
    // Inputs are distinct by name and a modRoute's region is too large to key on; neither is merged.
    if (n.op === 'input' || n.op === 'modRoute')
        return undefined;
    return `${n.op}(${inputs.join(',')}){${attrParts(n).join(';')}}`;
}
export function eliminateCommonSubexpressions(g) {
    const seen = new Map();
    const merged = rewrite(g, (n, rw) => {
        const k = nodeKey(n, n.inputs.map((r) => refText(rw.map(r))));
        const prior = k === undefined ? undefined : seen.get(k);
        if (prior !== undefined) {
            n.outputs.forEach((_, i) => rw.alias({ node: n.id, output: i }, { node: prior.id, output: i }));
            return;
        }
        const kept = rw.keep(n);
        if (k !== undefined)
            seen.set(k, kept);
    });
    return mapRegions(merged, eliminateCommonSubexpressions);
}
export const csePass = { name: 'cse', description: 'merge identical nodes (and weights of the same name)', run: eliminateCommonSubexpressions };
