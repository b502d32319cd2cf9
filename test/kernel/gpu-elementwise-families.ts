/**
 * The GPU elementwise kernels and copies (src/kernel/builders/gpu/elementwise.ts) against their CPU counterparts
 * (src/kernel/builders/elementwise.ts, reduce.ts) or host formulas on the Wasm KernelRunner. Outputs are larger
 * than what the kernels write and start as a sentinel, so writes past the end show up as differences.
 */
import type { HostArray, KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { numberToBf16Bits, numberToF16Bits } from '../../src/ir/index.js';
import {
  gpuBatchedMatmulGrid, gpuBatchedMatmulKernel, gpuCopy2dGrid, gpuCopy2dKernel, gpuElementwiseGrid, gpuElementwiseKernel, gpuFillGrid, gpuFillKernel,
  gpuRowCopyGrid, gpuRowCopyKernel, type ThreadSchedule,
} from '../../src/kernel/builders/gpu/elementwise.js';
import { copy2dGrid, copy2dKernel, type ElementwiseSpec, elementwiseGrid, elementwiseKernel, rowCopyGrid, rowCopyKernel } from '../../src/kernel/builders/elementwise.js';
import { batchedMatmulKernel } from '../../src/kernel/builders/reduce.js';
import type { ElemType } from '../../src/kernel/index.js';
import { type Comparison, Data, out, runCopy } from './gpu-compare.js';

const SPARE = 5;

/** A host array of `n + SPARE` elements of `elem` (16-bit types as bits), filled with a sentinel. */
function sentinel(elem: ElemType, n: number): HostArray {
  const len = n + SPARE;
  if (elem === 'f32') return new Float32Array(len).fill(7);
  if (elem === 'f16' || elem === 'bf16') return new Uint16Array(len).fill(0x4000);
  if (elem === 'u32') return new Uint32Array(len).fill(7);
  if (elem === 'u8') return new Uint8Array(len).fill(7);
  return new Int32Array(len).fill(7);
}

export interface ElementwiseCase {
  readonly spec: ElementwiseSpec;
  /** Input data by buffer name (long enough for every offset and stride). */
  readonly inputs: Readonly<Record<string, HostArray>>;
  readonly schedule: ThreadSchedule;
}

export function compareElementwise(runner: KernelRunner, c: ElementwiseCase): Comparison[] {
  const n = c.spec.shape.reduce((a, b) => a * b, 1);
  const bufs = { ...c.inputs, out: sentinel(c.spec.out, n) };
  const got = runCopy(runner, gpuElementwiseKernel(c.spec, c.schedule), bufs, { n }, gpuElementwiseGrid(c.spec, n, c.schedule));
  const want = runCopy(runner, elementwiseKernel(c.spec), bufs, { n }, elementwiseGrid(n));
  return [{ what: `elementwise ${c.spec.name} [${c.spec.shape.join(', ')}] ${c.schedule.threads}${c.schedule.vector ? ' vector' : ''}`, got: out(got), want: out(want), compare: { abs: 0, rel: 0 } }];
}

export interface RowCopyCase {
  readonly rows: number;
  readonly width: number;
  readonly srcRows: number;
  readonly mode: 'gather' | 'scatter';
  /** Rows whose index is made invalid (outside [0, srcRows)). */
  readonly badRows: readonly number[];
  readonly schedule: ThreadSchedule;
  readonly seed: number;
}

export function compareRowCopy(runner: KernelRunner, c: RowCopyCase): Comparison[] {
  const data = new Data(c.seed);
  // Scatter targets are distinct (a scatter to one row twice has no defined order).
  const index = c.mode === 'gather' ? data.rows(c.rows, c.srcRows) : Int32Array.from(shuffle(data, c.srcRows).slice(0, c.rows));
  c.badRows.forEach((r, i) => (index[r % c.rows] = i % 2 === 0 ? -1 : c.srcRows + r));
  const srcLen = (c.mode === 'gather' ? c.srcRows : c.rows) * c.width;
  const outRows = c.mode === 'gather' ? c.rows : c.srcRows;
  const bufs = { src: data.normal(srcLen), index, out: sentinel('f32', outRows * c.width), status: new Int32Array(1) };
  const grid = gpuRowCopyGrid(c.rows, c.width, c.schedule);
  const got = runCopy(runner, gpuRowCopyKernel({ name: 'rows_gpu', width: c.width, mode: c.mode, srcRows: c.srcRows, statusCode: 3 }, c.schedule), bufs, { rows: c.rows }, [grid[0] + 1, 1, 1]);
  const want = runCopy(runner, rowCopyKernel({ name: 'rows_cpu', width: c.width, mode: c.mode, srcRows: c.srcRows, statusCode: 3 }), bufs, { rows: c.rows }, rowCopyGrid(c.rows, c.width));
  const tag = `row ${c.mode} ${c.rows}x${c.width} of ${c.srcRows} bad [${c.badRows.join(',')}] ${c.schedule.threads}${c.schedule.vector ? ' vector' : ''}`;
  return [
    { what: `${tag} out`, got: out(got), want: out(want), compare: 'exact' },
    { what: `${tag} status`, got: out(got, 'status'), want: out(want, 'status'), compare: 'exact' },
  ];
}

function shuffle(data: Data, n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = data.rng.int(i + 1);
    [a[i], a[j]] = [a[j] ?? 0, a[i] ?? 0];
  }
  return a;
}

