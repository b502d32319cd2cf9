/**
 * The GPU row kernels (src/kernel/builders/gpu/rows.ts) against their CPU counterparts (src/kernel/builders/
 * reduce.ts) on the Wasm KernelRunner, for given shapes: one function per kernel, returning comparisons.
 */
import type { HostArray, KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { gpuInvRmsKernel, gpuLayernormKernel, gpuReduceKernel, gpuRmsnormKernel, gpuRopeGrid, gpuRopeKernel, gpuRowGrid, gpuSoftmaxKernel } from '../../src/kernel/builders/gpu/rows.js';
import { invRmsKernel, layernormKernel, type ReduceKind, reduceKernel, rmsnormKernel, ropeInvFreq, ropeKernel, rowGrid, softmaxKernel } from '../../src/kernel/builders/reduce.js';
import { type Comparison, Data, out, runCopy, storedWeight, type WeightElem } from './gpu-compare.js';

/** f32 results of f32 kernels: a few ulp apart at most (the CPU builders compute in f64). */
export const F32_TOL = { abs: 1e-6, rel: 1e-5 } as const;

/** Rows gathered on the host: the CPU reference of a gathered GPU kernel. */
function gatherRows(x: Float32Array, idx: Int32Array, d: number): Float32Array {
  const outRows = new Float32Array(idx.length * d);
  idx.forEach((r, i) => outRows.set(x.subarray(r * d, r * d + d), i * d));
  return outRows;
}

/** Extra workgroups past the last row (a grid sized for a capacity) must write nothing: outputs have room for
 * their rows, initialised with a sentinel both kernels must leave alone. */
const SPARE_GROUPS = 2;
const spareGrid = (rows: number): [number, number, number] => [gpuRowGrid(rows)[0] + SPARE_GROUPS, 1, 1];

export interface NormCase {
  readonly rows: number;
  readonly d: number;
  readonly threads: number;
  readonly wElem: WeightElem;
  readonly gather: boolean;
  readonly seed: number;
}

export function compareRmsnorm(runner: KernelRunner, c: NormCase): Comparison[] {
  const data = new Data(c.seed);
  const eps = 1e-5;
  const srcRows = c.gather ? c.rows + 3 : c.rows;
  const x = data.normal(srcRows * c.d, 2);
  const idx = c.gather ? data.rows(c.rows, srcRows) : new Int32Array(0);
  const w = storedWeight(data.normal(c.d, 0.5, 1), c.wElem);
  const sentinel = new Float32Array((c.rows + SPARE_GROUPS) * c.d).fill(7);
  const gpuBufs: Record<string, HostArray> = { x, w: w.stored, out: sentinel };
  if (c.gather) gpuBufs.xRows = idx;
  const got = runCopy(runner, gpuRmsnormKernel(c.d, eps, { kind: 'workgroup', threads: c.threads }, { wElem: c.wElem, gather: c.gather }), gpuBufs, { rows: c.rows }, spareGrid(c.rows));
  const cpuX = c.gather ? gatherRows(x, idx, c.d) : x;
  const want = runCopy(runner, rmsnormKernel(c.d, eps), { x: cpuX, w: w.widened, out: sentinel }, { rows: c.rows }, rowGrid(c.rows));
  const gotInv = runCopy(runner, gpuInvRmsKernel(c.d, eps, { kind: 'workgroup', threads: c.threads }, { gather: c.gather }), { ...gpuBufs, out: new Float32Array(c.rows + SPARE_GROUPS).fill(7) }, { rows: c.rows }, spareGrid(c.rows));
  const wantInv = runCopy(runner, invRmsKernel(c.d, eps), { x: cpuX, out: new Float32Array(c.rows + SPARE_GROUPS).fill(7) }, { rows: c.rows }, rowGrid(c.rows));
  const tag = `rows ${c.rows} d ${c.d} threads ${c.threads} w ${c.wElem}${c.gather ? ' gathered' : ''}`;
  return [
    { what: `rmsnorm ${tag}`, got: out(got), want: out(want), compare: F32_TOL },
    { what: `inverse rms ${tag}`, got: out(gotInv), want: out(wantInv), compare: F32_TOL },
  ];
}

export function compareLayernorm(runner: KernelRunner, c: Omit<NormCase, 'gather'> & { readonly bElem: WeightElem; readonly shift: number }): Comparison[] {
  const data = new Data(c.seed);
  const eps = 1e-5;
  const x = data.normal(c.rows * c.d, 1.5, c.shift);
  const w = storedWeight(data.normal(c.d, 0.3, 1), c.wElem);
  const b = storedWeight(data.normal(c.d, 0.2), c.bElem);
  const sentinel = new Float32Array((c.rows + SPARE_GROUPS) * c.d).fill(7);
  const got = runCopy(runner, gpuLayernormKernel(c.d, eps, { kind: 'workgroup', threads: c.threads }, { wElem: c.wElem, bElem: c.bElem }), { x, w: w.stored, b: b.stored, out: sentinel }, { rows: c.rows }, spareGrid(c.rows));
  const want = runCopy(runner, layernormKernel(c.d, eps), { x, w: w.widened, b: b.widened, out: sentinel }, { rows: c.rows }, rowGrid(c.rows));
  return [{ what: `layernorm rows ${c.rows} d ${c.d} threads ${c.threads} w ${c.wElem} b ${c.bElem} shift ${c.shift}`, got: out(got), want: out(want), compare: F32_TOL }];
}

export interface SoftmaxCase {
  readonly outer: number;
  readonly len: number;
  readonly stride: number;
  readonly threads: number;
  /** Indices set to NaN / -inf (a row with one NaN is all NaN; -inf entries get probability 0). */
  readonly nans?: readonly number[];
  readonly negInfs?: readonly number[];
  readonly seed: number;
}

export function compareSoftmax(runner: KernelRunner, c: SoftmaxCase): Comparison[] {
  const data = new Data(c.seed);
  const n = c.outer * c.len * c.stride;
  const x = data.normal(n, 3);
  for (const i of c.nans ?? []) x[i % n] = Number.NaN;
  for (const i of c.negInfs ?? []) x[i % n] = Number.NEGATIVE_INFINITY;
  const rows = c.outer * c.stride;
  const sentinel = new Float32Array(n + SPARE_GROUPS * c.len * c.stride).fill(7);
  const got = runCopy(runner, gpuSoftmaxKernel(c.len, c.stride, { kind: 'workgroup', threads: c.threads }), { x, out: sentinel }, { rows }, spareGrid(rows));
  const want = runCopy(runner, softmaxKernel(c.len, c.stride), { x, out: sentinel }, { rows }, rowGrid(rows));
  return [{ what: `softmax ${c.outer}x${c.len}x${c.stride} threads ${c.threads}`, got: out(got), want: out(want), compare: F32_TOL }];
}

export interface ReduceCase {
  readonly shape: readonly number[];
  readonly reduced: readonly boolean[];
  readonly fn: ReduceKind;
  readonly elem: 'f32' | 'i32';
  readonly threads: number;
  readonly nans?: readonly number[];
  /**
   * f32 data that cancels: pairs +-A (A up to 1e8) at random places of each reduced line plus small values in the other fifth, so
   * the sum is small and a plain f32 sum is off by whole units while a compensated one stays within an ulp.
   * Needs the reduced axes to be the trailing ones.
   */
  readonly cancelling?: boolean;
  readonly seed: number;
}

/** Cancelling pairs within each line of `line` consecutive elements (the reduced axes are the trailing ones). */
function cancellingData(data: Data, n: number, line: number): Float32Array {
  const x = data.normal(n, 0.5);
  for (let l0 = 0; l0 + line <= n; l0 += line) {
    const order = Array.from({ length: line }, (_, i) => l0 + i).sort(() => data.rng.next() - 0.5);
    for (let p = 0; p + 1 < line * 0.8; p += 2) {
      const big = Math.fround(1e8 * (0.5 + data.rng.next()));
      x[order[p] ?? 0] = big;
      x[order[p + 1] ?? 0] = -big;
    }
  }
  return x;
}

export function compareReduce(runner: KernelRunner, c: ReduceCase): Comparison[] {
  const data = new Data(c.seed);
  const n = c.shape.reduce((a, b) => a * b, 1);
  const rows = c.shape.reduce((a, s, i) => (c.reduced[i] ? a : a * s), 1);
  const x: HostArray = c.elem === 'i32' ? data.ints(n, -1000, 1000) : c.cancelling ? cancellingData(data, n, n / rows) : data.normal(n, 10);
  if (x instanceof Float32Array) for (const i of c.nans ?? []) x[i % n] = Number.NaN;
  const outArr = (): HostArray => (c.elem === 'f32' ? new Float32Array(rows + SPARE_GROUPS).fill(7) : new Int32Array(rows + SPARE_GROUPS).fill(7));
  const got = runCopy(runner, gpuReduceKernel(c.shape, c.reduced, c.fn, c.elem, { kind: 'workgroup', threads: c.threads }), { x, out: outArr() }, { rows }, spareGrid(rows));
  const want = runCopy(runner, reduceKernel(c.shape, c.reduced, c.fn, c.elem), { x, out: outArr() }, { rows }, rowGrid(rows));
  // max / min pick an input element (exact); f32 sums are compensated (within an ulp of the f64 sum).
  const compare = c.fn === 'max' || c.fn === 'min' || c.elem === 'i32' ? 'exact' : { abs: 1e-5, rel: 2e-7 };
  return [{ what: `reduce ${c.fn} ${c.elem} [${c.shape.join(', ')}] over [${c.reduced.map(Number).join('')}] threads ${c.threads}`, got: out(got), want: out(want), compare }];
}

export interface RopeCase {
  readonly tokens: number;
  readonly heads: number;
  readonly d: number;
  readonly rotaryDim: number;
  readonly threads: number;
  readonly maxPos: number;
  readonly seed: number;
}

export function compareRope(runner: KernelRunner, c: RopeCase): Comparison[] {
  const data = new Data(c.seed);
  const x = data.normal(c.tokens * c.heads * c.d, 2);
  const pos = data.ints(c.tokens, 0, c.maxPos);
  const invFreq = ropeInvFreq(10000, c.rotaryDim);
  const sentinel = new Float32Array(x.length).fill(7);
  const s = { kind: 'workgroup', threads: c.threads } as const;
  const grid = gpuRopeGrid(c.tokens, c.heads, c.d, c.rotaryDim, s);
  const got = runCopy(runner, gpuRopeKernel(c.heads, c.d, c.rotaryDim, s), { x, pos, invFreq, out: sentinel }, { rows: c.tokens }, [grid[0] + 1, 1, 1]);
  const want = runCopy(runner, ropeKernel(c.heads, c.d, c.rotaryDim), { x, pos, invFreq, out: sentinel }, { rows: c.tokens }, rowGrid(c.tokens));
  // Both round the f64 rotation once (the GPU form from exact split products): a rounding boundary apart at most.
  return [{ what: `rope ${c.tokens}x${c.heads}x${c.d} rotary ${c.rotaryDim} threads ${c.threads}`, got: out(got), want: out(want), compare: { abs: 1e-7, rel: 1.2e-7 } }];
}
