/**
 * GPU elementwise kernels and copies (schedule `{ kind: 'thread', threads, vector }`): one output element per
 * invocation, or one f32x4 where `vector` is set and every operand is contiguous and 4-aligned, over a 1-D grid.
 * Same buffers, params and meaning as the CPU builders of ../elementwise.ts (elementwise with broadcasting,
 * row gather / scatter with the status check, fill / iota, 2-D copies) and ../reduce.ts (batched matmul of
 * computed operands, here one invocation per output with a compensated f32 dot product).
 */
import { add, assign, binary, block, cast, cmp, decl, div, f32, global, i32, iff, load, lt, mul, param, range, rem, splat, store, sub, v } from '../../dsl.js';
import { type BufferDecl, type ElemType, elemBytes, elemValueType, type Kernel, type KNode, type KUnaryFn } from '../../ir.js';
import type { ElementwiseSchedule } from '../../target.js';
import { type ElementwiseSpec, type RowCopySpec, rowMajorStrides } from '../elementwise.js';
import { CompensatedSum, finiteOr } from './accurate.js';
import { checkThreads, globalIndex, groupsFor, Names } from './workgroup.js';

export type ThreadSchedule = Extract<ElementwiseSchedule, { kind: 'thread' }>;

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
type OperandKind = 'scalar' | 'flat' | 'strided';

function operandKinds(spec: ElementwiseSpec): OperandKind[] {
  const contiguous = rowMajorStrides(spec.shape);
  return spec.inputs.map((x) =>
    x.strides.every((s) => s === 0) ? 'scalar' : x.strides.every((s, i) => s === contiguous[i] || (spec.shape[i] ?? 1) === 1) ? 'flat' : 'strided',
  );
}

/**
 * Elements one invocation of gpuElementwiseKernel computes: 4 on the f32x4 path (vector schedule, a vector body,
 * f32 operands without rounding, every flat operand offset a multiple of 4 so each vector access is aligned).
 */
export function elementwisePerInvocation(spec: ElementwiseSpec, s: ThreadSchedule): 1 | 4 {
  const kinds = operandKinds(spec);
  const vector =
    s.vector && spec.vectorBody !== undefined && spec.out === 'f32' && spec.round === undefined && kinds.every((k) => k !== 'strided') &&
    spec.inputs.every((x, j) => x.elem === 'f32' && (kinds[j] === 'scalar' || (x.offset ?? 0) % 4 === 0));
  return vector ? 4 : 1;
}

export const gpuElementwiseGrid = (spec: ElementwiseSpec, n: number, s: ThreadSchedule): [number, number, number] =>
  groupsFor(Math.ceil(n / elementwisePerInvocation(spec, s)), s.threads);

