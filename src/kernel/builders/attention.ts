/**
 * Causal attention over gathered original positions (key j is visible to query i iff kPos[j] <= qPos[i]), GQA,
 * one workgroup per (block of queries, head). Per query: scores into a workgroup array with their maximum, then
 * the exponentials and their sum, then the weighted sum of values in f32x4 lanes (one exp per visible key).
 */
import { add, assign, binary, block, cast, cmp, decl, div, f32, fma, gid, global, i32, iff, lane, load, max, min, mul, param, range, select, shared, splat, store, sub, unary, v } from '../dsl.js';
import type { Kernel, KNode } from '../ir.js';

/** Param kvLen (at most sk) bounds the keys visited: the valid rows of a KV cache allocated at its capacity sk. */
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
  /**
   * RoPE applied on the fly (rotate_half layout on the first rotaryDim dims) from cos/sin tables of the query
   * and key positions (ropeTableKernel): each workgroup rotates its KV head's keys once into workgroup memory.
   * Head dims must be multiples of 4.
   */
  readonly rope?: { readonly rotaryDim: number };
}

/** The buffers every attention kernel reads, in this order: queries, keys, values and their positions. */
export const ATTENTION_INPUTS = [
  { name: 'q', elem: 'f32', access: 'read' },
  { name: 'k', elem: 'f32', access: 'read' },
  { name: 'v', elem: 'f32', access: 'read' },
  { name: 'qPos', elem: 'i32', access: 'read' },
  { name: 'kPos', elem: 'i32', access: 'read' },
] as const;

export const attentionGrid = (s: AttentionSpec): [number, number, number] => [Math.max(1, Math.ceil(s.sq / s.queryBlock)), s.heads, 1];

export function attentionKernel(s: AttentionSpec): Kernel {
  if (s.headDim % 4 === 0 && s.valueDim % 4 === 0 && s.headDim <= 256 && s.valueDim <= 256) return attentionRegisterKernel(s);
  if (s.rope) throw new Error(`attention with fused RoPE needs head dims that are multiples of 4, got ${s.headDim} / ${s.valueDim}`);
  return attentionGeneralKernel(s);
}

/**
 * Head dims multiple of 4, blocked for few live SIMD registers: pairs of queries; scores of 4 keys at a time
 * (each query and key vector load feeds several FMAs), exponentials 4 at a time, then the output in groups of 4
 * f32x4 columns with the keys in the inner loop. Invisible keys get score -inf (probability 0) and are skipped.
 */
