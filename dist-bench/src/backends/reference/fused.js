/** Reference meaning of the fused elementwise and fused linear ops, defined by composing the unfused kernels. */
import { fusedLinearLayout, isFloat, sizeOf } from '../../ir/index.js';
import { arg, linearData, outShape, rmsnormData, tensor } from './kernels.js';
import { forEachBroadcast } from './layout.js';
import { stringCombineData } from './route.js';
import { BINARY, UNARY } from '../../ir/index.js';
/** Compiles an elementwise expression to a closure over operand values (float64 math). */
export function compileExpr(e) {
    switch (e.k) {
        case 'arg': {
            const i = e.i;
            return (v) => v[i] ?? 0;
        }
        case 'const': {
            const c = e.v;
            return () => c;
        }
        case 'un': {
            const f = UNARY[e.fn];
            const a = compileExpr(e.a);
            return (v) => f(a(v));
        }
        case 'bin': {
            const f = BINARY[e.fn];
            const [a, b] = [compileExpr(e.a), compileExpr(e.b)];
            return (v) => f(a(v), b(v));
        }
    }
}
export function fusedLinearReference(ins, a, ctx) {
    const layout = fusedLinearLayout(a);
    const x = arg(ins, 0, ctx);
    const w = arg(ins, 1, ctx);
    if (!isFloat(x.dtype))
        ctx.fail('fusedLinear input must be a float type');
    const xn = layout.norm >= 0 ? { dtype: x.dtype, shape: x.shape, data: rmsnormData(x, arg(ins, layout.norm, ctx), a.eps) } : x;
    const accShape = [...x.shape.slice(0, -1), w.shape[0] ?? 0];
    const acc = linearData(xn, w);
    // Epilogue: $0 is the accumulator, $1.. the epilogue operands broadcast to the accumulator's shape.
    const f = compileExpr(a.epilogue);
    const operands = [{ dtype: x.dtype, shape: accShape, data: acc }, ...Array.from({ length: a.epilogueArgs }, (_, i) => arg(ins, layout.epilogue + i, ctx))];
    const u = new Float32Array(sizeOf(accShape));
    const vals = new Array(operands.length).fill(0);
    forEachBroadcast(accShape, operands.map((t) => t.shape), (o, idx) => {
        for (let k = 0; k < operands.length; k++)
            vals[k] = operands[k]?.data[idx[k] ?? 0] ?? 0;
        u[o] = f(vals);
    });
    if (a.combine === 'none')
        return [tensor(x.dtype, outShape(ctx), u)];
    const [xFull, h1, rowMap, gate, routable] = [0, 1, 2, 3, 4].map((i) => arg(ins, layout.combine + i, ctx));
    return [tensor(x.dtype, xFull.shape, stringCombineData(xFull, h1.data, u, rowMap.data, gate.data, routable.data, ctx.fail))];
}
