/**
 * CPU attention for decode (a few queries against a long KV cache): a workgroup per (query, head) streams the
 * head's keys once for the scores and its values once (in two halves of the value columns) for the output, so
 * the kernel reads the cache at memory speed; no work is spent on query lanes that do not exist (the blocked
 * prefill kernel puts 8 queries in the SIMD lanes). Scores four keys at a time (four accumulators over the head
 * dim, then their lane sums), kept in base 2 (the query is scaled by log2 e) for the shared exp2. Same buffers,
 * params and meaning as attentionKernel (attention.ts): key j is visible iff kPos[j] <= qPos[i], GQA, keys
 * [0, kvLen), a query with no visible key gives 0.
 */
import { add, assign, binary, block, cmp, decl, f32, fma, gid, global, i32, lane, load, max, min, mul, param, range, select, shared, splat, store, sub, v } from '../dsl.js';
import type { Kernel, KNode } from '../ir.js';
import type { AttentionSpec } from './attention.js';
import { exp2NonPositive } from './attention-blocked.js';

export const decodeAttentionGrid = (s: AttentionSpec): [number, number, number] => [Math.max(1, s.sq), s.heads, 1];

/** Whether the decode form applies: head dims multiples of 4 (8 for the values), no fused RoPE. */
export const decodeAttentionApplies = (s: AttentionSpec): boolean => s.headDim % 4 === 0 && s.valueDim % 8 === 0 && s.rope === undefined;

export function decodeAttentionKernel(s: AttentionSpec): Kernel {
  if (!decodeAttentionApplies(s)) throw new Error(`decode attention: needs a head dim that is a multiple of 4, a value dim of 8 and no fused RoPE, got ${s.headDim} / ${s.valueDim}`);
  const { sk, heads: h, kvHeads: hkv, headDim: d, valueDim: dv, causal } = s;
  const group = h / hkv;
  const f4 = (name: string): KNode => v(name, 'f32x4');
  const kvLen = param('kvLen');
  const head = gid(1);
  const U = [0, 1, 2, 3];
  const hsum = (x: KNode): KNode => add(add(lane(x, 0), lane(x, 1)), add(lane(x, 2), lane(x, 3)));
  const visible = (j: KNode): KNode => (causal ? cmp('le', load(global('kPos'), j, 'i32'), v('qp')) : cmp('lt', j, kvLen));
  const kStride = hkv * d;
  const vStride = hkv * dv;
  const stmts: KNode[] = [
    decl('iq', gid(0)),
    decl('kh', binary('div', head, group)),
    decl('qo', mul(add(mul(v('iq'), h), head), d)),
    decl('qp', load(global('qPos'), v('iq'), 'i32')),
    decl('kvLast', max(sub(kvLen, 1), 0)),
    range('c', 0, d, store(shared('qs'), v('c'), binary('mul', load(global('q'), add(v('qo'), v('c')), 'f32x4'), splat(f32(s.scale * Math.LOG2E)))), 4),
    decl('m', f32(-Infinity)),
    // Scores of four keys per step (rows past kvLen are clamped to the last key and masked below).
    range('j', 0, kvLen, [
      decl('pk', mul(add(mul(v('j'), hkv), v('kh')), d)),
      ...U.map((u) => decl(`acc${u}`, splat(f32(0)))),
      decl('full', cmp('le', add(v('j'), 4), kvLen)),
      ...U.map((u) => decl(`ko${u}`, select(v('full', 'bool'), add(v('pk'), u * kStride), mul(add(mul(min(add(v('j'), u), v('kvLast')), hkv), v('kh')), d)))),
      decl('pq', i32(0)),
      range('c', 0, d, [
        decl('qc', load(shared('qs'), v('pq'), 'f32x4')),
        ...U.map((u) => assign(`acc${u}`, fma(load(global('k'), add(v(`ko${u}`), v('c')), 'f32x4'), f4('qc'), f4(`acc${u}`)))),
        assign('pq', add(v('pq'), 4)),
      ], 4),
      ...U.flatMap((u) => [
        decl(`s${u}`, select(binary('and', cmp('lt', add(v('j'), u), kvLen), visible(min(add(v('j'), u), v('kvLast')))), hsum(f4(`acc${u}`)), f32(-Infinity))),
        store(shared('st'), add(v('j'), u), v(`s${u}`, 'f32')),
        assign('m', max(v('m', 'f32'), v(`s${u}`, 'f32'))),
      ]),
    ], 4),
    // p = 2^(s - m) (0 for masked keys; with no visible key m = -inf: use 0 so every p stays 0), their sum.
    decl('m4', splat(select(cmp('gt', v('m', 'f32'), f32(-Infinity)), v('m', 'f32'), f32(0)))),
    decl('l4', splat(f32(0))),
    range('j', 0, kvLen, [
      decl('p4', exp2NonPositive(binary('sub', load(shared('st'), v('j'), 'f32x4'), f4('m4')))),
      store(shared('st'), v('j'), f4('p4')),
      assign('l4', add(f4('l4'), f4('p4'))),
    ], 4),
  ];
  // The scores past kvLen in the last group of four were masked to -inf, so their p is 0 in the sum above.
  stmts.push(
    decl('l', hsum(f4('l4'))),
    decl('inv', splat(select(cmp('gt', v('l', 'f32'), f32(0)), binary('div', f32(1), v('l', 'f32')), f32(0)))),
    decl('oo', mul(add(mul(v('iq'), h), head), dv)),
  );
  // Output columns in halves of at most 8 vectors (16 registers hold neither all of them nor more).
  const vecs = dv / 4;
  for (let g0 = 0; g0 < vecs; g0 += 8) {
    const cols = Array.from({ length: Math.min(8, vecs - g0) }, (_, i) => g0 + i);
    stmts.push(
      ...cols.map((c) => decl(`o${c}`, splat(f32(0)))),
      decl(`pv${g0}`, mul(v('kh'), dv)),
      range('j', 0, kvLen, [
        decl('pj', splat(load(shared('st'), v('j')))),
        ...cols.map((c) => assign(`o${c}`, fma(f4('pj'), load(global('v'), add(v(`pv${g0}`), c * 4), 'f32x4'), f4(`o${c}`)))),
        assign(`pv${g0}`, add(v(`pv${g0}`), vStride)),
      ]),
      ...cols.map((c) => store(global('out'), add(v('oo'), c * 4), binary('mul', f4(`o${c}`), f4('inv')))),
    );
  }
  return {
    name: `attention_d_${s.sq}x${sk}_${h}x${hkv}x${d}x${dv}_${causal ? 'c' : 'f'}`,
    buffers: [
      { name: 'q', elem: 'f32', access: 'read' },
      { name: 'k', elem: 'f32', access: 'read' },
      { name: 'v', elem: 'f32', access: 'read' },
      { name: 'qPos', elem: 'i32', access: 'read' },
      { name: 'kPos', elem: 'i32', access: 'read' },
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'kvLen', type: 'i32' }],
    shared: [
      { name: 'qs', elem: 'f32', length: d },
      { name: 'st', elem: 'f32', length: Math.ceil(Math.max(1, sk) / 4) * 4 + 4 },
    ],
    privates: [],
    threads: 1,
    body: block(...stmts),
  };
}