/** Fill against the host formula (the CPU fillKernel only handles f32 constants and i32 iota). */
export function compareFill(runner: KernelRunner, c: { readonly n: number; readonly elem: ElemType; readonly value: number | 'iota'; readonly schedule: ThreadSchedule }): Comparison[] {
  const grid = gpuFillGrid(c.n, c.elem, c.value, c.schedule);
  const got = runCopy(runner, gpuFillKernel('fill_gpu', c.elem, c.value, c.schedule), { out: sentinel(c.elem, c.n) }, { n: c.n }, [grid[0] + 1, 1, 1]);
  const want = sentinel(c.elem, c.n);
  const bits = c.elem === 'f16' ? numberToF16Bits : c.elem === 'bf16' ? numberToBf16Bits : (x: number): number => x;
  for (let i = 0; i < c.n; i++) want[i] = bits(c.value === 'iota' ? i : c.value);
  return [{ what: `fill ${c.elem} ${c.value} n ${c.n} ${c.schedule.threads}${c.schedule.vector ? ' vector' : ''}`, got: out(got), want, compare: 'exact' }];
}

export interface Copy2dCase {
  readonly rows: number;
  readonly inRow: number;
  readonly outRow: number;
  readonly offset: number;
  readonly elem: 'f32' | 'i32' | 'f16';
  readonly schedule: ThreadSchedule;
  readonly seed: number;
}

export function compareCopy2d(runner: KernelRunner, c: Copy2dCase): Comparison[] {
  const data = new Data(c.seed);
  const n = c.rows * c.inRow;
  const x: HostArray = c.elem === 'f32' ? data.normal(n) : c.elem === 'i32' ? data.ints(n, -100000, 100000) : Uint16Array.from(data.normal(n), numberToF16Bits);
  const bufs = { x, out: sentinel(c.elem, c.rows * c.outRow) };
  const got = runCopy(runner, gpuCopy2dKernel('copy_gpu', c.rows, c.inRow, c.outRow, c.offset, c.elem, c.schedule), bufs, {}, gpuCopy2dGrid(c.rows, c.inRow, c.outRow, c.offset, c.elem, c.schedule));
  const want = runCopy(runner, copy2dKernel('copy_cpu', c.rows, c.inRow, c.outRow, c.offset, c.elem), bufs, {}, copy2dGrid(c.rows, c.inRow));
  return [{ what: `copy2d ${c.elem} ${c.rows}x${c.inRow} into ${c.outRow} at ${c.offset} ${c.schedule.threads}${c.schedule.vector ? ' vector' : ''}`, got: out(got), want: out(want), compare: 'exact' }];
}

export interface BmmCase {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  /** Batch offsets into a and b in units of one matrix (broadcast when repeated). */
  readonly aBatches: readonly number[];
  readonly bBatches: readonly number[];
  /** Indices of a set to +inf (non-finite results must match the f64 formula's). */
  readonly infs?: readonly number[];
  readonly threads: number;
  readonly seed: number;
}

export function compareBatchedMatmul(runner: KernelRunner, c: BmmCase): Comparison[] {
  const data = new Data(c.seed);
  const { m, k, n } = c;
  const batches = c.aBatches.length;
  const a = data.normal((Math.max(...c.aBatches) + 1) * m * k);
  const b = data.normal((Math.max(...c.bBatches) + 1) * k * n);
  for (const i of c.infs ?? []) a[i % a.length] = Number.POSITIVE_INFINITY;
  const aStrides: [number, number] = c.transposeA ? [1, m] : [k, 1];
  const bStrides: [number, number] = c.transposeB ? [1, k] : [n, 1];
  const bufs = {
    a, b,
    aBatch: Int32Array.from(c.aBatches, (x) => x * m * k),
    bBatch: Int32Array.from(c.bBatches, (x) => x * k * n),
    out: sentinel('f32', batches * m * n),
  };
  const s = { kind: 'thread', threads: c.threads, vector: false } as const;
  const got = runCopy(runner, gpuBatchedMatmulKernel(m, k, n, aStrides, bStrides, batches, s), bufs, {}, gpuBatchedMatmulGrid(m, n, batches, s));
  const want = runCopy(runner, batchedMatmulKernel(m, k, n, aStrides, bStrides), bufs, {}, [m, batches, 1]);
  // Both round (nearly) the exact dot product once.
  return [{ what: `bmm ${m}x${k}x${n} ${c.transposeA ? 'T' : 'N'}${c.transposeB ? 'T' : 'N'} batches ${batches} threads ${c.threads}`, got: out(got), want: out(want), compare: { abs: 1e-6, rel: 1e-6 } }];
}
