/**
 * Attention in gather form (./form.ts): four kernels, each one invocation per output element, since a softmax
 * row cannot be shared between invocations without workgroup memory:
 *  1. scores S[h, i, j] = scale * q[i, h] . k[j, h / group] for visible keys (j < kvLen and, causal, kPos[j] <=
 *     qPos[i]), -inf otherwise;
 *  2. statistics per (head, query): the row maximum and the sum of exp(S - max) (compensated), at 2r and 2r + 1;
 *  3. probabilities P = exp(S - max) / sum (0 for invisible keys and for rows with no visible key);
 *  4. out[i, h, c] = sum_j P[h, i, j] * v[j, h / group, c].
 * Semantics of ../attention.ts (q [sq, H, D], k [sk, Hkv, D], v [sk, Hkv, Dv], out [sq, H, Dv]; rows with no
 * visible key give 0); param kvLen (at most sk) on every kernel. f32 dot products in index order.
 */
import { add, assign, binary, cmp, decl, div, f32, global, iff, load, lt, max, mul, param, range, rem, select, store, sub, unary, v } from '../../dsl.js';
import type { Kernel, KNode } from '../../ir.js';
import type { AttentionSpec } from '../attention.js';
import { CompensatedSum } from '../gpu/accurate.js';
import { Names } from '../gpu/workgroup.js';
import { gatherGrid, gatherKernel, OWN } from './form.js';

export type GatherAttentionSpec = Omit<AttentionSpec, 'queryBlock' | 'rope'>;

const e = (): KNode => v(OWN);
const f = (n: string): KNode => v(n, 'f32');
const kvLen = (): KNode => param('kvLen');
const NEG_INF = Number.NEGATIVE_INFINITY;
const tag = (s: GatherAttentionSpec): string => `${s.sq}x${s.sk}_${s.heads}_${s.kvHeads}_${s.headDim}_${s.valueDim}${s.causal ? '_c' : ''}`;
const kvParam = [{ name: 'kvLen', type: 'i32' as const }];

export function attentionScoresKernel(s: GatherAttentionSpec): Kernel {
  const { sq, sk, heads: h, kvHeads: hkv, headDim: d } = s;
  const group = h / hkv;
  const visible = s.causal
    ? binary('and', lt(v('j'), kvLen()), cmp('le', load(global('kPos'), v('j'), 'i32'), load(global('qPos'), v('i'), 'i32')))
    : lt(v('j'), kvLen());
  return gatherKernel(`attn_scores_${tag(s)}_g`, [
    { name: 'q', elem: 'f32', access: 'read' },
    { name: 'k', elem: 'f32', access: 'read' },
    { name: 'qPos', elem: 'i32', access: 'read' },
    { name: 'kPos', elem: 'i32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], kvParam, [
    iff(lt(e(), h * sq * sk), [
      decl('hh', div(e(), sq * sk)),
      decl('i', rem(div(e(), sk), sq)),
      decl('j', rem(e(), sk)),
      decl('sc', f32(NEG_INF)),
      iff(visible, [
        decl('qo', mul(add(mul(v('i'), h), v('hh')), d)),
        decl('ko', mul(add(mul(v('j'), hkv), div(v('hh'), group)), d)),
        decl('dot', f32(0)),
        range('c', 0, d, assign('dot', add(f('dot'), mul(load(global('q'), add(v('qo'), v('c'))), load(global('k'), add(v('ko'), v('c'))))))),
        assign('sc', mul(f('dot'), f32(s.scale))),
      ]),
      store(global('out'), e(), f('sc')),
    ]),
  ]);
}

/** out[2r] = max_j S[r, j], out[2r + 1] = sum_j exp(S[r, j] - max) (0 when no key is visible). Buffers scores, out. */
export function attentionStatsKernel(s: GatherAttentionSpec): Kernel {
  const names = new Names();
  const acc = new CompensatedSum(names, 's');
  const at = (): KNode => load(global('scores'), add(v('rb'), v('j')));
  return gatherKernel(`attn_stats_${tag(s)}_g`, [{ name: 'scores', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }], kvParam, [
    iff(lt(e(), s.heads * s.sq * 2), [
      decl('rb', mul(div(e(), 2), s.sk)),
      decl('m', f32(NEG_INF)),
      range('j', 0, kvLen(), assign('m', max(f('m'), at()))),
      decl('res', f('m')),
      iff(cmp('eq', rem(e(), 2), 1), [
        assign('res', f32(0)),
        iff(cmp('gt', f('m'), f32(NEG_INF)), [...acc.init(), range('j', 0, kvLen(), acc.add(unary('exp', sub(at(), f('m'))))), assign('res', acc.value())]),
      ]),
      store(global('out'), e(), f('res')),
    ]),
  ]);
}

/** P[r, j] = exp(S - max) / sum for visible keys, else 0. Buffers scores, stats, out. */
export function attentionProbsKernel(s: GatherAttentionSpec): Kernel {
  const st = (i: number): KNode => load(global('stats'), add(mul(v('r'), 2), i));
  return gatherKernel(`attn_probs_${tag(s)}_g`, [
    { name: 'scores', elem: 'f32', access: 'read' },
    { name: 'stats', elem: 'f32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], kvParam, [
    iff(lt(e(), s.heads * s.sq * s.sk), [
      decl('r', div(e(), s.sk)),
      decl('sc', load(global('scores'), e())),
      decl('live', binary('and', lt(rem(e(), s.sk), kvLen()), cmp('gt', f('sc'), f32(NEG_INF)))),
      store(global('out'), e(), select(v('live', 'bool'), div(unary('exp', sub(f('sc'), st(0))), st(1)), f32(0))),
    ]),
  ]);
}

/** out[i, h, c] = sum_j P[h, i, j] * v[j, h / group, c]. Buffers probs, v, out. */
export function attentionValuesKernel(s: GatherAttentionSpec): Kernel {
  const { sq, sk, heads: h, kvHeads: hkv, valueDim: dv } = s;
  const group = h / hkv;
  return gatherKernel(`attn_values_${tag(s)}_g`, [
    { name: 'probs', elem: 'f32', access: 'read' },
    { name: 'v', elem: 'f32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], kvParam, [
    iff(lt(e(), sq * h * dv), [
      decl('i', div(e(), h * dv)),
      decl('hh', rem(div(e(), dv), h)),
      decl('c', rem(e(), dv)),
      decl('pb', mul(add(mul(v('hh'), sq), v('i')), sk)),
      decl('vb', add(mul(div(v('hh'), group), dv), v('c'))),
      decl('acc', f32(0)),
      range('j', 0, kvLen(), assign('acc', add(f('acc'), mul(load(global('probs'), add(v('pb'), v('j'))), load(global('v'), add(mul(v('j'), hkv * dv), v('vb'))))))),
      store(global('out'), e(), f('acc')),
    ]),
  ]);
}

/** Elements of each of the four kernels' outputs. */
export function attentionSizes(s: GatherAttentionSpec): { scores: number; stats: number; out: number } {
  return { scores: s.heads * s.sq * s.sk, stats: s.heads * s.sq * 2, out: s.sq * s.heads * s.valueDim };
}

export { gatherGrid };
