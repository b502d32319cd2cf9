/** Op and kernel counts of a graph, overall and per decoder layer (`modc ir --stats`). */
import { type Graph, VIEW_OPS, walkNodes } from '../ir/index.js';

export interface GraphStats {
  readonly nodes: number;
  readonly ops: Readonly<Record<string, number>>;
  /** Nodes that launch work: everything but inputs, weights and views. */
  readonly kernels: number;
  /** Kernels per decoder layer (by node name `layers.{l}.`), layer index -> count. */
  readonly kernelsPerLayer: Readonly<Record<string, number>>;
}

export function isKernel(op: string): boolean {
  return op !== 'input' && op !== 'weight' && !VIEW_OPS.has(op as never);
}

export function graphStats(g: Graph): GraphStats {
  const ops: Record<string, number> = {};
  const perLayer: Record<string, number> = {};
  let nodes = 0;
  let kernels = 0;
  walkNodes(g, (n, path) => {
    nodes++;
    ops[n.op] = (ops[n.op] ?? 0) + 1;
    // A region op is not a kernel of its own once its body is counted.
    if (!isKernel(n.op) || n.op === 'modRoute') return;
    kernels++;
    const m = /^layers\.(\d+)(\.|$)/.exec((path[0] ?? n).name);
    if (m?.[1] !== undefined) perLayer[m[1]] = (perLayer[m[1]] ?? 0) + 1;
  });
  return { nodes, ops, kernels, kernelsPerLayer: perLayer };
}
