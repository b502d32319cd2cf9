/**
 * CPU attention for decode (a few queries against a long KV cache), split over the keys like flash decoding:
 * the partial kernel gives each workgroup a chunk of `chunk` cache rows and one query, and every head of that
 * query; it reads each cache row whole (all heads: one contiguous run per row, which hardware prefetchers follow,
 * where a workgroup per head walks rows of 4 KiB strides and waits on memory for every one) and leaves, per head,
 * the chunk's running max, exponential sum and unnormalised output. The combine kernel merges the chunks of a
 * (query, head). Scores are kept in base 2 (queries scaled by log2 e) for exp2NonPositive. Same buffers, params
 * and meaning as attentionKernel (attention.ts), plus the partials buffer: key j is visible iff kPos[j] <=
 * qPos[i], GQA, keys [0, kvLen), a query with no visible key gives 0.
 */
import { add, assign, binary, block, cmp, decl, f32, fma, gid, global, iff, lane, load, max, min, mul, param, range, select, shared, splat, store, sub, v } from '../dsl.js';
import type { Kernel, KNode } from '../ir.js';
import { ATTENTION_INPUTS, type AttentionSpec } from './attention.js';
import { exp2NonPositive } from './attention-blocked.js';

/** Cache rows per workgroup of the partial kernel. */
export const DECODE_CHUNK = 64;

/** Whether the decode form applies: head dims multiples of 4, no fused RoPE. */
export const decodeAttentionApplies = (s: AttentionSpec): boolean => s.headDim % 4 === 0 && s.valueDim % 4 === 0 && s.rope === undefined;

export const decodeChunks = (s: AttentionSpec, chunk = DECODE_CHUNK): number => Math.max(1, Math.ceil(s.sk / chunk));
/** Floats of the partials buffer: per (query, chunk, head) the max, the sum and valueDim outputs. */
export const decodePartialElems = (s: AttentionSpec, chunk = DECODE_CHUNK): number => Math.max(1, s.sq) * decodeChunks(s, chunk) * s.heads * (s.valueDim + 4);
export const decodePartialGrid = (s: AttentionSpec, chunk = DECODE_CHUNK): [number, number, number] => [decodeChunks(s, chunk), Math.max(1, s.sq), 1];
export const decodeCombineGrid = (s: AttentionSpec): [number, number, number] => [Math.max(1, s.sq), s.heads, 1];

