import { mapRegions } from './rewrite.js';
import { produce } from 'immer';
export function eliminateDeadCode(g) {
    const live = new Set(g.outputs.map((o) => o.value.node));
    for (let i = g.nodes.length - 1; i >= 0; i--) {
        const n = g.nodes[i];
        if (n === undefined)
            continue;
        if (n.op === 'input')
            live.add(n.id);
        if (live.has(n.id))
            for (const r of n.inputs)
                live.add(r.node);
    }
    const kept = g.nodes.filter((n) => live.has(n.id));
    const pruned = kept.length === g.nodes.length ? g : produce(g, (draft) => {
        draft.nodes = kept;
    });
    return mapRegions(pruned, eliminateDeadCode);
}
export const dcePass = { name: 'dce', description: 'remove nodes that reach no output', run: eliminateDeadCode };