function attentionRegisterKernel(s: AttentionSpec): Kernel {
  const { sk, heads: h, kvHeads: hkv, headDim: d, valueDim: dv } = s;
  const group = h / hkv;
  const [qv, vv] = [d / 4, dv / 4];
  const skPad = Math.ceil(sk / 4) * 4;
  const q0 = mul(gid(0), s.queryBlock);
  const f4 = (name: string): KNode => v(name, 'f32x4');
  const hsum = (x: KNode): KNode => add(add(lane(x, 0), lane(x, 1)), add(lane(x, 2), lane(x, 3)));
  const keys = [0, 1, 2, 3];
  const rope = s.rope;
  const half = rope ? rope.rotaryDim / 2 : 0;
  /** Rotated copy of row `src` (element offset) of `buf` into `dst` at `dstOff`, with table row `row`. */
  const rotate = (buf: string, srcOff: KNode, dst: string, dstOff: KNode, cosT: string, sinT: string, row: KNode): KNode[] => {
    const x = (i: KNode): KNode => cast(load(global(buf), add(srcOff, i)), 'f64');
    const t = (tab: string): KNode => cast(load(global(tab), add(mul(row, half), v('ri'))), 'f64');
    return [
      range('ri', 0, half, [
        decl('x1', x(v('ri'))),
        decl('x2', x(add(v('ri'), half))),
        decl('cs', t(cosT)),
        decl('sn', t(sinT)),
        store(shared(dst), add(dstOff, v('ri')), cast(sub(mul(v('x1', 'f64'), v('cs', 'f64')), mul(v('x2', 'f64'), v('sn', 'f64'))), 'f32')),
        store(shared(dst), add(add(dstOff, v('ri')), half), cast(add(mul(v('x2', 'f64'), v('cs', 'f64')), mul(v('x1', 'f64'), v('sn', 'f64'))), 'f32')),
      ]),
      range('ri', 2 * half, d, store(shared(dst), add(dstOff, v('ri')), load(global(buf), add(srcOff, v('ri'))))),
    ];
  };
  // Two queries per step: every key / value vector loaded feeds both (fewer loads per FMA, 8 accumulators).
  const QS = [0, 1];
  const qAt = (qi: number, c: KNode): KNode => (rope ? load(shared(`qr${qi}`), c, 'f32x4') : load(global('q'), add(v(`qo${qi}`), c), 'f32x4'));
  // Keys [0, kvLen) are visited (kvLen <= sk, the static capacity): one plan serves every cache length.
  const kvLen = param('kvLen');
  const kvLast = v('kvLast');
  const kvPad = mul(div(add(kvLen, 3), 4), 4);
  const kAt = (u: number, c: KNode): KNode => (rope ? load(shared('kr'), add(mul(min(add(v('j'), u), kvLast), d), c), 'f32x4') : load(global('k'), add(v(`ko${u}`), c), 'f32x4'));
  const visibleTo = (qi: number, j: KNode): KNode => (s.causal ? cmp('le', load(global('kPos'), min(j, kvLast), 'i32'), v(`qp${qi}`)) : cmp('lt', j, kvLen));
  const inRangeFor = (qi: number, j: KNode): KNode => binary('and', cmp('lt', j, kvLen), visibleTo(qi, j));
  const anyOf = (xs: readonly KNode[]): KNode => xs.reduce((a, b) => binary('or', a, b));
  const scorePass = range('j', 0, kvPad, [
    ...QS.flatMap((qi) => keys.map((u) => decl(`vis${qi}_${u}`, inRangeFor(qi, add(v('j'), u))))),
    iff(anyOf(QS.flatMap((qi) => keys.map((u) => v(`vis${qi}_${u}`, 'bool')))), [
      // Rows past the end are clamped to the last key (their scores are masked below).
      ...keys.map((u) => decl(`ko${u}`, mul(add(mul(min(add(v('j'), u), kvLast), hkv), v('kh')), d))),
      ...QS.flatMap((qi) => keys.map((u) => decl(`dp${qi}_${u}`, splat(f32(0))))),
      range('c', 0, qv * 4, [
        ...QS.map((qi) => decl(`qc${qi}`, qAt(qi, v('c')))),
        ...keys.map((u) => decl(`kc${u}`, kAt(u, v('c')))),
        ...QS.flatMap((qi) => keys.map((u) => assign(`dp${qi}_${u}`, fma(f4(`qc${qi}`), f4(`kc${u}`), f4(`dp${qi}_${u}`))))),
      ], 4),
      ...QS.flatMap((qi) => keys.map((u) => [
        decl(`sc${qi}_${u}`, select(v(`vis${qi}_${u}`, 'bool'), mul(hsum(f4(`dp${qi}_${u}`)), f32(s.scale)), f32(Number.NEGATIVE_INFINITY))),
        store(shared(`sc${qi}`), add(v('j'), u), v(`sc${qi}_${u}`, 'f32')),
        assign(`m${qi}`, max(v(`m${qi}`, 'f32'), v(`sc${qi}_${u}`, 'f32'))),
      ]).flat()),
    ], QS.flatMap((qi) => keys.map((u) => store(shared(`sc${qi}`), add(v('j'), u), f32(Number.NEGATIVE_INFINITY))))),
  ], 4);
  // p = exp(s - m) (0 for invisible keys; a row without visible keys has m = -inf: use 0 so p stays 0) and 1/sum.
  const expPass = (qi: number): KNode[] => [
    decl(`l4_${qi}`, splat(f32(0))),
    decl(`m4_${qi}`, splat(select(cmp('gt', v(`m${qi}`, 'f32'), f32(Number.NEGATIVE_INFINITY)), v(`m${qi}`, 'f32'), f32(0)))),
    range('j', 0, kvPad, [
      decl('p4', unary('exp', binary('sub', load(shared(`sc${qi}`), v('j'), 'f32x4'), f4(`m4_${qi}`)))),
      store(shared(`sc${qi}`), v('j'), f4('p4')),
      assign(`l4_${qi}`, binary('add', f4(`l4_${qi}`), f4('p4'))),
    ], 4),
    decl(`l${qi}`, hsum(f4(`l4_${qi}`))),
    decl(`inv${qi}`, splat(select(cmp('gt', v(`l${qi}`, 'f32'), f32(0)), div(f32(1), v(`l${qi}`, 'f32')), f32(0)))),
  ];
  const colGroups = Math.ceil(vv / 4);
  const valuePass: KNode[] = [];
  for (let g = 0; g < colGroups; g++) {
    const cols = Array.from({ length: Math.min(4, vv - g * 4) }, (_, i) => g * 4 + i);
    valuePass.push(
      ...QS.flatMap((qi) => cols.map((c) => decl(`o${qi}_${c}`, splat(f32(0))))),
      range('j', 0, kvLen, [
        iff(anyOf(QS.map((qi) => visibleTo(qi, v('j')))), [
          ...QS.map((qi) => decl(`pv${qi}`, splat(load(shared(`sc${qi}`), v('j'))))),
          decl('vo', mul(add(mul(v('j'), hkv), v('kh')), dv)),
          ...cols.flatMap((c) => [
            decl(`vl${c}`, load(global('v'), add(v('vo'), c * 4), 'f32x4')),
            ...QS.map((qi) => assign(`o${qi}_${c}`, fma(f4(`pv${qi}`), f4(`vl${c}`), f4(`o${qi}_${c}`)))),
          ]),
        ]),
      ]),
      ...QS.flatMap((qi) => cols.map((c) => store(global('out'), add(v(`oo${qi}`), c * 4), binary('mul', f4(`o${qi}_${c}`), f4(`inv${qi}`))))),
    );
  }
  const body = range('i', q0, min(add(q0, s.queryBlock), s.sq), [
    // The second query of the pair is clamped at the end: it then repeats the first (same values written twice).
    ...QS.flatMap((qi) => [
      decl(`iq${qi}`, min(add(v('i'), qi), s.sq - 1)),
      decl(`qo${qi}`, mul(add(mul(v(`iq${qi}`), h), gid(1)), d)),
      decl(`qp${qi}`, load(global('qPos'), v(`iq${qi}`), 'i32')),
      ...(rope ? rotate('q', v(`qo${qi}`), `qr${qi}`, i32(0), 'qCos', 'qSin', v(`iq${qi}`)) : []),
      decl(`m${qi}`, f32(Number.NEGATIVE_INFINITY)),
      decl(`oo${qi}`, mul(add(mul(v(`iq${qi}`), h), gid(1)), dv)),
    ]),
    scorePass,
    ...QS.flatMap((qi) => expPass(qi)),
    ...valuePass,
  ], 2);
  // The workgroup's KV head, and with fused RoPE its rotated keys, once before the queries.
  const prologue: KNode[] = [decl('kh', div(gid(1), group)), decl('kvLast', max(sub(kvLen, 1), 0))];
  if (rope) prologue.push(range('j', 0, kvLen, rotate('k', mul(add(mul(v('j'), hkv), v('kh')), d), 'kr', mul(v('j'), d), 'kCos', 'kSin', v('j'))));
  const tables = rope ? ['qCos', 'qSin', 'kCos', 'kSin'].map((name) => ({ name, elem: 'f32' as const, access: 'read' as const })) : [];
  return {
    name: `attention_r_${s.sq}x${sk}_${h}x${hkv}x${d}x${dv}_${s.causal ? 'c' : 'f'}${rope ? `_rope${rope.rotaryDim}` : ''}`,
    buffers: [
      ...ATTENTION_INPUTS,
      ...tables,
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'kvLen', type: 'i32' }],
    shared: [
      { name: 'sc0', elem: 'f32', length: Math.max(4, skPad) },
      { name: 'sc1', elem: 'f32', length: Math.max(4, skPad) },
      ...(rope ? [{ name: 'qr0', elem: 'f32' as const, length: d }, { name: 'qr1', elem: 'f32' as const, length: d }, { name: 'kr', elem: 'f32' as const, length: Math.max(1, sk) * d }] : []),
    ],
    privates: [],
    threads: 1,
    body: block(...prologue, body),
  };
}

