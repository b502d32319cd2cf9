/** The function enums of the elementwise, compare, logical, reduce and top-k ops. */
export const UNARY_FNS = [
    'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'recip', 'tanh', 'sigmoid', 'relu',
    'silu', 'gelu_tanh', 'gelu_erf', 'quick_gelu', 'sin', 'cos', 'square',
];
export const BINARY_FNS = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'];
export const COMPARE_FNS = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'];
export const LOGICAL_FNS = ['and', 'or', 'xor'];
export const REDUCE_FNS = ['sum', 'mean', 'max', 'min'];
export const TOPK_ORDERS = ['score', 'index'];
