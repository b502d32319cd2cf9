/**
 * Elementwise expressions: the small language of fused elementwise ops and matmul epilogues. `$i` is operand i
 * (in a matmul epilogue `$0` is the accumulator); constants are float literals. Printed in call form,
 * `mul(silu($0), $1)`, and parsed back by `parseExpr`.
 */
import { BINARY_FNS, UNARY_FNS } from './ops-fns.js';
export const arg = (i) => ({ k: 'arg', i });
export const lit = (v) => ({ k: 'const', v });
export const un = (fn, a) => ({ k: 'un', fn, a });
export const bin = (fn, a, b) => ({ k: 'bin', fn, a, b });
/** Highest operand index used, plus one. */
export function exprArity(e) {
    switch (e.k) {
        case 'arg':
            return e.i + 1;
        case 'const':
            return 0;
        case 'un':
            return exprArity(e.a);
        case 'bin':
            return Math.max(exprArity(e.a), exprArity(e.b));
    }
}
/** Number of operations (not counting leaves): a size measure for fusion limits and tests. */
export function exprSize(e) {
    switch (e.k) {
        case 'arg':
        case 'const':
            return 0;
        case 'un':
            return 1 + exprSize(e.a);
        case 'bin':
            return 1 + exprSize(e.a) + exprSize(e.b);
    }
}
/** Replaces each `$i` by subs[i]. */
export function substExpr(e, subs) {
    switch (e.k) {
        case 'arg': {
            const s = subs[e.i];
            if (s === undefined)
                throw new RangeError(`expression uses $${e.i} but only ${subs.length} substitutions were given`);
            return s;
        }
        case 'const':
            return e;
        case 'un':
            return un(e.fn, substExpr(e.a, subs));
        case 'bin':
            return bin(e.fn, substExpr(e.a, subs), substExpr(e.b, subs));
    }
}
function constText(v) {
    if (Number.isNaN(v))
        return 'nan';
    if (v === Number.POSITIVE_INFINITY)
        return 'inf';
    if (v === Number.NEGATIVE_INFINITY)
        return '-inf';
    const s = String(v);
    return /[.e]|inf|nan/.test(s) ? s : `${s}.0`;
}
export function exprText(e) {
    switch (e.k) {
        case 'arg':
            return `$${e.i}`;
        case 'const':
            return constText(e.v);
        case 'un':
            return `${e.fn}(${exprText(e.a)})`;
        case 'bin':
            return `${e.fn}(${exprText(e.a)}, ${exprText(e.b)})`;
    }
}
export class ExprParseError extends Error {
    name = 'ExprParseError';
}
/** Parses `exprText` output; returns the expression and the number of characters consumed. */
export function parseExprPrefix(src, start = 0) {
    let pos = start;
    const ws = () => {
        while (pos < src.length && /\s/.test(src[pos] ?? ''))
            pos++;
    };
    const fail = (msg) => {
        throw new ExprParseError(`cannot parse expression at offset ${pos}: ${msg}`);
    };
    const node = () => {
        ws();
        if (src[pos] === '$') {
            pos++;
            const m = /^\d+/.exec(src.slice(pos));
            if (!m)
                return fail('expected an operand index after $');
            pos += m[0].length;
            return arg(Number(m[0]));
        }
        const num = /^(-?inf|nan|-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?)/.exec(src.slice(pos));
        if (num) {
            pos += num[0].length;
            const t = num[0];
            return lit(t === 'inf' ? Number.POSITIVE_INFINITY : t === '-inf' ? Number.NEGATIVE_INFINITY : t === 'nan' ? Number.NaN : Number(t));
        }
        const id = /^[a-z_]+/.exec(src.slice(pos));
        if (!id)
            return fail('expected $i, a number or a function');
        pos += id[0].length;
        ws();
        if (src[pos] !== '(')
            return fail(`expected '(' after ${id[0]}`);
        pos++;
        const a = node();
        ws();
        const name = id[0];
        if (UNARY_FNS.includes(name)) {
            if (src[pos] !== ')')
                return fail(`expected ')' closing ${name}`);
            pos++;
            return un(name, a);
        }
        if (BINARY_FNS.includes(name)) {
            if (src[pos] !== ',')
                return fail(`expected ',' in ${name}`);
            pos++;
            const b = node();
            ws();
            if (src[pos] !== ')')
                return fail(`expected ')' closing ${name}`);
            pos++;
            return bin(name, a, b);
        }
        return fail(`unknown function '${name}'`);
    };
    const expr = node();
    return { expr, end: pos };
}
export function parseExpr(src) {
    const { expr, end } = parseExprPrefix(src);
    if (src.slice(end).trim() !== '')
        throw new ExprParseError(`unexpected text after expression: '${src.slice(end)}'`);
    return expr;
}
export function isExpr(v) {
    if (typeof v !== 'object' || v === null || !('k' in v))
        return false;
    const e = v;
    switch (e.k) {
        case 'arg':
            return typeof e.i === 'number' && Number.isInteger(e.i) && e.i >= 0;
        case 'const':
            return typeof e.v === 'number';
        case 'un':
            return typeof e.fn === 'string' && UNARY_FNS.includes(e.fn) && isExpr(e.a);
        case 'bin':
            return typeof e.fn === 'string' && BINARY_FNS.includes(e.fn) && isExpr(e.a) && isExpr(e.b);
        default:
            return false;
    }
}
