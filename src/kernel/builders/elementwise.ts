/**
 * Elementwise kernels with broadcasting, and strided copies (transpose, slice, concat, reshape materialisation).
 * Contiguous operands take a flat path (f32x4 when the body is vectorisable); broadcast or permuted operands
 * take an index-decomposition path. Every workgroup handles a contiguous chunk of the output.
 */
import { add, block, decl, div, gid, global, iff, lid, load, lt, min, mul, param, range, rem, splat, store, sub, v } from '../dsl.js';
import { type BufferDecl, type ElemType, elemValueType, type Kernel, type KNode, type KType, type KUnaryFn } from '../ir.js';

export const ELEMENTWISE_CHUNK = 4096;

export interface ElementwiseInput {
  readonly buffer: string;
  readonly elem: ElemType;
  /** Element stride of the operand along each output dim (0 where it broadcasts). */
  readonly strides: readonly number[];
  readonly offset?: number;
}

export interface ElementwiseSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly inputs: readonly ElementwiseInput[];
  readonly out: ElemType;
  /** The output element from the input elements (as loaded, f32 or i32); scalar form. */
  readonly body: (xs: readonly KNode[]) => KNode;
  /** The same body on f32x4 lanes, when every operation in it has a vector form. */
  readonly vectorBody?: (xs: readonly KNode[]) => KNode;
  /** Rounds the stored value to a 16-bit float type (storage emulation). */
  readonly round?: 'round_f16' | 'round_bf16';
  /** Elements per workgroup (default ELEMENTWISE_CHUNK). */
  readonly chunk?: number;
}

export const rowMajorStrides = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = (s[i + 1] ?? 1) * (shape[i + 1] ?? 1);
  return s;
};

/** Strides of an operand of `shape` broadcast to `outShape` (numpy rules). */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const st = rowMajorStrides(shape);
  const off = outShape.length - shape.length;
  return outShape.map((_, i) => (i - off < 0 || (shape[i - off] ?? 1) === 1 ? 0 : (st[i - off] ?? 0)));
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
export const elementwiseGrid = (n: number, chunk = ELEMENTWISE_CHUNK): [number, number, number] => [Math.max(1, Math.ceil(n / chunk)), 1, 1];

export function elementwiseKernel(spec: ElementwiseSpec): Kernel {
  const n = numel(spec.shape);
  const contiguous = rowMajorStrides(spec.shape);
  const kind = spec.inputs.map((x) =>
    x.strides.every((s) => s === 0) ? 'scalar' : x.strides.every((s, i) => s === contiguous[i] || (spec.shape[i] ?? 1) === 1) ? 'flat' : 'strided',
  );
  const flat = kind.every((k) => k !== 'strided');
  const buffers: BufferDecl[] = [...spec.inputs.map((x) => ({ name: x.buffer, elem: x.elem, access: 'read' as const })), { name: 'out', elem: spec.out, access: 'write' }];
  const loadT = (e: ElemType): 'f32' | 'i32' | 'u32' => elemValueType(e);
  const finish = (x: KNode): KNode => (spec.round ? { op: 'unary', type: x.type, src: [x], arg: spec.round as KUnaryFn } : x);
  const chunk = spec.chunk ?? ELEMENTWISE_CHUNK;
  const start = mul(gid(0), chunk);
  const end = min(add(start, chunk), flat ? param('n') : n);
  const stmts: KNode[] = [decl('end', end)];
  if (flat) {
    const idx = (i: KNode, j: number): KNode => (kind[j] === 'scalar' ? add(0, spec.inputs[j]?.offset ?? 0) : add(i, spec.inputs[j]?.offset ?? 0));
    const scalarStep = (i: KNode): KNode => store(global('out'), i, finish(spec.body(spec.inputs.map((x, j) => load(global(x.buffer), idx(i, j), loadT(x.elem))))));
    if (spec.vectorBody && spec.out === 'f32' && spec.inputs.every((x) => x.elem === 'f32') && !spec.round) {
      const vb = spec.vectorBody;
      const vecEnd = add(start, mul(div(sub(v('end'), start), 4), 4));
      stmts.push(
        range('i', start, vecEnd, store(global('out'), v('i'), vb(spec.inputs.map((x, j) => (kind[j] === 'scalar' ? splat(load(global(x.buffer), idx(v('i'), j))) : load(global(x.buffer), idx(v('i'), j), 'f32x4'))))), 4),
        range('t', vecEnd, v('end'), scalarStep(v('t'))),
      );
    } else stmts.push(range('i', start, v('end'), scalarStep(v('i'))));
    return { name: spec.name, buffers, params: [{ name: 'n', type: 'i32' }], shared: [], privates: [], threads: 1, body: block(...stmts) };
  }
  // Strided: decompose the flat output index into coordinates, one div/rem per dim.
  const rank = spec.shape.length;
  const body: KNode[] = [decl('rest', v('i'))];
  const offs = spec.inputs.map((x) => x.offset ?? 0);
  const coord: KNode[] = [];
  for (let d = rank - 1; d >= 0; d--) {
    const size = spec.shape[d] ?? 1;
    body.push(decl(`c${d}`, rem(v('rest'), size)), { op: 'assign', type: 'void', src: [div(v('rest'), size)], arg: 'rest' });
    coord[d] = v(`c${d}`);
  }
  const inputIndex = (j: number): KNode => {
    let e: KNode = { op: 'const', type: 'i32', src: [], arg: offs[j] ?? 0 };
    spec.inputs[j]?.strides.forEach((s, d) => {
      if (s !== 0) e = add(e, mul(coord[d] as KNode, s));
    });
    return e;
  };
  body.push(store(global('out'), v('i'), finish(spec.body(spec.inputs.map((x, j) => load(global(x.buffer), inputIndex(j), loadT(x.elem)))))));
  stmts.push(range('i', start, v('end'), body));
  return { name: spec.name, buffers, params: [], shared: [], privates: [], threads: 1, body: block(...stmts) };
}

