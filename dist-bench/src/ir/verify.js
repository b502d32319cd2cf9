/**
 * The verifier: checks that a graph is well formed and well typed. It re-runs every type rule, so a pass that
 * leaves a stale type, a dangling reference or an out-of-scope symbol fails right after the pass that did it.
 */
import { isDType } from './dtype.js';
import { VerifyError } from './errors.js';
import { isExpr } from './expr.js';
import { describeNode, refText } from './graph.js';
import { ATTR_SCHEMA, isOpKind } from './ops.js';
import { dimSymbols, dimText, evalDim } from './sym.js';
import { inferTypes } from './typerules.js';
import { typeEq, TypeRuleError, typeText } from './types.js';
function isDim(v) {
    if (typeof v === 'number')
        return Number.isInteger(v);
    return typeof v === 'object' && v !== null && 'k' in v;
}
function attrOk(kind, v) {
    if (typeof kind === 'object')
        return typeof v === 'string' && kind.enum.includes(v);
    switch (kind) {
        case 'int':
            return typeof v === 'number' && Number.isInteger(v);
        case 'float':
            return typeof v === 'number';
        case 'bool':
            return typeof v === 'boolean';
        case 'string':
            return typeof v === 'string';
        case 'dtype':
            return typeof v === 'string' && isDType(v);
        case 'dim':
            return isDim(v);
        case 'dims':
            return Array.isArray(v) && v.every(isDim);
        case 'ints':
            return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x));
        case 'expr':
            return isExpr(v);
        case 'region':
            return typeof v === 'object' && v !== null && 'nodes' in v && 'outputs' in v;
    }
}
/** Evaluates a dim at every corner of the symbols' bounds (the symbols it mentions only). */
function corners(d, scope) {
    const names = new Set();
    for (const x of d)
        dimSymbols(x, names);
    let envs = [{}];
    for (const n of names) {
        const decl = scope.get(n);
        if (!decl)
            continue;
        const vals = decl.min === decl.max ? [decl.min] : [decl.min, decl.max];
        envs = envs.flatMap((e) => vals.map((v) => ({ ...e, [n]: v })));
    }
    return envs;
}
class Checker {
    scope;
    problems = [];
    constructor(scope) {
        this.scope = scope;
    }
    report(where, msg) {
        this.problems.push(`${where}: ${msg}`);
    }
    checkDims(where, dims, what) {
        for (const d of dims) {
            for (const s of dimSymbols(d)) {
                if (!this.scope.has(s))
                    this.report(where, `${what} uses unknown symbol '${s}' (declared: ${[...this.scope.keys()].join(', ') || 'none'})`);
            }
        }
        for (const env of corners(dims, this.scope)) {
            for (const d of dims) {
                let v;
                try {
                    v = evalDim(d, env);
                }
                catch {
                    continue; // unknown symbol, reported above
                }
                if (v < 0) {
                    this.report(where, `${what} dim ${dimText(d)} is negative (${v}) at ${JSON.stringify(env)}`);
                    return;
                }
            }
        }
    }
    graph(g, path) {
        const types = new Map();
        const inputNames = new Set();
        for (const n of g.nodes) {
            const where = `${path}${describeNode(n)}`;
            if (types.has(n.id)) {
                this.report(where, `duplicate node id %${n.id}`);
                continue;
            }
            if (!isOpKind(n.op)) {
                this.report(where, `unknown op '${String(n.op)}'`);
                continue;
            }
            if (!this.attrs(n, where)) {
                types.set(n.id, n.outputs);
                continue;
            }
            const ins = [];
            let inputsOk = true;
            for (const [i, r] of n.inputs.entries()) {
                const t = this.resolve(types, r);
                if (t === undefined) {
                    this.report(where, `input ${i} ${refText(r)} is not defined before this node`);
                    inputsOk = false;
                }
                else
                    ins.push(t);
            }
            types.set(n.id, n.outputs);
            if (n.op === 'input') {
                if (inputNames.has(n.attrs.name))
                    this.report(where, `duplicate input name '${n.attrs.name}'`);
                inputNames.add(n.attrs.name);
            }
            n.outputs.forEach((t, i) => this.checkDims(where, t.shape, `output ${i}`));
            if (!inputsOk)
                continue;
            this.typeCheck(n, ins, where);
            if (n.op === 'modRoute')
                this.modRoute(n, where, path);
            if (n.op === 'fusedRoute')
                this.capacityFits(n.attrs.capacity, n.attrs.routableCount, where);
        }
        const outNames = new Set();
        for (const o of g.outputs) {
            if (outNames.has(o.name))
                this.report(`${path}graph '${g.name}'`, `duplicate output name '${o.name}'`);
            outNames.add(o.name);
            if (this.resolve(types, o.value) === undefined)
                this.report(`${path}graph '${g.name}'`, `output '${o.name}' refers to undefined value ${refText(o.value)}`);
        }
    }
    resolve(types, r) {
        return types.get(r.node)?.[r.output];
    }
    attrs(n, where) {
        const schema = ATTR_SCHEMA[n.op];
        const attrs = n.attrs;
        let ok = true;
        for (const [k, kind] of Object.entries(schema)) {
            if (!(k in attrs)) {
                this.report(where, `missing attribute '${k}'`);
                ok = false;
            }
            else if (!attrOk(kind, attrs[k])) {
                this.report(where, `attribute '${k}' is not a valid ${typeof kind === 'object' ? `one of ${kind.enum.join('|')}` : kind}: ${JSON.stringify(attrs[k])}`);
                ok = false;
            }
        }
        for (const k of Object.keys(attrs)) {
            if (!(k in schema)) {
                this.report(where, `unexpected attribute '${k}'`);
                ok = false;
            }
        }
        return ok;
    }
    typeCheck(n, ins, where) {
        let inferred;
        try {
            inferred = inferTypes(n.op, ins, n.attrs);
        }
        catch (e) {
            if (e instanceof TypeRuleError) {
                this.report(where, e.message);
                return;
            }
            throw e;
        }
        if (inferred.length !== n.outputs.length) {
            this.report(where, `declares ${n.outputs.length} outputs but its type rule gives ${inferred.length}`);
            return;
        }
        inferred.forEach((t, i) => {
            const declared = n.outputs[i];
            if (declared && !typeEq(t, declared))
                this.report(where, `output ${i} declared ${typeText(declared)} but inferred ${typeText(t)}`);
        });
    }
    modRoute(n, where, path) {
        const { body } = n.attrs;
        this.capacityFits(n.attrs.capacity, n.attrs.routableCount, where);
        if (body.symbols.length !== 0)
            this.report(where, 'region body must not declare symbols (it inherits its parent scope)');
        this.graph(body, `${path}${where} > body > `);
    }
    capacityFits(capacity, routableCount, where) {
        this.checkDims(where, [capacity, routableCount], 'capacity/routableCount');
        for (const env of corners([capacity, routableCount], this.scope)) {
            let k;
            let nv;
            try {
                k = evalDim(capacity, env);
                nv = evalDim(routableCount, env);
            }
            catch {
                continue;
            }
            if (k > nv) {
                this.report(where, `capacity ${dimText(capacity)} = ${k} exceeds the routable token count ${dimText(routableCount)} = ${nv}${Object.keys(env).length ? ` at ${JSON.stringify(env)}` : ''}`);
                break;
            }
        }
    }
}
export function symbolScope(symbols) {
    return new Map(symbols.map((s) => [s.name, s]));
}
/** Returns every problem found, as messages naming the node; empty when the graph is well formed. */
export function verifyGraph(g) {
    const c = new Checker(symbolScope(g.symbols));
    const seen = new Set();
    for (const s of g.symbols) {
        if (seen.has(s.name))
            c.problems.push(`graph '${g.name}': duplicate symbol '${s.name}'`);
        seen.add(s.name);
        if (!Number.isInteger(s.min) || !Number.isInteger(s.max) || s.min < 0 || s.min > s.max)
            c.problems.push(`graph '${g.name}': symbol '${s.name}' has invalid bounds [${s.min}, ${s.max}]`);
    }
    c.graph(g, '');
    return c.problems;
}
/** Throws a VerifyError listing every problem. */
export function verify(g) {
    const problems = verifyGraph(g);
    if (problems.length > 0) {
        const shown = problems.slice(0, 20);
        const more = problems.length > shown.length ? `\n  ... and ${problems.length - shown.length} more` : '';
        throw new VerifyError(`graph '${g.name}' is malformed:\n  ${shown.join('\n  ')}${more}`);
    }
}