/**
 * cos / sin tables [rows, rotaryDim/2] of RoPE at the given positions, rounded to float32 like Hugging Face
 * (angle f32(p * invFreq[i]), then f32(cos), f32(sin)): the inputs of attention with fused RoPE.
 */
export function ropeTableKernel(rotaryDim: number): Kernel {
  const half = rotaryDim / 2;
  const r0 = mul(gid(0), 16);
  return {
    name: `rope_table_${rotaryDim}`,
    buffers: [
      { name: 'pos', elem: 'i32', access: 'read' },
      { name: 'invFreq', elem: 'f32', access: 'read' },
      { name: 'cos', elem: 'f32', access: 'write' },
      { name: 'sin', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'rows', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: range('t', r0, min(add(r0, 16), param('rows')), [
      decl('p', cast(load(global('pos'), v('t'), 'i32'), 'f64')),
      range('i', 0, half, [
        decl('ang', cast(cast(mul(v('p', 'f64'), cast(load(global('invFreq'), v('i')), 'f64')), 'f32'), 'f64')),
        store(global('cos'), add(mul(v('t'), half), v('i')), cast(unary('cos', v('ang', 'f64')), 'f32')),
        store(global('sin'), add(mul(v('t'), half), v('i')), cast(unary('sin', v('ang', 'f64')), 'f32')),
      ]),
    ]),
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
    range('j', 0, param('kvLen'), [
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
      range('j', 0, param('kvLen'), [
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
      ...ATTENTION_INPUTS,
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'kvLen', type: 'i32' }],
    shared: [
      { name: 'sc', elem: 'f32', length: Math.max(1, sk) },
      { name: 'acc', elem: 'f32', length: Math.max(4, dv) },
    ],
    privates: [],
    threads: 1,
    body: block(body),
  };
}

