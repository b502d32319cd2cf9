import { BuildError } from './errors.js';
import { freezeGraph } from './graph.js';
import { add as addDim, sub as subDim, sym } from './sym.js';
import { inferTypes } from './typerules.js';
import { TypeRuleError } from './types.js';
import { verify } from './verify.js';
let builderSerial = 0;
/** A value under construction: a reference plus its type, tied to the builder that made it. */
export class Value {
    ref;
    type;
    owner;
    constructor(ref, type, 
    /** Identifies the graph the value belongs to, so a value cannot leak into another region by mistake. */
    owner) {
        this.ref = ref;
        this.type = type;
        this.owner = owner;
    }
    get shape() {
        return this.type.shape;
    }
    get dtype() {
        return this.type.dtype;
    }
}
function toDecls(spec) {
    if (Array.isArray(spec))
        return [...spec];
    return Object.entries(spec).map(([name, [lo, hi]]) => ({ name, min: lo, max: hi }));
}
export class GraphBuilder {
    name;
    isRegion;
    nodes = [];
    outs = [];
    prefix;
    serial = ++builderSerial;
    symbols;
    constructor(name, symbols = [], prefix = [], isRegion = false) {
        this.name = name;
        this.isRegion = isRegion;
        this.symbols = toDecls(symbols);
        this.prefix = [...prefix];
    }
    /** A declared symbol as a Dim. */
    sym(name) {
        if (!this.symbols.some((s) => s.name === name))
            throw new BuildError(`unknown symbol '${name}' in graph '${this.name}'`);
        return sym(name);
    }
    /** Runs f with `name` appended to the node-name prefix ('layers.3' then 'self_attn' -> 'layers.3.self_attn.q_proj'). */
    scope(name, f) {
        this.prefix.push(name);
        try {
            return f();
        }
        finally {
            this.prefix.pop();
        }
    }
    fullName(local) {
        return [...this.prefix, ...(local ? [local] : [])].join('.');
    }
    emit(op, inputs, attrs, local) {
        const name = this.fullName(local);
        for (const v of inputs) {
            if (v.owner !== this.serial)
                throw new BuildError(`${op}${name ? ` '${name}'` : ''}: operand ${v.ref.node} belongs to another graph (regions cannot capture outer values; pass them as weights or region inputs)`);
        }
        let outputs;
        try {
            outputs = inferTypes(op, inputs.map((v) => v.type), attrs);
        }
        catch (e) {
            if (e instanceof TypeRuleError)
                throw new BuildError(`${op}${name ? ` '${name}'` : ''}: ${e.message}`);
            throw e;
        }
        const id = this.nodes.length;
        const node = { id, op, name, inputs: inputs.map((v) => v.ref), attrs, outputs };
        this.nodes.push(asNode(node));
        return outputs.map((t, i) => new Value({ node: id, output: i }, t, this.serial));
    }
    one(op, inputs, attrs, local) {
        const [v] = this.emit(op, inputs, attrs, local);
        if (v === undefined)
            throw new BuildError(`${op} produced no value`);
        return v;
    }
    input(name, dtype, shape) {
        return this.one('input', [], { name, dtype, shape }, name);
    }
    /** A checkpoint tensor; `name` is the full checkpoint name and is not prefixed. */
    weight(name, dtype, shape) {
        const id = this.nodes.length;
        const outputs = [{ dtype, shape }];
        this.nodes.push({ id, op: 'weight', name, inputs: [], attrs: { name, dtype, shape }, outputs });
        return new Value({ node: id, output: 0 }, { dtype, shape }, this.serial);
    }
    full(value, dtype, shape, name) {
        return this.one('full', [], { value, dtype, shape }, name);
    }
    iota(length, name) {
        return this.one('iota', [], { length }, name);
    }
    embedding(table, ids, name) {
        return this.one('embedding', [table, ids], {}, name);
    }
    linear(x, w, bias, name) {
        return this.one('linear', bias ? [x, w, bias] : [x, w], {}, name);
    }
    matmul(a, b, opts = {}, name) {
        return this.one('matmul', [a, b], { transposeA: opts.transposeA ?? false, transposeB: opts.transposeB ?? false }, name);
    }
    unary(fn, x, name) {
        return this.one('unary', [x], { fn }, name);
    }
    binary(fn, a, b, name) {
        return this.one('binary', [a, b], { fn }, name);
    }
    add(a, b, name) {
        return this.binary('add', a, b, name);
    }
    mul(a, b, name) {
        return this.binary('mul', a, b, name);
    }
    compare(fn, a, b, name) {
        return this.one('compare', [a, b], { fn }, name);
    }
    logical(fn, a, b, name) {
        return this.one('logical', [a, b], { fn }, name);
    }
    where(cond, a, b, name) {
        return this.one('where', [cond, a, b], {}, name);
    }
    cast(x, to, name) {
        return x.dtype === to ? x : this.one('cast', [x], { to }, name);
    }
    reduce(fn, x, axes, keepDims = false, name) {
        return this.one('reduce', [x], { fn, axes, keepDims }, name);
    }
    rmsnorm(x, w, eps, name) {
        return this.one('rmsnorm', [x, w], { eps }, name);
    }
    layernorm(x, w, b, eps, name) {
        return this.one('layernorm', [x, w, b], { eps }, name);
    }
    softmax(x, axis = -1, name) {
        return this.one('softmax', [x], { axis }, name);
    }
    rope(x, positions, theta, rotaryDim, name) {
        const hd = x.shape[2];
        const rd = rotaryDim ?? (typeof hd === 'number' ? hd : 0);
        return this.one('rope', [x, positions], { theta, rotaryDim: rd }, name);
    }
    reshape(x, shape, name) {
        return this.one('reshape', [x], { shape }, name);
    }
    transpose(x, perm, name) {
        return this.one('transpose', [x], { perm }, name);
    }
    concat(xs, axis, name) {
        return this.one('concat', xs, { axis }, name);
    }
    slice(x, axis, start, end, name) {
        return this.one('slice', [x], { axis, start, end }, name);
    }
    attention(q, k, v, qPos, kPos, opts, name) {
        return this.one('attention', [q, k, v, qPos, kPos], { scale: opts.scale, causal: opts.causal ?? true }, name);
    }
    topk(scores, k, opts = {}, name) {
        return this.one('topk', opts.mask ? [scores, opts.mask] : [scores], { k, order: opts.order ?? 'score' }, name);
    }
    gatherRows(x, idx, name) {
        return this.one('gatherRows', [x, idx], {}, name);
    }
    scatterRows(base, idx, src, name) {
        return this.one('scatterRows', [base, idx, src], {}, name);
    }
    /**
     * A p-MoD routed layer. `body` builds the layer on the kept tokens inside a fresh region builder that
     * shares this graph's symbols and name prefix.
     */
    modRoute(x, positions, routable, routerWeight, routerBias, spec, body, name) {
        const [s, d] = x.shape;
        if (s === undefined || d === undefined)
            throw new BuildError(`modRoute '${this.fullName(name)}': hidden states must be [S, d], got rank ${x.shape.length}`);
        // K = S - N_v + k: every non-routable token plus the kept routable ones.
        const keptLen = addDim(subDim(s, spec.routableCount), spec.capacity);
        const rb = new GraphBuilder(`${this.fullName(name) || 'modRoute'}.body`, this.symbols, [...this.prefix, ...(name ? [name] : [])], true);
        const xk = rb.input('x_kept', x.dtype, [keptLen, d]);
        const pk = rb.input('positions_kept', 'i32', [keptLen]);
        const res = body(rb, xk, pk);
        rb.output('h1', res.h1);
        rb.output('u', res.u);
        for (const e of res.extras ?? [])
            rb.output(e.name, e.value);
        const region = rb.buildUnverified();
        const vs = this.emit('modRoute', [x, positions, routable, routerWeight, routerBias], { ...spec, body: region }, name);
        const [y, kept, ...extras] = vs;
        if (y === undefined || kept === undefined)
            throw new BuildError('modRoute produced too few values');
        return { y, kept, extras };
    }
    output(name, v) {
        if (v.owner !== this.serial)
            throw new BuildError(`output '${name}': value belongs to another graph`);
        if (this.outs.some((o) => o.name === name))
            throw new BuildError(`duplicate output name '${name}' in graph '${this.name}'`);
        this.outs.push({ name, value: v.ref });
    }
    buildUnverified() {
        return freezeGraph({ name: this.name, symbols: this.isRegion ? [] : this.symbols, nodes: [...this.nodes], outputs: [...this.outs] });
    }
    /** Freezes and verifies the graph. */
    build() {
        const g = this.buildUnverified();
        verify(g);
        return g;
    }
}
/** NodeOf<K> is a member of the Node union for every K; tsc cannot see that through a generic K. */
function asNode(n) {
    return n;
}
/** Builds a graph with the DSL: `buildGraph('tiny', { T: [1, 64] }, (b) => { ... })`. */
export function buildGraph(name, symbols, f) {
    const b = new GraphBuilder(name, symbols);
    f(b);
    return b.build();
}
