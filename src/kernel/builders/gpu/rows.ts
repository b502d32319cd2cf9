/**
 * GPU row kernels (schedule `{ kind: 'workgroup', threads }`): one workgroup per row, thread t visiting elements
 * t, t + threads, ... and a fixed pairwise tree in workgroup memory meeting the partial results, all in f32.
 * Same buffers, params (`rows`) and meaning as the CPU builders of ../reduce.ts: RMSNorm (optionally of gathered
 * rows, weights stored f32 / f16 / bf16), inverse RMS, LayerNorm, softmax over a strided axis, general
 * reductions (NaN-propagating max / min, compensated sums) and RoPE (one invocation per rotated pair).
 */
import { add, assign, binary, block, cast, cmp, cnst, decl, div, f32, gid, global, i32, iff, lid, load, lt, max, mul, param, range, rem, select, shared, store, sub, unary, v } from '../../dsl.js';
import type { BufferDecl, ElemType, Kernel, KNode, WordType } from '../../ir.js';
import type { RowSchedule } from '../../target.js';
import type { ReduceKind } from '../reduce.js';
import { CompensatedSum, finiteOr, mergePairs, splitProduct, twoSum } from './accurate.js';
import { checkThreads, globalIndex, groupsFor, Names, sharedArray, treeReduce } from './workgroup.js';

export type WorkgroupRowSchedule = Extract<RowSchedule, { kind: 'workgroup' }>;
/** Storage types a norm weight or bias may have (checkpoint dtypes). */
export type WeightElem = Extract<ElemType, 'f32' | 'f16' | 'bf16'>;

/** One workgroup per row (the WebGPU renderer folds grids over 65535 workgroups into 2-D). */
export const gpuRowGrid = (rows: number): [number, number, number] => [Math.max(1, rows), 1, 1];

const ROW = 'row';
const LIVE = 'live';
const row = (): KNode => v(ROW);
const live = (): KNode => v(LIVE, 'bool');
const f = (name: string): KNode => v(name, 'f32');

/** The end of a thread's element loop: `len` in a live row, 0 past the last row (grid larger than `rows`). */
const rowEnd = (len: number): KNode => select(live(), i32(len), i32(0));

/** A row kernel: `row` = gid.x, `live` = row < rows; shared arrays (f32 unless typed) of one word per thread. */
function rowKernel(name: string, threads: number, buffers: readonly BufferDecl[], sharedArrays: readonly (string | readonly [string, WordType])[], body: KNode[]): Kernel {
  checkThreads(name, threads);
  return {
    name,
    buffers,
    params: [{ name: 'rows', type: 'i32' }],
    shared: sharedArrays.map((a) => (typeof a === 'string' ? sharedArray(a, threads) : sharedArray(a[0], threads, a[1]))),
    privates: [],
    threads,
    body: block(decl(ROW, gid(0)), decl(LIVE, lt(row(), param('rows'))), ...body),
  };
}

const plainSum = (a: readonly KNode[], b: readonly KNode[]): { stmts: KNode[]; out: KNode[] } => ({ stmts: [], out: [add(a[0] as KNode, b[0] as KNode)] });

/**
 * Sum over the row of x^2 in f32 (each thread sequentially over its elements, then the tree: every term is
 * positive, so the relative error stays below (d/threads + log2 threads) ulp), then 1/sqrt(mean + eps).
 */
function inverseRms(names: Names, threads: number, d: number, eps: number, xBase: KNode): KNode[] {
  const ss = names.fresh('ss');
  const xi = names.fresh('x');
  return [
    decl(ss, f32(0)),
    range('i', lid(0), rowEnd(d), [decl(xi, load(global('x'), add(xBase, v('i')))), assign(ss, add(f(ss), mul(f(xi), f(xi))))], threads),
    ...treeReduce(names, [{ name: 'red', type: 'f32' }], [f(ss)], threads, plainSum),
    decl('inv', div(f32(1), unary('sqrt', add(div(load(shared('red'), 0), f32(d)), f32(eps))))),
  ];
}

/** Base element of the x row this workgroup normalises: x[r] or, gathered, x[xRows[r]]. */
function xRowBase(gather: boolean, d: number): KNode[] {
  if (!gather) return [decl('xb', mul(row(), d))];
  return [decl('xr', i32(0)), iff(live(), assign('xr', load(global('xRows'), row(), 'i32'))), decl('xb', mul(v('xr'), d))];
}

