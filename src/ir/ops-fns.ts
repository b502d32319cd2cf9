/** The function enums of the elementwise, compare, logical, reduce and top-k ops. */

export const UNARY_FNS = [
  'neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'recip', 'tanh', 'sigmoid', 'relu',
  'silu', 'gelu_tanh', 'gelu_erf', 'quick_gelu', 'sin', 'cos', 'square',
] as const;
export type UnaryFn = (typeof UNARY_FNS)[number];

export const BINARY_FNS = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'] as const;
export type BinaryFn = (typeof BINARY_FNS)[number];

export const COMPARE_FNS = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;
export type CompareFn = (typeof COMPARE_FNS)[number];

export const LOGICAL_FNS = ['and', 'or', 'xor'] as const;
export type LogicalFn = (typeof LOGICAL_FNS)[number];

export const REDUCE_FNS = ['sum', 'mean', 'max', 'min'] as const;
export type ReduceFn = (typeof REDUCE_FNS)[number];

export const TOPK_ORDERS = ['score', 'index'] as const;
export type TopKOrder = (typeof TOPK_ORDERS)[number];
