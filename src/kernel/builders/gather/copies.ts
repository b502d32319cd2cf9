/**
 * Gather-form data movement (./form.ts): fill / iota, row gathers and scatters of whole rows, one part of a
 * concat, the KV-cache append, and the status checks those kernels cannot make in place (a gather kernel writes
 * only its output: a bad index is reported by a separate one-invocation kernel over the status word).
 * Meanings as the CPU builders of ../elementwise.ts; where those write part of a buffer, these run over the whole
 * buffer ('readwrite', reading only their own element) and keep the elements they do not own.
 */
import { add, assign, binary, cmp, decl, div, global, i32, iff, load, lt, mul, param, range, rem, select, store, sub, v } from '../../dsl.js';
import { type BufferDecl, type ElemType, elemValueType, type Kernel, type KNode } from '../../ir.js';
import { gatherKernel, OWN } from './form.js';

const e = (): KNode => v(OWN);
const ge = (a: KNode | number, b: KNode | number): KNode => cmp('ge', a, b);
const or = (a: KNode, b: KNode): KNode => binary('or', a, b);
const andB = (a: KNode, b: KNode): KNode => binary('and', a, b);
const falseC = (): KNode => cmp('ne', i32(0), i32(0));

/** out[e] = value or e (iota). Param n. */
export function gatherFillKernel(name: string, elem: ElemType, value: number | 'iota'): Kernel {
  const t = elemValueType(elem);
  const val: KNode = value === 'iota' ? (t === 'f32' ? { op: 'cast', type: 'f32', src: [e()], arg: undefined } : e()) : { op: 'const', type: t, src: [], arg: value };
  return gatherKernel(`${name}_${elem}_g`, [{ name: 'out', elem, access: 'write' }], [{ name: 'n', type: 'i32' }], [iff(lt(e(), param('n')), store(global('out'), e(), val))]);
}

export interface GatherRowsSpec {
  readonly name: string;
  readonly width: number;
  readonly srcElem: ElemType;
  readonly outElem: ElemType;
  /** Rows of src that indices may name (larger ones are reported by the status kernel and copy nothing). */
  readonly srcRows: number;
  /** A window [base, base + count) of the indexed rows held by src (a split table): params base, count. */
  readonly window?: boolean;
}

/**
 * out[r, c] = src[index[r], c] over param rows x width elements; a row whose index is out of range (or outside
 * the window) keeps its previous value. Buffers src, index, out (readwrite).
 */
export function gatherRowsKernel(s: GatherRowsSpec): Kernel {
  const t = elemValueType(s.srcElem);
  const local = s.window ? sub(v('idx'), param('base')) : v('idx');
  const valid = s.window ? andB(ge(v('idx'), param('base')), lt(v('idx'), add(param('base'), param('count')))) : andB(ge(v('idx'), 0), lt(v('idx'), s.srcRows));
  return gatherKernel(`${s.name}_${s.width}_${s.srcElem}_${s.outElem}${s.window ? '_win' : ''}_g`, [
    { name: 'src', elem: s.srcElem, access: 'read' },
    { name: 'index', elem: 'i32', access: 'read' },
    { name: 'out', elem: s.outElem, access: 'readwrite' },
  ], [{ name: 'rows', type: 'i32' }, ...(s.window ? [{ name: 'base', type: 'i32' as const }, { name: 'count', type: 'i32' as const }] : [])], [
    iff(lt(e(), mul(param('rows'), s.width)), [
      decl('r', div(e(), s.width)),
      decl('idx', load(global('index'), v('r'), 'i32')),
      iff(valid, store(global('out'), e(), load(global('src'), add(mul(local, s.width), rem(e(), s.width)), t))),
    ]),
  ]);
}

/**
 * out[index[j], c] = src[j, c] for j < param rows, as a gather: each element of out looks for the source row
 * naming its row (the last one, when several do: the status kernel reports duplicates) and keeps its value when
 * none does. Buffers src, index, out (readwrite); out has outRows rows.
 */
export function scatterRowsKernel(name: string, width: number, outRows: number, elem: ElemType): Kernel {
  const t = elemValueType(elem);
  return gatherKernel(`${name}_${width}_${outRows}_${elem}_g`, [
    { name: 'src', elem, access: 'read' },
    { name: 'index', elem: 'i32', access: 'read' },
    { name: 'out', elem, access: 'readwrite' },
  ], [{ name: 'rows', type: 'i32' }], [
    iff(lt(e(), outRows * width), [
      decl('r', div(e(), width)),
      decl('from', i32(-1)),
      range('j', 0, param('rows'), iff(cmp('eq', load(global('index'), v('j'), 'i32'), v('r')), assign('from', v('j')))),
      iff(ge(v('from'), 0), store(global('out'), e(), load(global('src'), add(mul(v('from'), width), rem(e(), width)), t))),
    ]),
  ]);
}

