/**
 * The backends the conformance suite runs on: every entry of the backend registry (src/backends/registry.ts),
 * with the cases it skips (with the reason) and its tolerances per dtype. The reference interpreter is the
 * oracle for every entry.
 */
import { referenceExecutor } from '../../src/backends/reference/index.js';
import { BACKENDS as REGISTRY } from '../../src/backends/registry.js';
import { wasmExecutor } from '../../src/backends/wasm/index.js';
import type { DType, HostTensor } from '../../src/ir/index.js';
import type { Executor } from '../../src/runtime/executor.js';

export interface Tolerance {
  readonly abs: number;
  readonly rel: number;
}

export interface BackendEntry {
  readonly name: string;
  readonly create: () => Executor;
  /** case name -> why it is skipped on this backend. */
  readonly skip: Readonly<Record<string, string>>;
  /** Tolerance for results that the backend computes in a different order than the reference (matmul, attention). */
  readonly reordered: Readonly<Record<DType, Tolerance>>;
}

const EXACT: Tolerance = { abs: 0, rel: 0 };
const F32_REORDERED: Tolerance = { abs: 1e-5, rel: 1e-5 };
/** One unit in the last place of f16 / bf16: a reordered f32 sum may round to the neighbouring value. */
const F16_REORDERED: Tolerance = { abs: 1e-3, rel: 2 ** -10 };
const BF16_REORDERED: Tolerance = { abs: 1e-2, rel: 2 ** -7 };

export const BACKENDS: readonly BackendEntry[] = [
  {
    name: 'reference',
    create: referenceExecutor,
    skip: {},
    reordered: { f32: EXACT, f16: EXACT, bf16: EXACT, i32: EXACT, u32: EXACT, bool: EXACT },
  },
  {
    name: 'wasm',
    create: () => wasmExecutor({ threads: 2 }),
    skip: {
      'scatterRows rejects duplicate targets': 'the wasm scatter kernel does not detect duplicate row indices (rows are written in parallel)',
    },
    reordered: { f32: F32_REORDERED, f16: F16_REORDERED, bf16: BF16_REORDERED, i32: EXACT, u32: EXACT, bool: EXACT },
  },
];

// Every registered backend has an entry here (a new backend must state its skips and tolerances).
const missing = REGISTRY.map((b) => b.name).filter((n) => !BACKENDS.some((e) => e.name === n));
if (missing.length) throw new Error(`test/backends/backends.ts has no entry for registered backend(s) ${missing.join(', ')}`);

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