export interface RowCopySpec {
  readonly name: string;
  /** Elements per row. */
  readonly width: number;
  readonly mode: 'gather' | 'scatter';
  /** Rows of the indexed side (src for a gather, out for a scatter): indices outside [0, srcRows) set `status`. */
  readonly srcRows: number;
  readonly statusCode: number;
  /** Storage type of src (a gathered embedding table may be bf16; out is then f32). Default f32. */
  readonly srcElem?: ElemType;
  readonly outElem?: ElemType;
  /**
   * A gather from a window of src's rows (a table split into several buffers): params `base` and `count`; rows
   * whose index falls outside [base, base + count) are left for the other windows.
   */
  readonly window?: boolean;
}

/** out[row r] = src[index[r]] (or the converse scatter), rows of `width` elements; an out-of-range index sets `status`. */
export function rowCopyKernel(spec: RowCopySpec): Kernel {
  const { width, mode, srcRows, statusCode } = spec;
  const rowsPerGroup = Math.max(1, Math.floor(4096 / Math.max(1, width)));
  const r0 = mul(gid(0), rowsPerGroup);
  const valueType = elemValueType(spec.srcElem ?? 'f32');
  const local = spec.window ? sub(v('idx'), param('base')) : v('idx');
  const copy = range('c', 0, width, store(global('out'), add(mul(mode === 'gather' ? v('r') : v('idx'), width), v('c')), load(global('src'), add(mul(mode === 'gather' ? local : v('r'), width), v('c')), valueType)));
  const inWindow = { op: 'binary' as const, type: 'bool' as const, src: [{ op: 'cmp' as const, type: 'bool' as const, src: [v('idx'), param('base')], arg: 'ge' as const }, lt(v('idx'), add(param('base'), param('count')))], arg: 'and' as const };
  const body = range('r', r0, min(add(r0, rowsPerGroup), param('rows')), [
    decl('idx', load(global('index'), v('r'), 'i32')),
    iff(
      { op: 'binary', type: 'bool', src: [lt(v('idx'), 0), { op: 'cmp', type: 'bool', src: [v('idx'), { op: 'const', type: 'i32', src: [], arg: srcRows }], arg: 'ge' }], arg: 'or' },
      store(global('status'), 0, { op: 'const', type: 'i32', src: [], arg: statusCode }),
      spec.window ? iff(inWindow as KNode, copy) : copy,
    ),
  ]);
  return {
    name: spec.name,
    buffers: [
      { name: 'src', elem: spec.srcElem ?? 'f32', access: 'read' },
      { name: 'index', elem: 'i32', access: 'read' },
      { name: 'out', elem: spec.outElem ?? 'f32', access: 'readwrite' },
      { name: 'status', elem: 'i32', access: 'readwrite' },
    ],
    params: [{ name: 'rows', type: 'i32' }, ...(spec.window ? [{ name: 'base', type: 'i32' as const }, { name: 'count', type: 'i32' as const }] : [])],
    shared: [],
    privates: [],
    threads: 1,
    body,
  };
}
export const rowCopyGrid = (rows: number, width: number): [number, number, number] => [Math.max(1, Math.ceil(rows / Math.max(1, Math.floor(4096 / Math.max(1, width))))), 1, 1];

