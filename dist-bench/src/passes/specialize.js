/**
 * PRD capacity specialisation: binds symbols (N_v, and optionally T) to numbers, which turns every capacity
 * k_l = floor(N_v * R_l) into a constant and every dim that only depends on bound symbols into a number. One
 * specialised graph per binding, cached by key.
 */
import { produce } from 'immer';
import { retype } from './infer.js';
import { PassError } from './pass.js';
export function specializeGraph(g, bindings) {
    for (const [name, v] of Object.entries(bindings)) {
        const decl = g.symbols.find((s) => s.name === name);
        if (decl === undefined)
            throw new PassError(`cannot bind '${name}': graph '${g.name}' declares ${g.symbols.map((s) => s.name).join(', ') || 'no symbols'}`);
        if (!Number.isInteger(v) || v < decl.min || v > decl.max)
            throw new PassError(`cannot bind ${name} = ${v}: outside its bounds [${decl.min}, ${decl.max}]`);
    }
    const typed = retype(g, bindings);
    return produce(typed, (draft) => {
        draft.symbols = typed.symbols.filter((s) => bindings[s.name] === undefined);
    });
}
const cache = new WeakMap();
/** specializeGraph with a cache keyed by the source graph (by identity) and the bindings. */
export function specializeCached(g, bindings) {
    const k = JSON.stringify(Object.entries(bindings).sort(([a], [b]) => (a < b ? -1 : 1)));
    let m = cache.get(g);
    if (m === undefined) {
        m = new Map();
        cache.set(g, m);
    }
    const hit = m.get(k);
    if (hit)
        return hit;
    const s = specializeGraph(g, bindings);
    m.set(k, s);
    return s;
}
export function specializePass(bindings) {
    const text = Object.entries(bindings).map(([k, v]) => `${k}=${v}`).join(', ');
    return { name: 'specialize', description: `bind ${text || 'no symbols'}: capacities k_l become constants`, run: (g) => specializeCached(g, bindings) };
}