/** elementwiseKernel's meaning: flat operands take param `n`, strided ones the static element count. */
export function gpuElementwiseKernel(spec: ElementwiseSpec, s: ThreadSchedule): Kernel {
  checkThreads(spec.name, s.threads);
  const kinds = operandKinds(spec);
  const buffers: BufferDecl[] = [...spec.inputs.map((x) => ({ name: x.buffer, elem: x.elem, access: 'read' as const })), { name: 'out', elem: spec.out, access: 'write' }];
  const finish = (x: KNode): KNode => (spec.round ? { op: 'unary', type: x.type, src: [x], arg: spec.round as KUnaryFn } : x);
  const kernel = (params: Kernel['params'], body: KNode[]): Kernel => ({ name: spec.name, buffers, params, shared: [], privates: [], threads: s.threads, body: block(...body) });
  const e = globalIndex(s.threads);
  if (kinds.every((k) => k !== 'strided')) {
    const n = param('n');
    const idx = (i: KNode, j: number): KNode => add(kinds[j] === 'scalar' ? i32(0) : i, spec.inputs[j]?.offset ?? 0);
    const scalarAt = (i: KNode): KNode => store(global('out'), i, finish(spec.body(spec.inputs.map((x, j) => load(global(x.buffer), idx(i, j), elemValueType(x.elem))))));
    const vb = spec.vectorBody;
    if (elementwisePerInvocation(spec, s) === 4 && vb !== undefined) {
      const vectorAt = (i: KNode): KNode =>
        store(global('out'), i, vb(spec.inputs.map((x, j) => (kinds[j] === 'scalar' ? splat(load(global(x.buffer), idx(i, j))) : load(global(x.buffer), idx(i, j), 'f32x4')))));
      // A whole vector, or the 1-3 element tail of the last invocation one element at a time.
      return kernel([{ name: 'n', type: 'i32' }], [decl('i', mul(e, 4)), iff(cmp('le', add(v('i'), 4), n), vectorAt(v('i')), range('t', v('i'), n, scalarAt(v('t'))))]);
    }
    return kernel([{ name: 'n', type: 'i32' }], [decl('i', e), iff(lt(v('i'), n), scalarAt(v('i')))]);
  }
  // Strided: the flat output index decomposed into coordinates, one div / rem per dim.
  const rank = spec.shape.length;
  const body: KNode[] = [decl('rest', v('i'))];
  const coord: KNode[] = [];
  for (let d = rank - 1; d >= 0; d--) {
    const size = spec.shape[d] ?? 1;
    body.push(decl(`c${d}`, rem(v('rest'), size)), assign('rest', div(v('rest'), size)));
    coord[d] = v(`c${d}`);
  }
  const inputIndex = (j: number): KNode => {
    let ix: KNode = i32(spec.inputs[j]?.offset ?? 0);
    spec.inputs[j]?.strides.forEach((st, d) => {
      if (st !== 0) ix = add(ix, mul(coord[d] as KNode, st));
    });
    return ix;
  };
  body.push(store(global('out'), v('i'), finish(spec.body(spec.inputs.map((x, j) => load(global(x.buffer), inputIndex(j), elemValueType(x.elem)))))));
  return kernel([], [decl('i', e), iff(lt(v('i'), numel(spec.shape)), body)]);
}

/** 4-byte element types move as 4-lane vectors; narrower ones element by element. */
const vectorType = (elem: ElemType): 'f32x4' | 'i32x4' | undefined => (elemBytes(elem) !== 4 ? undefined : elem === 'f32' ? 'f32x4' : 'i32x4');

/** Columns one invocation of a row copy moves (4 when vectorised: width a multiple of 4). */
const rowCopyColumns = (width: number, s: ThreadSchedule): 1 | 4 => (s.vector && width % 4 === 0 ? 4 : 1);

/** Columns per invocation of a row copy: vectors only between f32 buffers (narrow storage goes element by element). */
const copyColumns = (width: number, s: ThreadSchedule, spec?: Pick<RowCopySpec, 'srcElem' | 'outElem'>): 1 | 4 =>
  (spec?.srcElem ?? 'f32') === 'f32' && (spec?.outElem ?? 'f32') === 'f32' ? rowCopyColumns(width, s) : 1;

export const gpuRowCopyGrid = (rows: number, width: number, s: ThreadSchedule, spec?: Pick<RowCopySpec, 'srcElem' | 'outElem'>): [number, number, number] =>
  groupsFor(rows * (width / copyColumns(width, s, spec)), s.threads);

/**
 * out[r] = src[index[r]] (gather) or out[index[r]] = src[r] (scatter) for rows of `width` elements, r < rows, with
 * the semantics of the CPU builder (rowCopyKernel: storage types, windows of a split table); an index outside
 * [0, srcRows) stores `statusCode` into status[0] (from the row's first invocation; every writer stores the same
 * value) and copies nothing. Buffers src, index, out, status; params rows (and base, count with a window).
 */
