import { shapeEq, shapeText } from './sym.js';
export const tensorType = (dtype, shape) => ({ dtype, shape });
export function typeText(t) {
    return `${t.dtype}${shapeText(t.shape)}`;
}
export function typeEq(a, b) {
    return a.dtype === b.dtype && shapeEq(a.shape, b.shape);
}
/** Raised by a type rule; the verifier and the builder add the node that caused it. */
export class TypeRuleError extends Error {
    name = 'TypeRuleError';
}
