/**
 * Memory planning: buffer liveness over the node order and offset assignment in one arena (greedy by size, as
 * TFLite's arena planner does), with views aliasing their source. Weights are not activations and are not
 * planned; graph outputs live to the end. The plan is data: every buffer with its size, offset and lifetime.
 */
import { DTYPE_BYTES, evalDim, VIEW_OPS } from '../ir/index.js';
import { refKey } from './rewrite.js';
export const ALIGNMENT = 256;
const align = (n) => Math.ceil(n / ALIGNMENT) * ALIGNMENT;
function bytesOf(n, output, env) {
    const t = n.outputs[output];
    if (t === undefined)
        return 0;
    return t.shape.reduce((a, d) => a * evalDim(d, env), 1) * DTYPE_BYTES[t.dtype];
}
export function planMemory(g, env) {
    // A view's uses count as uses of the value it aliases.
    const root = new Map();
    const resolve = (k) => {
        let r = k;
        for (let next = root.get(r); next !== undefined; next = root.get(r))
            r = next;
        return r;
    };
    const lives = new Map();
    let weightBytes = 0;
    g.nodes.forEach((n, i) => {
        n.inputs.forEach((r) => {
            const l = lives.get(resolve(refKey(r)));
            if (l)
                l.end = Math.max(l.end, i);
        });
        if (n.op === 'weight') {
            weightBytes += bytesOf(n, 0, env);
            return;
        }
        const src = n.inputs[0];
        if (VIEW_OPS.has(n.op) && src) {
            root.set(refKey({ node: n.id, output: 0 }), resolve(refKey(src)));
            return;
        }
        // A region's own transient buffers are planned inside it; here the region counts as one step.
        const extra = n.op === 'modRoute' ? planMemory(n.attrs.body, env).arenaBytes : 0;
        n.outputs.forEach((_, k) => {
            lives.set(refKey({ node: n.id, output: k }), { node: n.id, output: k, name: n.name, bytes: align(bytesOf(n, k, env)) + (k === 0 ? extra : 0), start: n.op === 'input' ? 0 : i, end: i, persistent: false });
        });
    });
    let outputBytes = 0;
    let kvCacheBytes = 0;
    const last = g.nodes.length;
    for (const o of g.outputs) {
        const l = lives.get(resolve(refKey(o.value)));
        if (l === undefined)
            continue;
        if (!l.persistent)
            outputBytes += l.bytes;
        if (!l.persistent && o.name.startsWith('kv.'))
            kvCacheBytes += l.bytes;
        l.persistent = true;
        l.end = last;
    }
    const all = [...lives.values()].filter((l) => l.bytes > 0);
    // Greedy by size: largest first, each at the lowest offset free for its whole lifetime.
    const placed = [];
    for (const l of [...all].sort((a, b) => b.bytes - a.bytes || a.start - b.start)) {
        const overlapping = placed.filter((p) => p.start <= l.end && l.start <= p.end).sort((a, b) => a.offset - b.offset);
        let offset = 0;
        for (const p of overlapping) {
            if (offset + l.bytes <= p.offset)
                break;
            offset = Math.max(offset, p.offset + p.bytes);
        }
        placed.push({ node: l.node, output: l.output, name: l.name, bytes: l.bytes, offset, start: l.start, end: l.end, persistent: l.persistent });
    }
    const arenaBytes = placed.reduce((m, p) => Math.max(m, p.offset + p.bytes), 0);
    const delta = new Array(last + 2).fill(0);
    for (const l of all) {
        delta[l.start] = (delta[l.start] ?? 0) + l.bytes;
        delta[l.end + 1] = (delta[l.end + 1] ?? 0) - l.bytes;
    }
    let live = 0;
    let peakLiveBytes = 0;
    for (const dlt of delta) {
        live += dlt;
        peakLiveBytes = Math.max(peakLiveBytes, live);
    }
    placed.sort((a, b) => a.start - b.start || a.node - b.node || a.output - b.output);
    return { buffers: placed, arenaBytes, peakLiveBytes, outputBytes, kvCacheBytes, weightBytes };
}
/** Checks a plan: no two buffers live at the same time overlap in memory. Returns the first conflict. */
export function findPlanConflict(plan) {
    const bs = plan.buffers;
    for (let i = 0; i < bs.length; i++) {
        for (let j = i + 1; j < bs.length; j++) {
            const [a, b] = [bs[i], bs[j]];
            if (!a || !b)
                continue;
            const timeOverlap = a.start <= b.end && b.start <= a.end;
            const memOverlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
            if (timeOverlap && memOverlap)
                return `buffers %${a.node}#${a.output} and %${b.node}#${b.output} overlap in time and memory`;
        }
    }
    return undefined;
}