export function gpuRowCopyKernel(spec: RowCopySpec, s: ThreadSchedule): Kernel {
  const { name, width, mode, srcRows, statusCode } = spec;
  checkThreads(name, s.threads);
  const srcElem = spec.srcElem ?? 'f32';
  const outElem = spec.outElem ?? 'f32';
  const cols = copyColumns(width, s, spec);
  const perRow = width / cols;
  const t = cols === 4 ? 'f32x4' : elemValueType(srcElem);
  const local = spec.window ? sub(v('idx'), param('base')) : v('idx');
  const copy = store(global('out'), add(mul(mode === 'gather' ? v('r') : v('idx'), width), v('c')), load(global('src'), add(mul(mode === 'gather' ? local : v('r'), width), v('c')), t));
  const inWindow = binary('and', cmp('ge', v('idx'), param('base')), lt(v('idx'), add(param('base'), param('count'))));
  return {
    name: `${name}_t${s.threads}`,
    buffers: [
      { name: 'src', elem: srcElem, access: 'read' },
      { name: 'index', elem: 'i32', access: 'read' },
      { name: 'out', elem: outElem, access: 'readwrite' },
      { name: 'status', elem: 'i32', access: 'readwrite' },
    ],
    params: [{ name: 'rows', type: 'i32' }, ...(spec.window ? [{ name: 'base', type: 'i32' as const }, { name: 'count', type: 'i32' as const }] : [])],
    shared: [],
    privates: [],
    threads: s.threads,
    body: block(
      decl('e', globalIndex(s.threads)),
      iff(lt(v('e'), mul(param('rows'), perRow)), [
        decl('r', div(v('e'), perRow)),
        decl('c', mul(rem(v('e'), perRow), cols)),
        decl('idx', load(global('index'), v('r'), 'i32')),
        iff(
          binary('or', lt(v('idx'), 0), cmp('ge', v('idx'), srcRows)),
          iff(cmp('eq', v('c'), 0), store(global('status'), 0, i32(statusCode))),
          spec.window ? iff(inWindow, copy) : copy,
        ),
      ]),
    ),
  };
}

/** Elements one invocation of a fill writes (4 for constants of 4-byte types under a vector schedule). */
const fillPer = (elem: ElemType, value: number | 'iota', s: ThreadSchedule): 1 | 4 => (s.vector && value !== 'iota' && vectorType(elem) !== undefined ? 4 : 1);

export const gpuFillGrid = (n: number, elem: ElemType, value: number | 'iota', s: ThreadSchedule): [number, number, number] =>
  groupsFor(Math.ceil(n / fillPer(elem, value, s)), s.threads);

/** Fills out[0, n) with a constant or with 0, 1, 2, ... (iota, converted to the element type). Param n. */
export function gpuFillKernel(name: string, elem: ElemType, value: number | 'iota', s: ThreadSchedule): Kernel {
  checkThreads(name, s.threads);
  const t = elemValueType(elem);
  const n = param('n');
  const scalar = (i: KNode): KNode => (value === 'iota' ? cast(i, t) : { op: 'const', type: t, src: [], arg: value });
  const vt = vectorType(elem);
  const body: KNode[] =
    fillPer(elem, value, s) === 4 && vt !== undefined
      ? [
          decl('i', mul(globalIndex(s.threads), 4)),
          iff(cmp('le', add(v('i'), 4), n), store(global('out'), v('i'), splat(scalar(v('i')), vt)), range('t', v('i'), n, store(global('out'), v('t'), scalar(v('t'))))),
        ]
      : [decl('i', globalIndex(s.threads)), iff(lt(v('i'), n), store(global('out'), v('i'), scalar(v('i'))))];
  return { name, buffers: [{ name: 'out', elem, access: 'write' }], params: [{ name: 'n', type: 'i32' }], shared: [], privates: [], threads: s.threads, body: block(...body) };
}

const copy2dColumns = (inRow: number, outRow: number, offset: number, elem: ElemType, s: ThreadSchedule): 1 | 4 =>
  s.vector && vectorType(elem) !== undefined && inRow % 4 === 0 && outRow % 4 === 0 && offset % 4 === 0 ? 4 : 1;

