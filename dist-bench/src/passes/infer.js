/**
 * Shape/dtype inference and symbolic simplification: re-canonicalises every dim in attributes and re-derives
 * every output type from the type rules, so graphs from the parser or from hand edits get exact types.
 */
import { ATTR_SCHEMA, dimEq, substDim } from '../ir/index.js';
import { rewrite } from './rewrite.js';
/** A node's attributes with every dim rewritten by f (the schema says which are dims); the same object if unchanged. */
export function mapAttrDims(n, f) {
    const schema = ATTR_SCHEMA[n.op];
    const attrs = { ...n.attrs };
    let changed = false;
    for (const [k, kind] of Object.entries(schema)) {
        if (kind === 'dim') {
            const d = attrs[k];
            const nd = f(d);
            if (!dimEq(d, nd)) {
                attrs[k] = nd;
                changed = true;
            }
        }
        else if (kind === 'dims') {
            const ds = attrs[k];
            const nds = ds.map(f);
            if (nds.some((d, i) => !dimEq(d, ds[i] ?? d))) {
                attrs[k] = nds;
                changed = true;
            }
        }
    }
    return changed ? attrs : n.attrs;
}
/** Re-derives every type with dims substituted by `env` (an empty env canonicalises only); recurses into regions. */
export function retype(g, env) {
    return rewrite(g, (n, rw) => {
        let attrs = mapAttrDims(n, (d) => substDim(d, env));
        if (n.op === 'modRoute') {
            const body = retype(n.attrs.body, env);
            if (body !== n.attrs.body)
                attrs = { ...attrs, body };
        }
        rw.retype(n, attrs);
    });
}
export const inferTypesPass = {
    name: 'infer-types',
    description: 'recompute every output type from the type rules and canonicalise symbolic dims',
    run: (g) => retype(g, {}),
};
