/** Tensor types (dtype + symbolic shape) and the error type raised by type rules. */
import type { DType } from './dtype.js';
import { type Dim, shapeEq, shapeText } from './sym.js';

export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly Dim[];
}

export const tensorType = (dtype: DType, shape: readonly Dim[]): TensorType => ({ dtype, shape });

export function typeText(t: TensorType): string {
  return `${t.dtype}${shapeText(t.shape)}`;
}

export function typeEq(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && shapeEq(a.shape, b.shape);
}

/** Raised by a type rule; the verifier and the builder add the node that caused it. */
export class TypeRuleError extends Error {
  override name = 'TypeRuleError';
}
