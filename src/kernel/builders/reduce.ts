/**
 * Row-wise kernels: RMSNorm, LayerNorm, softmax, general reductions, RoPE. They accumulate in float64 in the
 * reference interpreter's order (sequential over the reduced elements), so their results round identically;
 * a workgroup handles a block of rows.
 */
import { add, assign, block, cast, decl, div, gid, global, load, max as kmax, min, mul, param, range, store, sub, unary, v, binary, cmp, select } from '../dsl.js';
import type { ElemType, Kernel, KNode } from '../ir.js';

const f64 = (x: number): KNode => ({ op: 'const', type: 'f64', src: [], arg: x });
const toF64 = (x: KNode): KNode => cast(x, 'f64');
export const ROWS_PER_GROUP = 8;
export const rowGrid = (rows: number, per = ROWS_PER_GROUP): [number, number, number] => [Math.max(1, Math.ceil(rows / per)), 1, 1];

function rowKernel(name: string, buffers: Kernel['buffers'], perRow: (base: KNode) => KNode[], per = ROWS_PER_GROUP): Kernel {
  const r0 = mul(gid(0), per);
  return {
    name,
    buffers,
    params: [{ name: 'rows', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: range('r', r0, min(add(r0, per), param('rows')), perRow(v('r'))),
  };
}

const io = (extra: string[] = []): Kernel['buffers'] => [
  { name: 'x', elem: 'f32', access: 'read' },
  ...extra.map((n) => ({ name: n, elem: 'f32' as const, access: 'read' as const })),
  { name: 'out', elem: 'f32', access: 'write' },
];

export interface RmsnormOptions {
  /** Storage type of the norm weight (a checkpoint weight). */
  readonly wElem?: ElemType;
  /** Row r of x is x[xRows[r]] (the kept tokens of a route, read in place). */
  readonly gather?: boolean;
  readonly rowsPerGroup?: number;
}

/** Llama RMSNorm: inv = f32(1 / sqrt(f32(sum(x^2) / d) + eps)); out = f32(x * inv) * w. */
export function rmsnormKernel(d: number, eps: number, opts: RmsnormOptions = {}): Kernel {
  const buffers: Kernel['buffers'] = [
    { name: 'x', elem: 'f32', access: 'read' },
    ...(opts.gather ? [{ name: 'xRows', elem: 'i32' as const, access: 'read' as const }] : []),
    { name: 'w', elem: opts.wElem ?? 'f32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ];
  const name = `rmsnorm_${d}${opts.gather ? '_g' : ''}${opts.wElem && opts.wElem !== 'f32' ? `_${opts.wElem}` : ''}`;
  return rowKernel(name, buffers, (r) => [
    decl('base', mul(opts.gather ? load(global('xRows'), r, 'i32') : r, d)),
    decl('obase', mul(r, d)),
    decl('ss', f64(0)),
    range('i', 0, d, [decl('x', toF64(load(global('x'), add(v('base'), v('i'))))), assign('ss', add(v('ss', 'f64'), mul(v('x', 'f64'), v('x', 'f64'))))]),
    decl('inv', cast(div(f64(1), unary('sqrt', add(toF64(cast(div(v('ss', 'f64'), f64(d)), 'f32')), f64(eps)))), 'f32')),
    range('i', 0, d, store(global('out'), add(v('obase'), v('i')), mul(mul(load(global('x'), add(v('base'), v('i'))), v('inv', 'f32')), load(global('w'), v('i'))))),
  ], opts.rowsPerGroup);
}

/**
 * Per-row inverse RMS of x [rows, d] (float32, as Llama computes it): the factor an RMSNorm prologue applies as a
 * matmul row scale, computed once per row instead of once per output tile.
 */
export function invRmsKernel(d: number, eps: number): Kernel {
  return rowKernel(`inv_rms_${d}`, io(), (r) => [
    decl('base', mul(r, d)),
    decl('ss', f64(0)),
    range('i', 0, d, [decl('x', toF64(load(global('x'), add(v('base'), v('i'))))), assign('ss', add(v('ss', 'f64'), mul(v('x', 'f64'), v('x', 'f64'))))]),
    store(global('out'), r, cast(div(f64(1), unary('sqrt', add(toF64(cast(div(v('ss', 'f64'), f64(d)), 'f32')), f64(eps)))), 'f32')),
  ]);
}

export function layernormKernel(d: number, eps: number, wElem: ElemType = 'f32', bElem: ElemType = 'f32'): Kernel {
  const x = (): KNode => toF64(load(global('x'), add(v('base'), v('i'))));
  const buffers: Kernel['buffers'] = [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'w', elem: wElem, access: 'read' },
    { name: 'b', elem: bElem, access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ];
  return rowKernel(`layernorm_${d}${wElem !== 'f32' ? `_${wElem}` : ''}`, buffers, (r) => [
    decl('base', mul(r, d)),
    decl('mean', f64(0)),
    range('i', 0, d, assign('mean', add(v('mean', 'f64'), x()))),
    assign('mean', div(v('mean', 'f64'), f64(d))),
    decl('var', f64(0)),
    range('i', 0, d, [decl('c', sub(x(), v('mean', 'f64'))), assign('var', add(v('var', 'f64'), mul(v('c', 'f64'), v('c', 'f64'))))]),
    decl('inv', div(f64(1), unary('sqrt', add(div(v('var', 'f64'), f64(d)), f64(eps))))),
    range('i', 0, d, store(global('out'), add(v('base'), v('i')), cast(add(mul(mul(sub(x(), v('mean', 'f64')), v('inv', 'f64')), toF64(load(global('w'), v('i')))), toF64(load(global('b'), v('i')))), 'f32'))),
  ]);
}

/** Softmax over an axis of length `len` with element stride `stride`; rows = outer * stride lines. */
export function softmaxKernel(len: number, stride: number): Kernel {
  const at = (): KNode => add(v('base'), mul(v('i'), stride));
  return rowKernel(`softmax_${len}_${stride}`, io(), (r) => [
    decl('base', add(mul(div(r, stride), len * stride), binary('rem', r, stride))),
    decl('m', f64(Number.NEGATIVE_INFINITY)),
    range('i', 0, len, [decl('x', toF64(load(global('x'), at()))), assign('m', kmax(v('m', 'f64'), v('x', 'f64')))]),
    decl('sum', f64(0)),
    range('i', 0, len, assign('sum', add(v('sum', 'f64'), unary('exp', sub(toF64(load(global('x'), at())), v('m', 'f64')))))),
    range('i', 0, len, store(global('out'), at(), cast(div(unary('exp', sub(toF64(load(global('x'), at())), v('m', 'f64'))), v('sum', 'f64')), 'f32'))),
  ]);
}

export type ReduceKind = 'sum' | 'mean' | 'max' | 'min';

/**
 * Reduces `x` over the axes where `reduced` is true; one output per kept index, the reduced elements visited in
 * row-major order (the reference's order).
 */
export function reduceKernel(shape: readonly number[], reduced: readonly boolean[], fn: ReduceKind, elem: 'f32' | 'i32'): Kernel {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const keptDims = shape.map((_, i) => i).filter((i) => !reduced[i]);
  const redDims = shape.map((_, i) => i).filter((i) => reduced[i]);
  const count = redDims.reduce((a, d) => a * (shape[d] ?? 1), 1);
  // Decompose the output index r over kept dims, and the reduced counter j over reduced dims.
  const offsetOf = (idx: KNode, dims: readonly number[], prefix: string): KNode[] => {
    const out: KNode[] = [decl(`${prefix}rest`, idx), decl(`${prefix}off`, { op: 'const', type: 'i32', src: [], arg: 0 })];
    for (let k = dims.length - 1; k >= 0; k--) {
      const d = dims[k] ?? 0;
      const size = shape[d] ?? 1;
      out.push(
        assign(`${prefix}off`, add(v(`${prefix}off`), mul(binary('rem', v(`${prefix}rest`), size), strides[d] ?? 1))),
        assign(`${prefix}rest`, div(v(`${prefix}rest`), size)),
      );
    }
    return out;
  };
  const init = fn === 'max' ? Number.NEGATIVE_INFINITY : fn === 'min' ? Number.POSITIVE_INFINITY : 0;
  const x = (): KNode => toF64(cast(load(global('x'), add(v('koff'), v('joff')), elem), elem === 'f32' ? 'f32' : 'i32'));
  const isNan = (e: KNode): KNode => cmp('ne', e, e);
  const combine = (acc: KNode, val: KNode): KNode =>
    fn === 'max' ? select(binary('or', cmp('gt', val, acc), isNan(val)), val, acc) : fn === 'min' ? select(binary('or', cmp('lt', val, acc), isNan(val)), val, acc) : add(acc, val);
  return rowKernel(`reduce_${fn}_${shape.join('x')}_${reduced.map(Number).join('')}`, [{ name: 'x', elem, access: 'read' }, { name: 'out', elem, access: 'write' }], (r) => [
    ...offsetOf(r, keptDims, 'k'),
    decl('acc', f64(init)),
    range('j', 0, count, [...offsetOf(v('j'), redDims, 'j'), decl('val', x()), assign('acc', combine(v('acc', 'f64'), v('val', 'f64')))]),
    store(global('out'), r, elem === 'f32' ? cast(fn === 'mean' ? div(v('acc', 'f64'), f64(count)) : v('acc', 'f64'), 'f32') : cast(fn === 'mean' ? div(v('acc', 'f64'), f64(count)) : v('acc', 'f64'), 'i32')),
  ]);
}

/**
 * RoPE (rotate_half layout) on rows of [S, H, D] with positions; invFreq is a table of rotaryDim/2 float32
 * values. Angles and cos/sin round to float32 like Hugging Face; the rotation itself in float64.
 */
export function ropeKernel(h: number, d: number, rotaryDim: number): Kernel {
  const half = rotaryDim / 2;
  const xAt = (off: KNode): KNode => toF64(load(global('x'), off));
  return rowKernel(`rope_${h}x${d}_${rotaryDim}`, [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'pos', elem: 'i32', access: 'read' },
    { name: 'invFreq', elem: 'f32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], (t) => [
    decl('p', cast(load(global('pos'), t, 'i32'), 'f64')),
    range('c', rotaryDim, d, range('hh', 0, h, store(global('out'), add(mul(add(mul(t, h), v('hh')), d), v('c')), load(global('x'), add(mul(add(mul(t, h), v('hh')), d), v('c')))))),
    range('i', 0, half, [
      decl('ang', cast(mul(v('p', 'f64'), toF64(load(global('invFreq'), v('i')))), 'f32')),
      decl('cs', toF64(cast(unary('cos', toF64(v('ang', 'f32'))), 'f32'))),
      decl('sn', toF64(cast(unary('sin', toF64(v('ang', 'f32'))), 'f32'))),
      range('hh', 0, h, [
        decl('o', add(mul(add(mul(t, h), v('hh')), d), v('i'))),
        decl('x1', xAt(v('o'))),
        decl('x2', xAt(add(v('o'), half))),
        store(global('out'), v('o'), cast(sub(mul(v('x1', 'f64'), v('cs', 'f64')), mul(v('x2', 'f64'), v('sn', 'f64'))), 'f32')),
        store(global('out'), add(v('o'), half), cast(add(mul(v('x2', 'f64'), v('cs', 'f64')), mul(v('x1', 'f64'), v('sn', 'f64'))), 'f32')),
      ]),
    ]),
  ]);
}

/** The float32 inverse frequencies of RoPE, as Hugging Face computes them. */
export function ropeInvFreq(theta: number, rotaryDim: number): Float32Array {
  return Float32Array.from({ length: rotaryDim / 2 }, (_, i) => Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / rotaryDim))));
}

/** Plain dot-product matmul for computed (non-weight) operands, batched with broadcast; f64 accumulation. */
export function batchedMatmulKernel(m: number, k: number, n: number, aStrides: readonly [number, number], bStrides: readonly [number, number]): Kernel {
  const body = [
    decl('batchA', load(global('aBatch'), gid(1), 'i32')),
    decl('batchB', load(global('bBatch'), gid(1), 'i32')),
    decl('i', gid(0)),
    range('j', 0, n, [
      decl('acc', f64(0)),
      range('p', 0, k, assign('acc', add(v('acc', 'f64'), mul(toF64(load(global('a'), add(v('batchA'), add(mul(v('i'), aStrides[0]), mul(v('p'), aStrides[1]))))), toF64(load(global('b'), add(v('batchB'), add(mul(v('p'), bStrides[0]), mul(v('j'), bStrides[1]))))))))),
      store(global('out'), add(mul(gid(1), m * n), add(mul(v('i'), n), v('j'))), cast(v('acc', 'f64'), 'f32')),
    ]),
  ];
  return {
    name: `bmm_${m}x${k}x${n}_${aStrides.join('.')}_${bStrides.join('.')}`,
    buffers: [
      { name: 'a', elem: 'f32', access: 'read' },
      { name: 'b', elem: 'f32', access: 'read' },
      { name: 'aBatch', elem: 'i32', access: 'read' },
      { name: 'bBatch', elem: 'i32', access: 'read' },
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [],
    shared: [],
    privates: [],
    threads: 1,
    body: block(...body),
  };
}

