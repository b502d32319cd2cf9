/**
 * Causal attention over gathered original positions (key j is visible to query i iff kPos[j] <= qPos[i]), GQA,
 * one workgroup per (block of queries, head). Per query: scores into a workgroup array with their maximum, then
 * the exponentials and their sum, then the weighted sum of values in f32x4 lanes (one exp per visible key).
 */
import { add, assign, block, cmp, decl, div, f32, fma, gid, global, iff, lane, load, min, mul, range, shared, splat, store, unary, v, binary, sub, max } from '../dsl.js';
import type { Kernel, KNode } from '../ir.js';

export interface AttentionSpec {
  readonly sq: number;
  readonly sk: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly valueDim: number;
  readonly scale: number;
  readonly causal: boolean;
  /** Queries per workgroup. */
  readonly queryBlock: number;
}

export const attentionGrid = (s: AttentionSpec): [number, number, number] => [Math.max(1, Math.ceil(s.sq / s.queryBlock)), s.heads, 1];

export function attentionKernel(s: AttentionSpec): Kernel {
  const { sk, heads: h, kvHeads: hkv, headDim: d, valueDim: dv } = s;
  const group = h / hkv;
  const vecD = d % 4 === 0;
  const vecV = dv % 4 === 0;
  const q0 = mul(gid(0), s.queryBlock);
  const dot: KNode[] = vecD
    ? [
        decl('dv4', splat(f32(0))),
        range('c', 0, d, assign('dv4', fma(load(global('q'), add(v('qo'), v('c')), 'f32x4'), load(global('k'), add(v('ko'), v('c')), 'f32x4'), v('dv4', 'f32x4'))), 4),
        decl('dot', add(add(lane(v('dv4', 'f32x4'), 0), lane(v('dv4', 'f32x4'), 1)), add(lane(v('dv4', 'f32x4'), 2), lane(v('dv4', 'f32x4'), 3)))),
      ]
    : [decl('dot', f32(0)), range('c', 0, d, assign('dot', fma(load(global('q'), add(v('qo'), v('c'))), load(global('k'), add(v('ko'), v('c'))), v('dot', 'f32'))))];
  const visible = (j: KNode): KNode => (s.causal ? cmp('le', load(global('kPos'), j, 'i32'), v('qp')) : cmp('eq', 0, 0));
  const accStep = vecV ? 4 : 1;
  const accT = vecV ? 'f32x4' : 'f32';
  const body = range('i', q0, min(add(q0, s.queryBlock), s.sq), [
    decl('qo', mul(add(mul(v('i'), h), gid(1)), d)),
    decl('qp', load(global('qPos'), v('i'), 'i32')),
    decl('kh', div(gid(1), group)),
    decl('m', f32(Number.NEGATIVE_INFINITY)),
    range('j', 0, sk, [
      iff(
        visible(v('j')),
        [decl('ko', mul(add(mul(v('j'), hkv), v('kh')), d)), ...dot, decl('sc', mul(v('dot', 'f32'), f32(s.scale))), store(shared('sc'), v('j'), v('sc', 'f32')), assign('m', max(v('m', 'f32'), v('sc', 'f32')))],
        store(shared('sc'), v('j'), f32(Number.NEGATIVE_INFINITY)),
      ),
    ]),
    decl('oo', mul(add(mul(v('i'), h), gid(1)), dv)),
    range('c', 0, dv, store(shared('acc'), v('c'), vecV ? splat(f32(0)) : f32(0)), accStep),
    decl('l', f32(0)),
    iff(cmp('gt', v('m', 'f32'), f32(Number.NEGATIVE_INFINITY)), [
      range('j', 0, sk, [
        iff(visible(v('j')), [
          decl('p', unary('exp', sub(load(shared('sc'), v('j')), v('m', 'f32')))),
          assign('l', add(v('l', 'f32'), v('p', 'f32'))),
          decl('vo', mul(add(mul(v('j'), hkv), v('kh')), dv)),
          vecV ? decl('pv', splat(v('p', 'f32'))) : decl('pv', v('p', 'f32')),
          range('c', 0, dv, store(shared('acc'), v('c'), fma(v('pv', accT), load(global('v'), add(v('vo'), v('c')), accT), load(shared('acc'), v('c'), accT))), accStep),
        ]),
      ]),
      decl('inv', div(f32(1), v('l', 'f32'))),
      range('c', 0, dv, store(global('out'), add(v('oo'), v('c')), binary('mul', load(shared('acc'), v('c'), accT), vecV ? splat(v('inv', 'f32')) : v('inv', 'f32'))), accStep),
    ], range('c', 0, dv, store(global('out'), add(v('oo'), v('c')), f32(0)))),
  ]);
  return {
    name: `attention_${s.sq}x${sk}_${h}x${hkv}x${d}x${dv}_${s.causal ? 'c' : 'f'}`,
    buffers: [
      { name: 'q', elem: 'f32', access: 'read' },
      { name: 'k', elem: 'f32', access: 'read' },
      { name: 'v', elem: 'f32', access: 'read' },
      { name: 'qPos', elem: 'i32', access: 'read' },
      { name: 'kPos', elem: 'i32', access: 'read' },
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [],
    shared: [
      { name: 'sc', elem: 'f32', length: Math.max(1, sk) },
      { name: 'acc', elem: 'f32', length: Math.max(4, dv) },
    ],
    privates: [],
    threads: 1,
    body: block(body),
  };
}

