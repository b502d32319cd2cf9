/**
 * Token-major [rows, heads, dim] to head-major [heads, rows, dim]: the layout of K and V that the blocked CPU
 * attention reads (attention-blocked.ts), so a head's rows are contiguous. One workgroup per group of rows, each
 * row's heads copied as whole f32x4 vectors (dim a multiple of 4). Only rows below param kvLen are copied: a KV
 * cache's capacity may be far above the rows in use, which the attention never reads. The row count is param
 * `rows` (the layers of a p-MoD model keep different counts; one kernel serves them all).
 */
import { add, decl, gid, global, load, min, mul, param, range, store, v } from '../dsl.js';
import type { Kernel } from '../ir.js';

/** Rows per workgroup: about 16 KiB of f32 copied per workgroup at the usual 1024 values per row. */
const rowsPerGroup = (heads: number, dim: number): number => Math.max(1, Math.floor(4096 / Math.max(1, heads * dim)));

export const headMajorGrid = (rows: number, heads: number, dim: number): [number, number, number] => [Math.max(1, Math.ceil(rows / rowsPerGroup(heads, dim))), 1, 1];

/** Buffers x (f32 [rows, heads, dim]) and out (f32 [heads, rows, dim]); params rows, and kvLen (<= rows): the rows copied. */
export function headMajorKernel(heads: number, dim: number): Kernel {
  if (dim % 4 !== 0) throw new Error(`head-major copy: dim ${dim} is not a multiple of 4`);
  const per = rowsPerGroup(heads, dim);
  const r0 = mul(gid(0), per);
  const rows = param('rows');
  return {
    name: `head_major_${heads}x${dim}`,
    buffers: [
      { name: 'x', elem: 'f32', access: 'read' },
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [
      { name: 'rows', type: 'i32' },
      { name: 'kvLen', type: 'i32' },
    ],
    shared: [],
    privates: [],
    threads: 1,
    body: range('r', r0, min(min(add(r0, per), rows), param('kvLen')), [
      range('h', 0, heads, [
        decl('src', mul(add(mul(v('r'), heads), v('h')), dim)),
        decl('dst', mul(add(mul(v('h'), rows), v('r')), dim)),
        range('c', 0, dim, store(global('out'), add(v('dst'), v('c')), load(global('x'), add(v('src'), v('c')), 'f32x4')), 4),
      ]),
    ]),
  };
}