export function decodeAttentionPartialKernel(s: AttentionSpec, chunk = DECODE_CHUNK): Kernel {
  if (!decodeAttentionApplies(s)) throw new Error(`decode attention: needs head dims that are multiples of 4 and no fused RoPE, got ${s.headDim} / ${s.valueDim}`);
  const { sk, heads: h, kvHeads: hkv, headDim: d, valueDim: dv, causal } = s;
  const group = h / hkv;
  const nChunks = decodeChunks(s, chunk);
  const rec = dv + 4;
  const f4 = (name: string): KNode => v(name, 'f32x4');
  const kvLen = param('kvLen');
  const hsum = (x: KNode): KNode => add(add(lane(x, 0), lane(x, 1)), add(lane(x, 2), lane(x, 3)));
  const A = [0, 1, 2, 3];
  const d16 = Math.floor(d / 16) * 16;
  const stmts: KNode[] = [
    decl('iq', gid(1)),
    decl('j0', mul(gid(0), chunk)),
    decl('jn', max(min(chunk, sub(kvLen, v('j0'))), 0)),
    decl('qp', load(global('qPos'), v('iq'), 'i32')),
    // The query's heads, scaled into base 2, in workgroup memory; the output accumulators cleared.
    range('c', 0, h * d, store(shared('qs'), v('c'), binary('mul', load(global('q'), add(mul(v('iq'), h * d), v('c')), 'f32x4'), splat(f32(s.scale * Math.LOG2E)))), 4),
    range('c', 0, h * dv, store(shared('os'), v('c'), splat(f32(0))), 4),
    // Scores: each cache row read once, every head's dot product from it (four partial sums over 16 head dims
    // at a time, the remainder of the head dim into the first).
    range('jj', 0, v('jn'), [
      decl('j', add(v('j0'), v('jj'))),
      decl('vis', causal ? cmp('le', load(global('kPos'), v('j'), 'i32'), v('qp')) : cmp('lt', v('j'), kvLen)),
      decl('kr', mul(v('j'), hkv * d)),
      range('hh', 0, h, [
        decl('ko', add(v('kr'), mul(binary('div', v('hh'), group), d))),
        decl('qo', mul(v('hh'), d)),
        ...A.map((a) => decl(`acc${a}`, splat(f32(0)))),
        ...(d16 > 0 ? [range('c', 0, d16, A.map((a) => assign(`acc${a}`, fma(load(global('k'), add(add(v('ko'), v('c')), a * 4), 'f32x4'), load(shared('qs'), add(add(v('qo'), v('c')), a * 4), 'f32x4'), f4(`acc${a}`)))), 16)] : []),
        ...(d16 < d ? [range('c', d16, d, assign('acc0', fma(load(global('k'), add(v('ko'), v('c')), 'f32x4'), load(shared('qs'), add(v('qo'), v('c')), 'f32x4'), f4('acc0'))), 4)] : []),
        store(shared('st'), add(mul(v('hh'), chunk), v('jj')), select(v('vis', 'bool'), hsum(add(add(f4('acc0'), f4('acc1')), add(f4('acc2'), f4('acc3')))), f32(-Infinity))),
      ]),
    ]),
  ];
  // Per head: the chunk's max and exponentials (rows past jn are -inf: p = 0).
  stmts.push(
    range('hh', 0, h, [
      decl('sb', mul(v('hh'), chunk)),
      range('jj', v('jn'), chunk, store(shared('st'), add(v('sb'), v('jj')), f32(-Infinity))),
      decl('m', f32(-Infinity)),
      range('jj', 0, v('jn'), assign('m', max(v('m', 'f32'), load(shared('st'), add(v('sb'), v('jj')))))),
      // With no visible row m stays -inf: subtract 0 instead, so every p is 0.
      decl('m4', splat(select(cmp('gt', v('m', 'f32'), f32(-Infinity)), v('m', 'f32'), f32(0)))),
      decl('l4', splat(f32(0))),
      range('jj', 0, chunk, [
        decl('p4', exp2NonPositive(binary('sub', load(shared('st'), add(v('sb'), v('jj')), 'f32x4'), f4('m4')))),
        store(shared('st'), add(v('sb'), v('jj')), f4('p4')),
        assign('l4', add(f4('l4'), f4('p4'))),
      ], 4),
      store(shared('ml'), mul(v('hh'), 2), v('m', 'f32')),
      store(shared('ml'), add(mul(v('hh'), 2), 1), hsum(f4('l4'))),
    ]),
    // Outputs: each value row read once, every head's accumulators (in workgroup memory) updated from it.
    range('jj', 0, v('jn'), [
      decl('vr', mul(add(v('j0'), v('jj')), hkv * dv)),
      range('hh', 0, h, [
        decl('vo', add(v('vr'), mul(binary('div', v('hh'), group), dv))),
        decl('oo', mul(v('hh'), dv)),
        decl('pj', splat(load(shared('st'), add(mul(v('hh'), chunk), v('jj'))))),
        range('c', 0, dv, store(shared('os'), add(v('oo'), v('c')), fma(f4('pj'), load(global('v'), add(v('vo'), v('c')), 'f32x4'), load(shared('os'), add(v('oo'), v('c')), 'f32x4'))), 4),
      ]),
    ]),
    // The chunk's record per head: [m, l, 0, 0, o_0 .. o_dv).
    range('hh', 0, h, [
      decl('rb', mul(add(mul(add(mul(v('iq'), nChunks), gid(0)), h), v('hh')), rec)),
      store(global('part'), v('rb'), load(shared('ml'), mul(v('hh'), 2))),
      store(global('part'), add(v('rb'), 1), load(shared('ml'), add(mul(v('hh'), 2), 1))),
      range('c', 0, dv, store(global('part'), add(add(v('rb'), 4), v('c')), load(shared('os'), add(mul(v('hh'), dv), v('c')), 'f32x4')), 4),
    ]),
  );
  return {
    name: `attention_dp_${s.sq}x${sk}_${h}x${hkv}x${d}x${dv}_${causal ? 'c' : 'f'}_${chunk}`,
    buffers: [...ATTENTION_INPUTS, { name: 'part', elem: 'f32', access: 'write' }],
    params: [{ name: 'kvLen', type: 'i32' }],
    shared: [
      { name: 'qs', elem: 'f32', length: h * d },
      { name: 'os', elem: 'f32', length: h * dv },
      { name: 'st', elem: 'f32', length: h * chunk },
      { name: 'ml', elem: 'f32', length: 2 * h },
    ],
    privates: [],
    threads: 1,
    body: block(...stmts),
  };
}

