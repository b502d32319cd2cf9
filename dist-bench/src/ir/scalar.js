const SQRT_PI = Math.sqrt(Math.PI);
/** erf to about 1e-13 absolute: Taylor series near 0, continued fraction for erfc in the tails. */
export function erf(x) {
    const a = Math.abs(x);
    if (Number.isNaN(x))
        return Number.NaN;
    if (a < 3) {
        let term = x;
        let sum = x;
        const x2 = x * x;
        for (let n = 1; n < 80; n++) {
            term *= -x2 / n;
            const t = term / (2 * n + 1);
            sum += t;
            if (Math.abs(t) < 1e-17 * Math.abs(sum))
                break;
        }
        return (2 / SQRT_PI) * sum;
    }
    if (a > 6)
        return Math.sign(x);
    let t = a;
    for (let n = 60; n >= 1; n--)
        t = a + n / 2 / t;
    const erfc = Math.exp(-a * a) / (SQRT_PI * t);
    return Math.sign(x) * (1 - erfc);
}
const GELU_C = Math.sqrt(2 / Math.PI);
export const UNARY = {
    neg: (x) => -x,
    abs: Math.abs,
    exp: Math.exp,
    log: Math.log,
    sqrt: Math.sqrt,
    rsqrt: (x) => 1 / Math.sqrt(x),
    recip: (x) => 1 / x,
    tanh: Math.tanh,
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    relu: (x) => (x > 0 ? x : 0),
    silu: (x) => x / (1 + Math.exp(-x)),
    gelu_tanh: (x) => 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x))),
    gelu_erf: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
    quick_gelu: (x) => x / (1 + Math.exp(-1.702 * x)),
    sin: Math.sin,
    cos: Math.cos,
    square: (x) => x * x,
};
export const BINARY = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)),
    min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)),
    pow: (a, b) => a ** b,
};
/** Integer results of binary ops wrap like 32-bit machine arithmetic; division truncates toward zero. */
export const BINARY_INT = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => Math.imul(a, b),
    div: (a, b) => (b === 0 ? 0 : Math.trunc(a / b)),
    max: Math.max,
    min: Math.min,
    pow: (a, b) => Math.trunc(a ** b),
};
export const COMPARE = {
    lt: (a, b) => a < b,
    le: (a, b) => a <= b,
    gt: (a, b) => a > b,
    ge: (a, b) => a >= b,
    eq: (a, b) => a === b,
    ne: (a, b) => a !== b,
};
export const LOGICAL = {
    and: (a, b) => a && b,
    or: (a, b) => a || b,
    xor: (a, b) => a !== b,
};
/** Evaluates an elementwise expression on scalar operands (float64). */
export function evalExpr(e, args) {
    switch (e.k) {
        case 'arg':
            return args[e.i] ?? Number.NaN;
        case 'const':
            return e.v;
        case 'un':
            return UNARY[e.fn](evalExpr(e.a, args));
        case 'bin':
            return BINARY[e.fn](evalExpr(e.a, args), evalExpr(e.b, args));
    }
}
