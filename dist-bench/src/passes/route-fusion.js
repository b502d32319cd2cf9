import { refKey, rewrite } from './rewrite.js';
function inlineRoute(n, rw) {
    const [x, pos, routable, rw0, rb0] = n.inputs.map((r) => rw.map(r));
    if (!x || !pos || !routable || !rw0 || !rb0)
        throw new Error(`modRoute %${n.id} has fewer than 5 inputs`);
    const { capacity, routableCount, ratio, alpha, bias } = n.attrs;
    const [xKept, posKept, rowMap, gate, kept] = rw.emit('fusedRoute', [x, pos, routable, rw0, rb0], { capacity, routableCount, ratio, alpha, bias }, n.name);
    if (!xKept || !posKept || !rowMap || !gate || !kept)
        throw new Error('fusedRoute must have 5 outputs');
    const body = fuseRoutes(n.attrs.body);
    const local = new Map();
    const params = body.nodes.filter((b) => b.op === 'input');
    const [px, pp] = params;
    if (px)
        local.set(refKey({ node: px.id, output: 0 }), xKept);
    if (pp)
        local.set(refKey({ node: pp.id, output: 0 }), posKept);
    const get = (r) => {
        const v = local.get(refKey(r));
        if (v === undefined)
            throw new Error(`modRoute %${n.id} body value %${r.node}#${r.output} is undefined while inlining`);
        return v;
    };
    for (const b of body.nodes) {
        if (b.op === 'input')
            continue;
        const outs = rw.emit(b.op, b.inputs.map(get), b.attrs, b.name);
        outs.forEach((r, i) => local.set(refKey({ node: b.id, output: i }), r));
    }
    const [h1, u, ...extras] = body.outputs.map((o) => get(o.value));
    if (!h1 || !u)
        throw new Error(`modRoute %${n.id} body yields fewer than 2 values`);
    const y = rw.emit1('stringCombine', [x, h1, u, rowMap, gate, routable], {}, `${n.name}.combine`);
    rw.alias({ node: n.id, output: 0 }, y);
    rw.alias({ node: n.id, output: 1 }, kept);
    extras.forEach((e, i) => rw.alias({ node: n.id, output: 2 + i }, e));
}
export function fuseRoutes(g) {
    if (!g.nodes.some((n) => n.op === 'modRoute'))
        return g;
    return rewrite(g, (n, rw) => {
        if (n.op === 'modRoute')
            inlineRoute(n, rw);
        else
            rw.keep(n);
    });
}
export const routeFusionPass = {
    name: 'fuse-route',
    description: 'modRoute regions -> fused route op (router + TanhNorm + top-k + gather), inlined body, STRing combine',
    run: fuseRoutes,
};