/** Merges the chunks of one (query, head): out = sum_c 2^(m_c - M) o_c / sum_c 2^(m_c - M) l_c (0 if no key). */
export function decodeAttentionCombineKernel(s: AttentionSpec, chunk = DECODE_CHUNK): Kernel {
  const { sk, heads: h, valueDim: dv } = s;
  const nChunks = decodeChunks(s, chunk);
  const rec = dv + 4;
  const f4 = (name: string): KNode => v(name, 'f32x4');
  const recBase = (c: KNode): KNode => mul(add(mul(add(mul(v('iq'), nChunks), c), h), v('hh')), rec);
  const body: KNode[] = [
    decl('iq', gid(0)),
    decl('hh', gid(1)),
    decl('mm', f32(-Infinity)),
    range('c', 0, nChunks, assign('mm', max(v('mm', 'f32'), load(global('part'), recBase(v('c')))))),
    decl('mz', select(cmp('gt', v('mm', 'f32'), f32(-Infinity)), v('mm', 'f32'), f32(0))),
    decl('oo', mul(add(mul(v('iq'), h), v('hh')), dv)),
    range('c', 0, dv, store(global('out'), add(v('oo'), v('c')), splat(f32(0))), 4),
    decl('ll', f32(0)),
    range('c', 0, nChunks, [
      decl('rb', recBase(v('c'))),
      decl('w', exp2Scalar(sub(load(global('part'), v('rb')), v('mz', 'f32')))),
      assign('ll', fma(v('w', 'f32'), load(global('part'), add(v('rb'), 1)), v('ll', 'f32'))),
      iff(cmp('gt', v('w', 'f32'), f32(0)), [
        decl('w4', splat(v('w', 'f32'))),
        range('e', 0, dv, store(global('out'), add(v('oo'), v('e')), fma(f4('w4'), load(global('part'), add(add(v('rb'), 4), v('e')), 'f32x4'), load(global('out'), add(v('oo'), v('e')), 'f32x4'))), 4),
      ]),
    ]),
    decl('inv', splat(select(cmp('gt', v('ll', 'f32'), f32(0)), binary('div', f32(1), v('ll', 'f32')), f32(0)))),
    range('e', 0, dv, store(global('out'), add(v('oo'), v('e')), binary('mul', load(global('out'), add(v('oo'), v('e')), 'f32x4'), f4('inv'))), 4),
  ];
  return {
    name: `attention_dc_${s.sq}x${sk}_${h}x${dv}_${chunk}`,
    buffers: [{ name: 'part', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'readwrite' }],
    params: [],
    shared: [],
    privates: [],
    threads: 1,
    body: block(...body),
  };
}

/** 2^x for a scalar x <= 0 (the lane 0 of the vector form). */
const exp2Scalar = (x: KNode): KNode => lane(exp2NonPositive(splat(x)), 0);
