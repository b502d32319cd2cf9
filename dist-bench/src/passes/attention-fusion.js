import { mapRegions, rewrite } from './rewrite.js';
const isHeadTranspose = (n) => n?.op === 'transpose' && n.attrs.perm.length === 3 && n.attrs.perm[0] === 1 && n.attrs.perm[1] === 0 && n.attrs.perm[2] === 2;
function matchAttention(out, byId) {
    const src = (r) => (r === undefined || r.output !== 0 ? undefined : byId.get(r.node));
    if (!isHeadTranspose(out))
        return undefined;
    const av = src(out.inputs[0]);
    if (av?.op !== 'matmul' || av.attrs.transposeA || av.attrs.transposeB)
        return undefined;
    const [pRef, vhRef] = av.inputs;
    const p = src(pRef);
    const vh = src(vhRef);
    if (p?.op !== 'softmax' || !isHeadTranspose(vh) || !(p.attrs.axis === -1 || p.attrs.axis === 2))
        return undefined;
    let s = src(p.inputs[0]);
    let mask;
    if (s?.op === 'where') {
        const [c, a, b] = s.inputs.map(src);
        if (b?.op !== 'full' || b.attrs.value !== Number.NEGATIVE_INFINITY || c?.op !== 'compare' || !a)
            return undefined;
        mask = causalMask(c, src);
        if (mask === undefined)
            return undefined;
        s = a;
    }
    let scale = 1;
    if (s?.op === 'binary' && s.attrs.fn === 'mul') {
        const [a, b] = s.inputs.map(src);
        const [prod, c] = b?.op === 'full' ? [a, b] : a?.op === 'full' ? [b, a] : [undefined, undefined];
        if (prod === undefined || c?.op !== 'full' || (c.outputs[0]?.shape.length ?? 1) !== 0)
            return undefined;
        scale = c.attrs.value;
        s = prod;
    }
    if (s?.op !== 'matmul' || s.attrs.transposeA || !s.attrs.transposeB)
        return undefined;
    const [qh, kh] = s.inputs.map(src);
    if (!isHeadTranspose(qh) || !isHeadTranspose(kh))
        return undefined;
    const [q, k, v] = [qh.inputs[0], kh.inputs[0], vh.inputs[0]];
    if (!q || !k || !v)
        return undefined;
    return { q, k, v, scale, ...(mask ? { mask } : {}) };
}
/** compare(le, kPos as [1, Sk], qPos as [Sq, 1]) or compare(ge, qPos as [Sq, 1], kPos as [1, Sk]). */
function causalMask(c, src) {
    const [a, b] = c.inputs.map(src);
    const vector = (n, rowFirst) => {
        if (n?.op !== 'reshape' || n.attrs.shape.length !== 2)
            return undefined;
        return (rowFirst ? n.attrs.shape[0] : n.attrs.shape[1]) === 1 ? n.inputs[0] : undefined;
    };
    if (c.attrs.fn === 'le') {
        const [kPos, qPos] = [vector(a, true), vector(b, false)];
        return kPos && qPos ? { qPos, kPos } : undefined;
    }
    if (c.attrs.fn === 'ge') {
        const [qPos, kPos] = [vector(a, false), vector(b, true)];
        return qPos && kPos ? { qPos, kPos } : undefined;
    }
    return undefined;
}
function emitAttention(m, out, rw) {
    const [q, k, v] = [m.q, m.k, m.v].map((r) => rw.map(r));
    let qPos;
    let kPos;
    if (m.mask) {
        qPos = rw.map(m.mask.qPos);
        kPos = rw.map(m.mask.kPos);
    }
    else {
        // Without a mask positions do not matter; the attention op still takes them.
        qPos = rw.emit1('iota', [], { length: rw.typeOf(q).shape[0] ?? 0 }, `${out.name}.q_positions`);
        kPos = rw.emit1('iota', [], { length: rw.typeOf(k).shape[0] ?? 0 }, `${out.name}.k_positions`);
    }
    return rw.emit1('attention', [q, k, v, qPos, kPos], { scale: m.scale, causal: m.mask !== undefined }, out.name);
}
export function fuseAttention(g) {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    const fused = rewrite(g, (n, rw) => {
        const m = matchAttention(n, byId);
        if (m === undefined) {
            rw.keep(n);
            return;
        }
        try {
            rw.alias({ node: n.id, output: 0 }, emitAttention(m, n, rw));
        }
        catch {
            // Shapes that the attention op does not accept (e.g. a head count mismatch) stay decomposed.
            rw.keep(n);
        }
    });
    return mapRegions(fused, fuseAttention);
}
export const attentionFusionPass = {
    name: 'fuse-attention',
    description: 'decomposed QK^T / scale / causal mask / softmax / AV -> one attention op',
    run: fuseAttention,
};