/** Fills `out` with a constant or with 0, 1, 2, ... (iota). */
export function fillKernel(name: string, elem: ElemType, value: number | 'iota'): Kernel {
  const s = mul(gid(0), ELEMENTWISE_CHUNK);
  const t: KType = elemValueType(elem);
  const val = value === 'iota' ? v('i') : { op: 'const' as const, type: t, src: [], arg: value };
  return {
    name,
    buffers: [{ name: 'out', elem, access: 'write' }],
    params: [{ name: 'n', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: range('i', s, min(add(s, ELEMENTWISE_CHUNK), param('n')), store(global('out'), v('i'), val as KNode)),
  };
}


/** out[r * outRow + offset + c] = x[r * inRow + c] for r < rows, c < inRow (concat along an axis). */
export function copy2dKernel(name: string, rows: number, inRow: number, outRow: number, offset: number, elem: ElemType): Kernel {
  const rowsPerGroup = Math.max(1, Math.floor(4096 / Math.max(1, inRow)));
  const r0 = mul(gid(0), rowsPerGroup);
  return {
    name,
    buffers: [{ name: 'x', elem, access: 'read' }, { name: 'out', elem, access: 'readwrite' }],
    params: [],
    shared: [],
    privates: [],
    threads: 1,
    body: range('r', r0, min(add(r0, rowsPerGroup), rows), range('c', 0, inRow, store(global('out'), add(add(mul(v('r'), outRow), offset), v('c')), load(global('x'), add(mul(v('r'), inRow), v('c')), elemValueType(elem))))),
  };
}
export const copy2dGrid = (rows: number, inRow: number): [number, number, number] => [Math.max(1, Math.ceil(rows / Math.max(1, Math.floor(4096 / Math.max(1, inRow))))), 1, 1];

/**
 * cache[(offset + r) * width + c] = rows[r * width + c] for r < param rows: a KV-cache append in place. Params
 * `offset` (a dynamic cache length) and `capacity`; rows past the capacity set `status` instead of writing.
 * A workgroup per row, `threads` threads striding its columns (1 on CPUs).
 */
export function cacheWriteKernel(width: number, elem: ElemType, threads: number, statusCode: number): Kernel {
  const t = elemValueType(elem);
  const dst = add(param('offset'), gid(0));
  return {
    name: `cache_write_${width}_${elem}_t${threads}`,
    buffers: [
      { name: 'rows', elem, access: 'read' },
      { name: 'cache', elem, access: 'readwrite' },
      { name: 'status', elem: 'i32', access: 'readwrite' },
    ],
    params: [{ name: 'offset', type: 'i32' }, { name: 'capacity', type: 'i32' }],
    shared: [],
    privates: [],
    threads,
    body: iff(
      lt(dst, param('capacity')),
      range('c', lid(0), width, store(global('cache'), add(mul(dst, width), v('c')), load(global('rows'), add(mul(gid(0), width), v('c')), t)), threads),
      iff({ op: 'cmp', type: 'bool', src: [lid(0), { op: 'const', type: 'i32', src: [], arg: 0 }], arg: 'eq' }, store(global('status'), 0, { op: 'const', type: 'i32', src: [], arg: statusCode })),
    ),
  };
}

/**
 * The kept rows of a STRing combine: y[rowMap[r]] = h1[r] + gate[r] * u[r] (gate: the TanhNorm weight of a kept
 * routable token, 1 for text), in f64 rounded once when `f64` (the reference's arithmetic), else f32. A workgroup
 * per kept row, `threads` threads striding its columns. The skipped rows are written before (by the route).
 */
export function stringScatterKernel(d: number, threads: number, f64: boolean): Kernel {
  const up = (x: KNode): KNode => (f64 ? { op: 'cast', type: 'f64', src: [x], arg: undefined } : x);
  const row = load(global('rowMap'), gid(0), 'i32');
  const at = (buf: string): KNode => up(load(global(buf), add(mul(gid(0), d), v('c'))));
  const value = add(at('h1'), mul(up(load(global('gate'), gid(0))), at('u')));
  return {
    name: `string_scatter_${d}_t${threads}${f64 ? '' : '_f32'}`,
    buffers: [
      { name: 'h1', elem: 'f32', access: 'read' },
      { name: 'u', elem: 'f32', access: 'read' },
      { name: 'gate', elem: 'f32', access: 'read' },
      { name: 'rowMap', elem: 'i32', access: 'read' },
      { name: 'y', elem: 'f32', access: 'readwrite' },
    ],
    params: [],
    shared: [],
    privates: [],
    threads,
    body: block(decl('yr', row), range('c', lid(0), d, store(global('y'), add(mul(v('yr'), d), v('c')), f64 ? { op: 'cast', type: 'f32', src: [value], arg: undefined } : value), threads)),
  };
}
