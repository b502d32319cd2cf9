/** Op and kernel counts of a graph, overall and per decoder layer (`modc ir --stats`). */
import { VIEW_OPS, walkNodes } from '../ir/index.js';
export function isKernel(op) {
    return op !== 'input' && op !== 'weight' && !VIEW_OPS.has(op);
}
export function graphStats(g) {
    const ops = {};
    const perLayer = {};
    let nodes = 0;
    let kernels = 0;
    walkNodes(g, (n, path) => {
        nodes++;
        ops[n.op] = (ops[n.op] ?? 0) + 1;
        // A region op is not a kernel of its own once its body is counted.
        if (!isKernel(n.op) || n.op === 'modRoute')
            return;
        kernels++;
        const m = /^layers\.(\d+)(\.|$)/.exec((path[0] ?? n).name);
        if (m?.[1] !== undefined)
            perLayer[m[1]] = (perLayer[m[1]] ?? 0) + 1;
    });
    return { nodes, ops, kernels, kernelsPerLayer: perLayer };
}
