/** The Graph IR: dtypes, symbolic dims, the op table, graphs, the builder DSL, verifier, printer and parser. */
export * from './dtype.js';
export * from './sym.js';
export * from './types.js';
export * from './ops.js';
export * from './graph.js';
export * from './typerules.js';
export * from './errors.js';
export * from './builder.js';
export * from './verify.js';
export * from './print.js';
export * from './parse.js';
export * from './half.js';
export * from './tensor.js';
export * from './expr.js';
export * from './scalar.js';
export * from './bind.js';
export * from './numerics.js';
