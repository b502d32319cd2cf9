import { BINARY_FNS, COMPARE_FNS, LOGICAL_FNS, REDUCE_FNS, TOPK_ORDERS, UNARY_FNS } from './ops-fns.js';
export * from './ops-fns.js';
export const NORM_KINDS = ['none', 'rmsnorm'];
export const COMBINE_KINDS = ['none', 'string'];
/** Schema of every attribute of every op: drives the printer, the parser and the verifier's attr checks. */
export const ATTR_SCHEMA = {
    input: { name: 'string', dtype: 'dtype', shape: 'dims' },
    weight: { name: 'string', dtype: 'dtype', shape: 'dims' },
    full: { value: 'float', dtype: 'dtype', shape: 'dims' },
    iota: { length: 'dim' },
    embedding: {},
    linear: {},
    matmul: { transposeA: 'bool', transposeB: 'bool' },
    unary: { fn: { enum: UNARY_FNS } },
    binary: { fn: { enum: BINARY_FNS } },
    compare: { fn: { enum: COMPARE_FNS } },
    logical: { fn: { enum: LOGICAL_FNS } },
    where: {},
    cast: { to: 'dtype' },
    reduce: { fn: { enum: REDUCE_FNS }, axes: 'ints', keepDims: 'bool' },
    rmsnorm: { eps: 'float' },
    layernorm: { eps: 'float' },
    softmax: { axis: 'int' },
    rope: { theta: 'float', rotaryDim: 'int' },
    reshape: { shape: 'dims' },
    transpose: { perm: 'ints' },
    concat: { axis: 'int' },
    slice: { axis: 'int', start: 'dim', end: 'dim' },
    attention: { scale: 'float', causal: 'bool' },
    topk: { k: 'dim', order: { enum: TOPK_ORDERS } },
    gatherRows: {},
    scatterRows: {},
    modRoute: {
        capacity: 'dim',
        routableCount: 'dim',
        ratio: 'float',
        alpha: 'float',
        bias: 'float',
        body: 'region',
    },
    fusedRoute: { capacity: 'dim', routableCount: 'dim', ratio: 'float', alpha: 'float', bias: 'float' },
    stringCombine: {},
    fusedElementwise: { expr: 'expr' },
    fusedLinear: { norm: { enum: NORM_KINDS }, eps: 'float', epilogue: 'expr', epilogueArgs: 'int', combine: { enum: COMBINE_KINDS } },
};
/** Ops that only reinterpret their input's memory: no kernel, no buffer of their own. */
export const VIEW_OPS = new Set(['reshape']);
export const OP_KINDS = Object.keys(ATTR_SCHEMA);
export function isOpKind(s) {
    return Object.prototype.hasOwnProperty.call(ATTR_SCHEMA, s);
}