/**
 * The status word after a check: status[0] = the code found when it was 0. `stmts` assign the i32 variable
 * `found` (declared 0 before them: no problem) a nonzero status code. One invocation (grid [1, 1, 1]).
 */
export function statusCheckKernel(name: string, buffers: readonly BufferDecl[], params: Kernel['params'], stmts: (found: string) => KNode[]): Kernel {
  return gatherKernel(name, [...buffers, { name: 'status', elem: 'i32', access: 'readwrite' }], params, [
    decl('found', i32(0)),
    ...stmts('found'),
    iff(andB(cmp('eq', load(global('status'), e(), 'i32'), 0), cmp('ne', v('found'), 0)), store(global('status'), e(), v('found'))),
  ]);
}

/** A status check with one code: `stmts` set the boolean variable `bad` (declared false before them). */
export function statusKernel(name: string, buffers: readonly BufferDecl[], params: Kernel['params'], code: number, stmts: (bad: string) => KNode[]): Kernel {
  return statusCheckKernel(name, buffers, params, (found) => [decl('bad', falseC()), ...stmts('bad'), iff(v('bad', 'bool'), assign(found, i32(code)))]);
}

/**
 * Status of a row copy: an index outside [0, limit) (limit = srcRows of a gather or the rows of a scatter's
 * output) gives `code`; with `duplicateCode`, two source rows naming one output row give that code (the first
 * problem in row order is reported). Buffer index; param rows.
 */
export function rowIndexStatusKernel(limit: number, code: number, duplicateCode?: number): Kernel {
  const idx = (j: KNode): KNode => load(global('index'), j, 'i32');
  const name = `row_index_status_${limit}_${code}${duplicateCode !== undefined ? `_${duplicateCode}` : ''}`;
  return statusCheckKernel(name, [{ name: 'index', elem: 'i32', access: 'read' }], [{ name: 'rows', type: 'i32' }], (found) => [
    range('j', 0, param('rows'), iff(cmp('eq', v(found), 0), [
      iff(or(lt(idx(v('j')), 0), ge(idx(v('j')), limit)), assign(found, i32(code))),
      ...(duplicateCode !== undefined ? [range('q', 0, v('j'), iff(cmp('eq', idx(v('q')), idx(v('j'))), assign(found, i32(duplicateCode))))] : []),
    ])),
  ]);
}

/** out[r * outRow + offset + c] = x[r * inRow + c] for c < inRow; the rest of out keeps its value. Buffers x, out. */
export function concatPartKernel(rows: number, inRow: number, outRow: number, offset: number, elem: ElemType): Kernel {
  const t = elemValueType(elem);
  return gatherKernel(`concat_part_${rows}_${inRow}_${outRow}_${offset}_${elem}_g`, [
    { name: 'x', elem, access: 'read' },
    { name: 'out', elem, access: 'readwrite' },
  ], [], [
    iff(lt(e(), rows * outRow), [
      decl('c', sub(rem(e(), outRow), offset)),
      iff(andB(ge(v('c'), 0), lt(v('c'), inRow)), store(global('out'), e(), load(global('x'), add(mul(div(e(), outRow), inRow), v('c')), t))),
    ]),
  ]);
}

/**
 * The KV-cache append as a gather over the whole cache [capacity, width]: rows [offset, offset + n) take
 * rows[r - offset], the others keep their value (the cache is read only at the element being written, so the
 * kernel means the same in place and on a copy). Buffers rows, cache (readwrite); params offset, n, capacity.
 */
export function cacheWriteGatherKernel(width: number, elem: ElemType): Kernel {
  const t = elemValueType(elem);
  return gatherKernel(`cache_write_${width}_${elem}_g`, [
    { name: 'rows', elem, access: 'read' },
    { name: 'cache', elem, access: 'readwrite' },
  ], [{ name: 'offset', type: 'i32' }, { name: 'n', type: 'i32' }, { name: 'capacity', type: 'i32' }], [
    iff(lt(e(), mul(param('capacity'), width)), [
      decl('r', sub(div(e(), width), param('offset'))),
      iff(andB(ge(v('r'), 0), lt(v('r'), param('n'))), store(global('cache'), e(), load(global('rows'), add(mul(v('r'), width), rem(e(), width)), t))),
    ]),
  ]);
}

/** Status of a cache append: offset + n rows exceed the capacity. Params offset, n, capacity. */
export function cacheStatusKernel(code: number): Kernel {
  return statusKernel('cache_write_status', [], [{ name: 'offset', type: 'i32' }, { name: 'n', type: 'i32' }, { name: 'capacity', type: 'i32' }], code, (bad) => [
    assign(bad, cmp('gt', add(param('offset'), param('n')), param('capacity'))),
  ]);
}

/** A select on an i32 condition (non-zero is true). */
export const selectNz = (c: KNode, a: KNode, b: KNode): KNode => select(cmp('ne', c, 0), a, b);