export const gpuCopy2dGrid = (rows: number, inRow: number, outRow: number, offset: number, elem: ElemType, s: ThreadSchedule): [number, number, number] =>
  groupsFor(rows * (inRow / copy2dColumns(inRow, outRow, offset, elem, s)), s.threads);

/** out[r * outRow + offset + c] = x[r * inRow + c] for r < rows, c < inRow (concat along an axis). */
export function gpuCopy2dKernel(name: string, rows: number, inRow: number, outRow: number, offset: number, elem: ElemType, s: ThreadSchedule): Kernel {
  checkThreads(name, s.threads);
  const cols = copy2dColumns(inRow, outRow, offset, elem, s);
  const perRow = inRow / cols;
  const t = cols === 4 ? (vectorType(elem) ?? 'f32x4') : elemValueType(elem);
  return {
    name,
    buffers: [{ name: 'x', elem, access: 'read' }, { name: 'out', elem, access: 'readwrite' }],
    params: [],
    shared: [],
    privates: [],
    threads: s.threads,
    body: block(
      decl('e', globalIndex(s.threads)),
      iff(lt(v('e'), rows * perRow), [
        decl('r', div(v('e'), perRow)),
        decl('c', mul(rem(v('e'), perRow), cols)),
        store(global('out'), add(add(mul(v('r'), outRow), offset), v('c')), load(global('x'), add(mul(v('r'), inRow), v('c')), t)),
      ]),
    ),
  };
}

export const gpuBatchedMatmulGrid = (m: number, n: number, batches: number, s: ThreadSchedule): [number, number, number] => groupsFor(batches * m * n, s.threads);

/**
 * batchedMatmulKernel's meaning (out[b][i][j] = sum_p a[aBatch[b] + i*as0 + p*as1] * b[bBatch[b] + p*bs0 + j*bs1])
 * with one invocation per output of `batches` batches. The dot product is a compensated sum of exact split
 * products (within about an ulp of the f64 dot product unless it cancels below 2^-24 of the sum of |terms|);
 * non-finite results take the plain f32 sum, which has IEEE's infinities.
 */
export function gpuBatchedMatmulKernel(m: number, k: number, n: number, aStrides: readonly [number, number], bStrides: readonly [number, number], batches: number, s: ThreadSchedule): Kernel {
  const name = `bmm_${m}x${k}x${n}_${aStrides.join('.')}_${bStrides.join('.')}_t${s.threads}`;
  checkThreads(name, s.threads);
  const names = new Names();
  const acc = new CompensatedSum(names, 'dot');
  const body: KNode[] = [
    decl('e', globalIndex(s.threads)),
    iff(lt(v('e'), batches * m * n), [
      decl('bt', div(v('e'), m * n)),
      decl('i', div(rem(v('e'), m * n), n)),
      decl('j', rem(v('e'), n)),
      decl('aBase', add(load(global('aBatch'), v('bt'), 'i32'), mul(v('i'), aStrides[0]))),
      decl('bBase', add(load(global('bBatch'), v('bt'), 'i32'), mul(v('j'), bStrides[1]))),
      ...acc.init(),
      decl('plain', f32(0)),
      range('p', 0, k, [
        decl('av', load(global('a'), add(v('aBase'), mul(v('p'), aStrides[1])))),
        decl('bv', load(global('b'), add(v('bBase'), mul(v('p'), bStrides[0])))),
        ...acc.addProduct(v('av', 'f32'), v('bv', 'f32')),
        assign('plain', add(v('plain', 'f32'), mul(v('av', 'f32'), v('bv', 'f32')))),
      ]),
      store(global('out'), v('e'), finiteOr(acc.value(), v('plain', 'f32'))),
    ]),
  ];
  return {
    name,
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
    threads: s.threads,
    body: block(...body),
  };
}
