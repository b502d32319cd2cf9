/**
 * Dead-code elimination: removes nodes whose values reach no graph output (inside region bodies too). Graph
 * inputs stay, so the graph's signature does not change.
 */
import type { Graph } from '../ir/index.js';
import type { Pass } from './pass.js';
import { mapRegions } from './rewrite.js';
import { produce } from 'immer';

export function eliminateDeadCode(g: Graph): Graph {
  const live = new Set<number>(g.outputs.map((o) => o.value.node));
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (n === undefined) continue;
    if (n.op === 'input') live.add(n.id);
    if (live.has(n.id)) for (const r of n.inputs) live.add(r.node);
  }
  const kept = g.nodes.filter((n) => live.has(n.id));
  const pruned = kept.length === g.nodes.length ? g : produce(g, (draft) => {
    draft.nodes = kept as typeof draft.nodes;
  });
  return mapRegions(pruned, eliminateDeadCode);
}

export const dcePass: Pass = { name: 'dce', description: 'remove nodes that reach no output', run: eliminateDeadCode };