export interface RmsnormOptions {
  /** Storage type of the weight `w` (default f32). */
  readonly wElem?: WeightElem;
  /** x rows come from x[xRows[r]] (gathered token rows); out stays compact. */
  readonly gather?: boolean;
}

/** Llama RMSNorm: inv = 1 / sqrt(mean(x^2) + eps) in f32, out = f32(x * inv) * w. Buffers x, [xRows], w, out. */
export function gpuRmsnormKernel(d: number, eps: number, s: WorkgroupRowSchedule, o: RmsnormOptions = {}): Kernel {
  const names = new Names();
  const gather = o.gather === true;
  const wElem = o.wElem ?? 'f32';
  const buffers: BufferDecl[] = [
    { name: 'x', elem: 'f32', access: 'read' },
    ...(gather ? [{ name: 'xRows', elem: 'i32' as const, access: 'read' as const }] : []),
    { name: 'w', elem: wElem, access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ];
  return rowKernel(`rmsnorm_${d}_${wElem}${gather ? '_g' : ''}_wg${s.threads}`, s.threads, buffers, ['red'], [
    ...xRowBase(gather, d),
    ...inverseRms(names, s.threads, d, eps, v('xb')),
    range('i', lid(0), rowEnd(d), store(global('out'), add(mul(row(), d), v('i')), mul(mul(load(global('x'), add(v('xb'), v('i'))), f('inv')), load(global('w'), v('i')))), s.threads),
  ]);
}

/** out[r] = 1 / sqrt(mean(x[r]^2) + eps) in f32 (the row scale of an RMSNorm prologue). Buffers x, [xRows], out. */
export function gpuInvRmsKernel(d: number, eps: number, s: WorkgroupRowSchedule, o: { readonly gather?: boolean } = {}): Kernel {
  const names = new Names();
  const gather = o.gather === true;
  const buffers: BufferDecl[] = [
    { name: 'x', elem: 'f32', access: 'read' },
    ...(gather ? [{ name: 'xRows', elem: 'i32' as const, access: 'read' as const }] : []),
    { name: 'out', elem: 'f32', access: 'write' },
  ];
  return rowKernel(`inv_rms_${d}${gather ? '_g' : ''}_wg${s.threads}`, s.threads, buffers, ['red'], [
    ...xRowBase(gather, d),
    ...inverseRms(names, s.threads, d, eps, v('xb')),
    iff(binary('and', live(), cmp('eq', lid(0), 0)), store(global('out'), row(), f('inv'))),
  ]);
}

/**
 * The row mean as meanHi + meanLo from the tree's (hi, lo) sum S: meanHi = f32(S / d), meanLo = (S - meanHi d) / d
 * with meanHi d as an exact split product.
 */
function meanPair(names: Names, d: number): KNode[] {
  const p = splitProduct(names, f('meanHi'), f32(d));
  return [
    decl('sumHi', load(shared('redHi'), 0)),
    decl('sumLo', load(shared('redLo'), 0)),
    decl('meanHi', div(add(f('sumHi'), f('sumLo')), f32(d))),
    ...p.stmts,
    decl('meanLo', finiteOr(div(add(sub(sub(f('sumHi'), p.lead), p.rest), f('sumLo')), f32(d)), f32(0))),
  ];
}

/**
 * LayerNorm: mean by compensated sums (threads, then the tree of (hi, lo) pairs), variance of the centred values
 * (positive terms, plain tree), out = (x - mean) * inv * w + b. Buffers x, w (wElem), b (bElem), out.
 */
export function gpuLayernormKernel(d: number, eps: number, s: WorkgroupRowSchedule, o: { readonly wElem?: WeightElem; readonly bElem?: WeightElem } = {}): Kernel {
  const names = new Names();
  const [wElem, bElem] = [o.wElem ?? 'f32', o.bElem ?? 'f32'];
  const acc = new CompensatedSum(names, 'mean');
  const x = (): KNode => load(global('x'), add(v('xb'), v('i')));
  const vs = names.fresh('var');
  const c = names.fresh('c');
  // x - mean with the mean as (hi, lo): x - hi is exact when x is near the mean (Sterbenz), so a row far from
  // zero keeps the accuracy of its centred values.
  const centred = (): KNode => sub(sub(x(), f('meanHi')), f('meanLo'));
  return rowKernel(`layernorm_${d}_${wElem}_${bElem}_wg${s.threads}`, s.threads, [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'w', elem: wElem, access: 'read' },
    { name: 'b', elem: bElem, access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], ['redHi', 'redLo', 'red'], [
    decl('xb', mul(row(), d)),
    ...acc.init(),
    range('i', lid(0), rowEnd(d), acc.add(x()), s.threads),
    ...treeReduce(names, [{ name: 'redHi', type: 'f32' }, { name: 'redLo', type: 'f32' }], [acc.hiVar, acc.loVar], s.threads, (a, b) => mergePairs(names, a, b)),
    ...meanPair(names, d),
    decl(vs, f32(0)),
    range('i', lid(0), rowEnd(d), [decl(c, centred()), assign(vs, add(f(vs), mul(f(c), f(c))))], s.threads),
    ...treeReduce(names, [{ name: 'red', type: 'f32' }], [f(vs)], s.threads, plainSum),
    decl('inv', div(f32(1), unary('sqrt', add(div(load(shared('red'), 0), f32(d)), f32(eps))))),
    range('i', lid(0), rowEnd(d), store(global('out'), add(v('xb'), v('i')), add(mul(mul(centred(), f('inv')), load(global('w'), v('i'))), load(global('b'), v('i')))), s.threads),
  ]);
}

/**
 * Softmax over an axis of `len` elements `stride` apart; rows = outer * stride lines (like softmaxKernel). The
 * maximum (NaN-propagating) and the sum of exponentials (positive terms) meet in two trees.
 */
export function gpuSoftmaxKernel(len: number, stride: number, s: WorkgroupRowSchedule): Kernel {
  const names = new Names();
  const at = (): KNode => add(v('base'), mul(v('i'), stride));
  const [m, sum] = [names.fresh('m'), names.fresh('sum')];
  return rowKernel(`softmax_${len}_${stride}_wg${s.threads}`, s.threads, [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], ['redMax', 'redSum'], [
    decl('base', add(mul(div(row(), stride), len * stride), rem(row(), stride))),
    decl(m, f32(Number.NEGATIVE_INFINITY)),
    range('i', lid(0), rowEnd(len), assign(m, max(f(m), load(global('x'), at()))), s.threads),
    ...treeReduce(names, [{ name: 'redMax', type: 'f32' }], [f(m)], s.threads, (a, b) => ({ stmts: [], out: [max(a[0] as KNode, b[0] as KNode)] })),
    decl('rmax', load(shared('redMax'), 0)),
    decl(sum, f32(0)),
    range('i', lid(0), rowEnd(len), assign(sum, add(f(sum), unary('exp', sub(load(global('x'), at()), f('rmax'))))), s.threads),
    ...treeReduce(names, [{ name: 'redSum', type: 'f32' }], [f(sum)], s.threads, plainSum),
    decl('total', load(shared('redSum'), 0)),
    range('i', lid(0), rowEnd(len), store(global('out'), at(), div(unary('exp', sub(load(global('x'), at()), f('rmax'))), f('total'))), s.threads),
  ]);
}

/** Consecutive dims with the same reduced flag merged, size-1 dims dropped: [size, stride] per dim. */
function mergedDims(shape: readonly number[], reduced: readonly boolean[], want: boolean): [number, number][] {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out: [number, number][] = [];
  let prevFlag: boolean | undefined;
  shape.forEach((size, i) => {
    if (size === 1) return;
    const flag = reduced[i] === true;
    const last = out[out.length - 1];
    // A dim adjacent to the previous one of the same kind continues it (row-major: contiguous).
    if (flag === want && prevFlag === want && last !== undefined) out[out.length - 1] = [last[0] * size, strides[i] ?? 1];
    else if (flag === want) out.push([size, strides[i] ?? 1]);
    prevFlag = flag;
  });
  return out;
}

/** Element offset of flat index `idx` decomposed over merged dims (row-major, the last dim fastest). */
function offsetOf(names: Names, idx: KNode, dims: readonly [number, number][]): { stmts: KNode[]; off: KNode } {
  if (dims.length === 0) return { stmts: [], off: i32(0) };
  if (dims.length === 1) return { stmts: [], off: mul(idx, (dims[0] as [number, number])[1]) };
  const [rest, off] = [names.fresh('rest'), names.fresh('off')];
  const stmts: KNode[] = [decl(rest, idx), decl(off, i32(0))];
  for (let k = dims.length - 1; k >= 0; k--) {
    const [size, stride] = dims[k] as [number, number];
    stmts.push(assign(off, add(v(off), mul(rem(v(rest), size), stride))), assign(rest, div(v(rest), size)));
  }
  return { stmts, off: v(off) };
}

/**
 * Reduces x over the axes where `reduced` is true, one workgroup per output (like reduceKernel). f32 sums and
 * means are compensated (each thread's (hi, lo) pair, then a tree of pairs): within about 1 ulp of the exact sum
 * unless it cancels below 2^-24 of the sum of magnitudes. max / min propagate NaN. i32 sums wrap on overflow.
 */
export function gpuReduceKernel(shape: readonly number[], reduced: readonly boolean[], fn: ReduceKind, elem: 'f32' | 'i32', s: WorkgroupRowSchedule): Kernel {
  const names = new Names();
  const kept = mergedDims(shape, reduced, false);
  const red = mergedDims(shape, reduced, true);
  const count = red.reduce((a, [size]) => a * size, 1);
  const ko = offsetOf(names, row(), kept);
  const jo = offsetOf(names, v('j'), red);
  const xAt = load(global('x'), add(v('koff'), jo.off), elem);
  const isNan = (e: KNode): KNode => cmp('ne', e, e);
  const pick = (acc: KNode, val: KNode): KNode =>
    elem === 'i32'
      ? select(cmp(fn === 'max' ? 'gt' : 'lt', val, acc), val, acc)
      : select(binary('or', cmp(fn === 'max' ? 'gt' : 'lt', val, acc), isNan(val)), val, acc);
  const name = `reduce_${fn}_${shape.join('x')}_${reduced.map(Number).join('')}_${elem}_wg${s.threads}`;
  const buffers: BufferDecl[] = [{ name: 'x', elem, access: 'read' }, { name: 'out', elem, access: 'write' }];
  const head = [...ko.stmts, decl('koff', ko.off)];
  const storeResult = (x: KNode): KNode => iff(binary('and', live(), cmp('eq', lid(0), 0)), store(global('out'), row(), x));
  const loop = (body: KNode[]): KNode => range('j', lid(0), rowEnd(count), [...jo.stmts, ...body], s.threads);
  if (fn === 'max' || fn === 'min') {
    const init = elem === 'i32' ? (fn === 'max' ? -2147483648 : 2147483647) : fn === 'max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    const acc = names.fresh('acc');
    return rowKernel(name, s.threads, buffers, [['red', elem]], [
      ...head,
      decl(acc, cnst(init, elem)),
      loop([assign(acc, pick(v(acc, elem), xAt))]),
      ...treeReduce(names, [{ name: 'red', type: elem }], [v(acc, elem)], s.threads, (a, b) => ({ stmts: [], out: [pick(a[0] as KNode, b[0] as KNode)] })),
      storeResult(load(shared('red'), 0, elem)),
    ]);
  }
  if (elem === 'i32') {
    const acc = names.fresh('acc');
    const total = load(shared('red'), 0, 'i32');
    return rowKernel(name, s.threads, buffers, [['red', 'i32']], [
      ...head,
      decl(acc, i32(0)),
      loop([assign(acc, add(v(acc), xAt))]),
      ...treeReduce(names, [{ name: 'red', type: 'i32' }], [v(acc)], s.threads, (a, b) => ({ stmts: [], out: [add(a[0] as KNode, b[0] as KNode)] })),
      storeResult(fn === 'mean' ? div(total, count) : total),
    ]);
  }
  const acc = new CompensatedSum(names, 'acc');
  const sum = add(load(shared('redHi'), 0), load(shared('redLo'), 0));
  return rowKernel(name, s.threads, buffers, ['redHi', 'redLo'], [
    ...head,
    ...acc.init(),
    loop(acc.add(xAt)),
    ...treeReduce(names, [{ name: 'redHi', type: 'f32' }, { name: 'redLo', type: 'f32' }], [acc.hiVar, acc.loVar], s.threads, (a, b) => mergePairs(names, a, b)),
    storeResult(fn === 'mean' ? div(sum, f32(count)) : sum),
  ]);
}

/** RoPE work items per (token, head): one per rotated pair, one per pass-through column. */
const ropeItems = (d: number, rotaryDim: number): number => rotaryDim / 2 + (d - rotaryDim);

/** Workgroups for RoPE over `rows` tokens of h heads. */
export const gpuRopeGrid = (rows: number, h: number, d: number, rotaryDim: number, s: WorkgroupRowSchedule): [number, number, number] =>
  groupsFor(rows * h * ropeItems(d, rotaryDim), s.threads);

/**
 * RoPE (rotate_half layout) on x [S, H, D] with positions, like ropeKernel: angle f32(p * invFreq[i]),
 * f32 cos / sin, and the rotation x1 c - x2 s, x2 c + x1 s from exact split products with a TwoSum (within an
 * ulp of the f64 rotation; non-finite inputs take the plain f32 formula). One invocation per (token, head, pair)
 * and per pass-through column. Buffers x, pos, invFreq, out; param rows = tokens.
 */
export function gpuRopeKernel(h: number, d: number, rotaryDim: number, s: WorkgroupRowSchedule): Kernel {
  const name = `rope_${h}x${d}_${rotaryDim}_wg${s.threads}`;
  checkThreads(name, s.threads);
  if (rotaryDim % 2 !== 0 || rotaryDim > d) throw new Error(`kernel '${name}': rotary dim ${rotaryDim} must be even and at most the head dim ${d}`);
  const names = new Names();
  const half = rotaryDim / 2;
  const per = ropeItems(d, rotaryDim);
  const rotation = (a: KNode, b: KNode, c: KNode, dd: KNode, sign: 1 | -1): { stmts: KNode[]; value: KNode } => {
    // a * b + sign * (c * dd), from split products.
    const p = splitProduct(names, a, b);
    const q = splitProduct(names, c, dd);
    const lead = sign === 1 ? q.lead : unary('neg', q.lead);
    const t = twoSum(names, p.lead, lead);
    const rest = sign === 1 ? add(p.rest, q.rest) : sub(p.rest, q.rest);
    const plain = sign === 1 ? add(mul(a, b), mul(c, dd)) : sub(mul(a, b), mul(c, dd));
    return { stmts: [...p.stmts, ...q.stmts, ...t.stmts], value: finiteOr(add(t.sum, add(rest, t.err)), plain) };
  };
  const r1 = rotation(f('x1'), f('cs'), f('x2'), f('sn'), -1);
  const r2 = rotation(f('x2'), f('cs'), f('x1'), f('sn'), 1);
  const body: KNode[] = [
    decl('e', globalIndex(s.threads)),
    iff(lt(v('e'), mul(param('rows'), h * per)), [
      decl('t', div(v('e'), h * per)),
      decl('hj', rem(v('e'), h * per)),
      decl('rowBase', mul(add(mul(v('t'), h), div(v('hj'), per)), d)),
      decl('j', rem(v('hj'), per)),
      iff(lt(v('j'), half), [
        decl('ang', mul(cast(load(global('pos'), v('t'), 'i32'), 'f32'), load(global('invFreq'), v('j')))),
        decl('cs', unary('cos', f('ang'))),
        decl('sn', unary('sin', f('ang'))),
        decl('o', add(v('rowBase'), v('j'))),
        decl('x1', load(global('x'), v('o'))),
        decl('x2', load(global('x'), add(v('o'), half))),
        ...r1.stmts,
        store(global('out'), v('o'), r1.value),
        ...r2.stmts,
        store(global('out'), add(v('o'), half), r2.value),
      ], [
        decl('oc', add(v('rowBase'), add(v('j'), rotaryDim - half))),
        store(global('out'), v('oc'), load(global('x'), v('oc'))),
      ]),
    ]),
  ];
  return {
    name,
    buffers: [
      { name: 'x', elem: 'f32', access: 'read' },
      { name: 'pos', elem: 'i32', access: 'read' },
      { name: 'invFreq', elem: 'f32', access: 'read' },
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'rows', type: 'i32' }],
    shared: [],
    privates: [],
    threads: s.threads,
    body: block(...body),
  };
}
