/**
 * Tolerances and the comparison of a backend's results with the reference: shared by the Node suites and the
 * browser pages (no Node modules here).
 */
import type { HostTensor } from '../../src/ir/index.js';

export interface Tolerance {
  readonly abs: number;
  readonly rel: number;
}

export const EXACT: Tolerance = { abs: 0, rel: 0 };
export const F32_REORDERED: Tolerance = { abs: 1e-5, rel: 1e-5 };
/** One unit in the last place of f16 / bf16: a reordered f32 sum may round to the neighbouring value. */
export const F16_REORDERED: Tolerance = { abs: 1e-3, rel: 2 ** -10 };
export const BF16_REORDERED: Tolerance = { abs: 1e-2, rel: 2 ** -7 };

/** Compares a backend result with the reference: same dtype and shape, values within tolerance (NaN == NaN). */
export function mismatch(got: HostTensor | undefined, want: HostTensor | undefined, tol: Tolerance): string | undefined {
  if (got === undefined || want === undefined) return `missing tensor (got ${got !== undefined}, want ${want !== undefined})`;
  if (got.dtype !== want.dtype) return `dtype ${got.dtype} vs ${want.dtype}`;
  if (got.shape.join(',') !== want.shape.join(',')) return `shape [${got.shape.join(', ')}] vs [${want.shape.join(', ')}]`;
  for (let i = 0; i < want.data.length; i++) {
    const [a, b] = [got.data[i] ?? Number.NaN, want.data[i] ?? Number.NaN];
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a === b) continue;
    if (!(Math.abs(a - b) <= tol.abs + tol.rel * Math.abs(b))) return `element ${i}: ${a} vs ${b} (tolerance abs ${tol.abs}, rel ${tol.rel})`;
  }
  return undefined;
}
