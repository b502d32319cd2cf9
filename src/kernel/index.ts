/**
 * The loop-level Kernel IR shared by every backend (node type, constructors, verifier, kernel programs) and the
 * parameterised kernel builders (matmul, attention, p-MoD route / STRing combine, reductions, elementwise).
 */
export * from './ir.js';
export * as k from './dsl.js';
export { checkKernel, KernelError, verifyKernel } from './verify.js';
export * from './program.js';
export * from './renderer.js';
export * from './builders/matmul.js';
export * from './builders/attention.js';
export * from './builders/route.js';
export * from './builders/reduce.js';
export * from './builders/elementwise.js';
export { exprText, kernelText } from './print.js';
export * from './target.js';
export * from './rewrite.js';
