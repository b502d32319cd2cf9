/**
 * The stable, diffable text form of a graph. Nodes are renumbered densely per graph, one node per line, attributes
 * in schema order, the source name as a trailing `# name`. `parseGraph` reads it back to an identical graph.
 */
import { exprText } from './expr.js';
import { ATTR_SCHEMA } from './ops.js';
import { dimText, shapeText } from './sym.js';
import { typeText } from './types.js';
/** Number text that Number() reads back exactly; non-finite values print as inf / -inf / nan. */
export function numberText(n) {
    if (Number.isNaN(n))
        return 'nan';
    if (n === Number.POSITIVE_INFINITY)
        return 'inf';
    if (n === Number.NEGATIVE_INFINITY)
        return '-inf';
    if (Object.is(n, -0))
        return '-0';
    return String(n);
}
export function attrText(kind, v) {
    if (typeof kind === 'object')
        return String(v);
    switch (kind) {
        case 'int':
        case 'float':
            return numberText(v);
        case 'bool':
        case 'dtype':
            return String(v);
        case 'string':
            return JSON.stringify(v);
        case 'dim':
            return dimText(v);
        case 'dims':
            return shapeText(v);
        case 'ints':
            return `[${v.join(', ')}]`;
        case 'expr':
            return exprText(v);
        case 'region':
            return '<region>';
    }
}
function printGraphBody(g, indent, lines) {
    const renum = new Map();
    g.nodes.forEach((n, i) => renum.set(n.id, i));
    const ref = (r) => {
        const id = renum.get(r.node);
        const base = id === undefined ? `%?${r.node}` : `%${id}`;
        return r.output === 0 ? base : `${base}#${r.output}`;
    };
    for (const n of g.nodes) {
        lines.push(`${indent}${nodeLine(n, ref, renum)}`);
        if (n.op === 'modRoute') {
            lines.push(`${indent}{`);
            printGraphBody(n.attrs.body, `${indent}  `, lines);
            lines.push(`${indent}}`);
        }
    }
    const outs = g.outputs.map((o) => `${JSON.stringify(o.name)} = ${ref(o.value)}`);
    lines.push(`${indent}return ${outs.join(', ')}`);
}
function nodeLine(n, ref, renum) {
    const id = `%${renum.get(n.id) ?? n.id}`;
    const types = n.outputs.length === 1 && n.outputs[0] ? typeText(n.outputs[0]) : `(${n.outputs.map(typeText).join(', ')})`;
    const name = n.name ? `  # ${n.name}` : '';
    if (n.op === 'input' || n.op === 'weight') {
        // Their dtype and shape are the result type; only the binding name is an attribute worth printing.
        const tail = n.name === n.attrs.name ? '' : name;
        return `${id} = ${n.op} ${JSON.stringify(n.attrs.name)} : ${types}${tail}`;
    }
    const parts = attrParts(n);
    const args = `(${n.inputs.map(ref).join(', ')})`;
    const attrPart = parts.length ? ` {${parts.join(', ')}}` : '';
    return `${id} = ${n.op}${args}${attrPart} : ${types}${name}`;
}
/** `key = value` texts of a node's attributes in schema order (regions are printed as blocks, not here). */
export function attrParts(n) {
    const schema = ATTR_SCHEMA[n.op];
    const attrs = n.attrs;
    return Object.entries(schema)
        .filter(([, kind]) => kind !== 'region')
        .map(([k, kind]) => `${k} = ${attrText(kind, attrs[k])}`);
}
export function printGraph(g) {
    const syms = g.symbols.map((s) => `${s.name}: [${s.min}, ${s.max}]`).join(', ');
    const lines = [`graph ${JSON.stringify(g.name)}(${syms}) {`];
    printGraphBody(g, '  ', lines);
    lines.push('}');
    return `${lines.join('\n')}\n`;
}
