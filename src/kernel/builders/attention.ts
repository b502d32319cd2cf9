/**
 * Causal attention over gathered original positions (key j is visible to query i iff kPos[j] <= qPos[i]), GQA,
 * one workgroup per (block of queries, head). Per query: scores into a workgroup array with their maximum, then
 * the exponentials and their sum, then the weighted sum of values in f32x4 lanes (one exp per visible key).
 */
import { add, assign, binary, block, cmp, decl, div, f32, fma, gid, global, iff, lane, load, max, min, mul, range, select, shared, splat, store, sub, unary, v } from '../dsl.js';
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
  if (s.headDim % 4 === 0 && s.valueDim % 4 === 0 && s.headDim <= 256 && s.valueDim <= 256) return attentionRegisterKernel(s);
  return attentionGeneralKernel(s);
}

/**
 * Head dims multiple of 4, blocked for few live SIMD registers: scores of 4 keys at a time (one query vector
 * load feeds 4 key FMAs), exponentials 4 at a time, then the output in groups of 4 f32x4 columns with the keys
 * in the inner loop. Invisible keys get score -inf (probability 0) and are skipped in the value pass.
 */
function attentionRegisterKernel(s: AttentionSpec): Kernel {
  const { sk, heads: h, kvHeads: hkv, headDim: d, valueDim: dv } = s;
  const group = h / hkv;
  const [qv, vv] = [d / 4, dv / 4];
  const skPad = Math.ceil(sk / 4) * 4;
  const q0 = mul(gid(0), s.queryBlock);
  const visible = (j: KNode): KNode => (s.causal ? cmp('le', load(global('kPos'), min(j, sk - 1), 'i32'), v('qp')) : cmp('lt', j, sk));
  const inRange = (j: KNode): KNode => binary('and', cmp('lt', j, sk), visible(j));
  const f4 = (name: string): KNode => v(name, 'f32x4');
  const hsum = (x: KNode): KNode => add(add(lane(x, 0), lane(x, 1)), add(lane(x, 2), lane(x, 3)));
  const keys = [0, 1, 2, 3];
  const scorePass = range('j', 0, skPad, [
    ...keys.map((u) => decl(`vis${u}`, inRange(add(v('j'), u)))),
    iff(binary('or', binary('or', v('vis0', 'bool'), v('vis1', 'bool')), binary('or', v('vis2', 'bool'), v('vis3', 'bool'))), [
      // Rows past the end are clamped to the last key (their scores are masked below).
      ...keys.map((u) => decl(`ko${u}`, mul(add(mul(min(add(v('j'), u), sk - 1), hkv), v('kh')), d))),
      ...keys.map((u) => decl(`dp${u}`, splat(f32(0)))),
      range('c', 0, qv * 4, [
        decl('qc', load(global('q'), add(v('qo'), v('c')), 'f32x4')),
        ...keys.map((u) => assign(`dp${u}`, fma(f4('qc'), load(global('k'), add(v(`ko${u}`), v('c')), 'f32x4'), f4(`dp${u}`)))),
      ], 4),
      ...keys.map((u) => [
        decl(`sc${u}`, select(v(`vis${u}`, 'bool'), mul(hsum(f4(`dp${u}`)), f32(s.scale)), f32(Number.NEGATIVE_INFINITY))),
        store(shared('sc'), add(v('j'), u), v(`sc${u}`, 'f32')),
        assign('m', max(v('m', 'f32'), v(`sc${u}`, 'f32'))),
      ]).flat(),
    ], keys.map((u) => store(shared('sc'), add(v('j'), u), f32(Number.NEGATIVE_INFINITY)))),
  ], 4);
  const colGroups = Math.ceil(vv / 4);
  const valuePass: KNode[] = [];
  for (let g = 0; g < colGroups; g++) {
    const cols = Array.from({ length: Math.min(4, vv - g * 4) }, (_, i) => g * 4 + i);
    valuePass.push(
      ...cols.map((c) => decl(`o${c}`, splat(f32(0)))),
      range('j', 0, sk, [
        iff(visible(v('j')), [
          decl('pv', splat(load(shared('sc'), v('j')))),
          decl('vo', mul(add(mul(v('j'), hkv), v('kh')), dv)),
          ...cols.map((c) => assign(`o${c}`, fma(f4('pv'), load(global('v'), add(v('vo'), c * 4), 'f32x4'), f4(`o${c}`)))),
        ]),
      ]),
      ...cols.map((c) => store(global('out'), add(v('oo'), c * 4), binary('mul', f4(`o${c}`), f4('inv')))),
    );
  }
  const body = range('i', q0, min(add(q0, s.queryBlock), s.sq), [
    decl('qo', mul(add(mul(v('i'), h), gid(1)), d)),
    decl('qp', load(global('qPos'), v('i'), 'i32')),
    decl('kh', div(gid(1), group)),
    decl('m', f32(Number.NEGATIVE_INFINITY)),
    scorePass,
    decl('oo', mul(add(mul(v('i'), h), gid(1)), dv)),
    iff(
      cmp('gt', v('m', 'f32'), f32(Number.NEGATIVE_INFINITY)),
      [
        decl('l4', splat(f32(0))),
        decl('m4', splat(v('m', 'f32'))),
        range('j', 0, skPad, [decl('p4', unary('exp', binary('sub', load(shared('sc'), v('j'), 'f32x4'), f4('m4')))), store(shared('sc'), v('j'), f4('p4')), assign('l4', binary('add', f4('l4'), f4('p4')))], 4),
        decl('inv', splat(div(f32(1), hsum(f4('l4'))))),
        ...valuePass,
      ],
      range('c', 0, dv, store(global('out'), add(v('oo'), v('c')), f32(0))),
    ),
  ]);
  return {
    name: `attention_r_${s.sq}x${sk}_${h}x${hkv}x${d}x${dv}_${s.causal ? 'c' : 'f'}`,
    buffers: [
      { name: 'q', elem: 'f32', access: 'read' },
      { name: 'k', elem: 'f32', access: 'read' },
      { name: 'v', elem: 'f32', access: 'read' },
      { name: 'qPos', elem: 'i32', access: 'read' },
      { name: 'kPos', elem: 'i32', access: 'read' },
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [],
    shared: [{ name: 'sc', elem: 'f32', length: Math.max(4, skPad) }],
    privates: [],
    threads: 1,
    body: block(body),
  };
}

function attentionGeneralKernel(s: AttentionSpec): Kernel {
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

