/**
 * A linear layer seen as (RMSNorm prologue?, matmul, epilogue expression over the accumulator and operands,
 * STRing combine?): the common form that the epilogue and STRing fusions extend and emit as `fusedLinear`.
 */
import { arg, bin, fusedLinearLayout, un } from '../ir/index.js';
export const isLinear = (n) => n !== undefined && (n.op === 'linear' || (n.op === 'fusedLinear' && n.attrs.combine === 'none'));
/** The form of a linear / fusedLinear node, inputs renamed through the rewriter. */
export function linearForm(n, rw) {
    const ins = n.inputs.map((r) => rw.map(r));
    const [x, w] = ins;
    if (!x || !w)
        throw new Error(`${n.op} %${n.id} lacks its operands`);
    if (n.op === 'linear') {
        const bias = ins[2];
        return bias ? { x, w, epilogue: bin('add', arg(0), arg(1)), operands: [bias], name: n.name } : { x, w, epilogue: arg(0), operands: [], name: n.name };
    }
    const layout = fusedLinearLayout(n.attrs);
    const normW = layout.norm >= 0 ? ins[layout.norm] : undefined;
    return {
        x,
        w,
        ...(normW ? { norm: { weight: normW, eps: n.attrs.eps } } : {}),
        epilogue: n.attrs.epilogue,
        operands: ins.slice(layout.epilogue, layout.epilogue + n.attrs.epilogueArgs),
        name: n.name,
    };
}
/** Folds an RMSNorm producing x into the prologue (the norm is recomputed per consumer; DCE drops it when unused). */
export function withNormPrologue(f, byId, rw) {
    const src = byId.get(f.x.node);
    if (f.norm || src?.op !== 'rmsnorm')
        return f;
    const [h, weight] = src.inputs;
    if (!h || !weight)
        return f;
    return { ...f, x: rw.map(h), norm: { weight: rw.map(weight), eps: src.attrs.eps } };
}
/** Composes an elementwise consumer into the epilogue: `expr` is over the consumer's operands, `host` is the operand index of the linear. */
export function withEpilogue(f, expr, consumerOperands, host) {
    const operands = [...f.operands];
    const subs = consumerOperands.map((r, i) => {
        if (i === host)
            return f.epilogue;
        operands.push(r);
        return arg(operands.length);
    });
    const sub = (e) => {
        switch (e.k) {
            case 'arg':
                return subs[e.i] ?? e;
            case 'const':
                return e;
            case 'un':
                return un(e.fn, sub(e.a));
            case 'bin':
                return bin(e.fn, sub(e.a), sub(e.b));
        }
    };
    return { ...f, epilogue: sub(expr), operands };
}
/** The elementwise expression of a unary / binary / fusedElementwise node over its operands. */
export function elementwiseExpr(n) {
    if (n.op === 'unary')
        return un(n.attrs.fn, arg(0));
    if (n.op === 'binary')
        return bin(n.attrs.fn, arg(0), arg(1));
    if (n.op === 'fusedElementwise')
        return n.attrs.expr;
    return undefined;
}
export function emitLinear(f, rw) {
    const ins = [f.x, f.w, ...(f.norm ? [f.norm.weight] : []), ...f.operands];
    if (f.combine)
        ins.push(f.combine.xFull, f.combine.h1, f.combine.rowMap, f.combine.gate, f.combine.routable);
    return rw.emit1('fusedLinear', ins, { norm: f.norm ? 'rmsnorm' : 'none', eps: f.norm?.eps ?? 0, epilogue: f.epilogue, epilogueArgs: f.operands.length, combine: f.combine ? 'string' : 'none' }, f.name);
}
