/**
 * The p-MoD route kernels (method section 3) and the STRing combine:
 *  1. scores: router GEMV accumulated in float64 in index order plus the bias, rounded to float32 (the reference's
 *     exact arithmetic, so decisions agree bit for bit on equal inputs), and the TanhNorm weight;
 *  2. rank: threshold selection without sorting: a candidate is kept iff fewer than k candidates rank before it
 *     (descending score, ties to the lower index, NaN last), which is `topkIndices` exactly;
 *  3. compaction: an order-preserving prefix sum over the keep flags producing the kept sequence indices, their
 *     position ids, the kept routable indices and the inverse map (slot of each token, -1 if skipped);
 *  4. combine: y = h1 + u (text), h1 + w*u (kept vision), w*x (skipped vision), computed in float64.
 * Every kernel writes disjoint outputs: no atomics.
 */
import { add, assign, binary, block, cast, cmp, decl, gid, global, i32, iff, load, min, mul, param, range, select, store, unary, v } from '../dsl.js';
import type { Kernel, KNode } from '../ir.js';

const f64 = (x: number): KNode => ({ op: 'const', type: 'f64', src: [], arg: x });
const toF64 = (x: KNode): KNode => cast(x, 'f64');
export const TOKENS_PER_GROUP = 16;
export const tokenGrid = (s: number): [number, number, number] => [Math.max(1, Math.ceil(s / TOKENS_PER_GROUP)), 1, 1];

function tokenLoop(body: (t: KNode) => KNode[]): KNode {
  const t0 = mul(gid(0), TOKENS_PER_GROUP);
  return range('t', t0, min(add(t0, TOKENS_PER_GROUP), param('S')), body(v('t')));
}

/** scores[t] = f32(sum_i x[t,i]*w[i] + b) in float64; weights[t] = f32(alpha*tanh(scores[t]) + bias). */
export function routeScoreKernel(d: number, alpha: number, bias: number): Kernel {
  return {
    name: `route_scores_${d}`,
    buffers: [
      { name: 'x', elem: 'f32', access: 'read' },
      { name: 'rw', elem: 'f32', access: 'read' },
      { name: 'rb', elem: 'f32', access: 'read' },
      { name: 'scores', elem: 'f32', access: 'write' },
      { name: 'weights', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'S', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: tokenLoop((t) => [
      decl('z', f64(0)),
      decl('base', mul(t, d)),
      range('i', 0, d, assign('z', add(v('z', 'f64'), mul(toF64(load(global('x'), add(v('base'), v('i')))), toF64(load(global('rw'), v('i'))))))),
      decl('s', cast(add(v('z', 'f64'), toF64(load(global('rb'), 0))), 'f32')),
      store(global('scores'), t, v('s', 'f32')),
      store(global('weights'), t, cast(add(mul(f64(alpha), unary('tanh', toF64(v('s', 'f32')))), f64(bias)), 'f32')),
    ]),
  };
}

/**
 * keep[t] = 1 iff t is a candidate (mask[t] != 0, or every t without a mask) ranked < k, and for the route also
 * every non-candidate (text tokens always run the body) when `keepOthers`. rank[t] is the candidate's rank.
 */
export function routeRankKernel(n: number, masked: boolean, keepOthers: boolean): Kernel {
  const cand = (u: KNode): KNode => (masked ? cmp('ne', load(global('mask'), u, 'i32'), 0) : cmp('eq', i32(0), i32(0)));
  const isNan = (x: KNode): KNode => cmp('ne', x, x);
  // u ranks before t: non-NaN before NaN; higher score first; equal scores (or both NaN) by lower index.
  const before = (u: KNode, su: KNode, st: KNode, t: KNode): KNode => {
    const nanU = isNan(su);
    const nanT = isNan(st);
    const bothNan = binary('and', nanU, nanT);
    const tieOrder = cmp('lt', u, t);
    return select(
      cmp('ne', cast(nanU, 'i32'), cast(nanT, 'i32')),
      unary('not', nanU),
      select(bothNan, tieOrder, binary('or', cmp('gt', su, st), binary('and', cmp('eq', su, st), tieOrder))),
    );
  };
  return {
    name: `rank_${n}_${masked ? 'm' : 'a'}${keepOthers ? 'k' : ''}`,
    buffers: [
      { name: 'scores', elem: 'f32', access: 'read' },
      ...(masked ? [{ name: 'mask', elem: 'i32' as const, access: 'read' as const }] : []),
      { name: 'keep', elem: 'i32', access: 'write' },
      { name: 'rank', elem: 'i32', access: 'write' },
    ],
    params: [{ name: 'S', type: 'i32' }, { name: 'k', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: tokenLoop((t) => [
      decl('st', load(global('scores'), t)),
      decl('r', i32(0)),
      iff(
        cand(t),
        [
          range('u', 0, n, iff(binary('and', cand(v('u')), before(v('u'), load(global('scores'), v('u')), v('st', 'f32'), t)), assign('r', add(v('r'), 1)))),
          store(global('keep'), t, cast(cmp('lt', v('r'), param('k')), 'i32')),
          store(global('rank'), t, v('r')),
        ],
        [store(global('keep'), t, i32(keepOthers ? 1 : 0)), store(global('rank'), t, i32(-1))],
      ),
    ]),
  };
}

/**
 * One workgroup scans the keep flags in order: kept[j] = j-th kept index, keptPos[j] = pos[kept[j]],
 * keptCand[c] = c-th kept candidate, slot[t] = j or -1. If the mask does not hold param `expected` entries, status is
 * set to param `code` (the routable count was declared wrongly).
 */
export function compactKernel(n: number, masked: boolean): Kernel {
  const isCand = (t: KNode): KNode => (masked ? cmp('ne', load(global('mask'), t, 'i32'), 0) : cmp('eq', i32(0), i32(0)));
  return {
    name: `compact_${n}_${masked ? 'm' : 'a'}`,
    buffers: [
      { name: 'keep', elem: 'i32', access: 'read' },
      ...(masked ? [{ name: 'mask', elem: 'i32' as const, access: 'read' as const }] : []),
      { name: 'pos', elem: 'i32', access: 'read' },
      { name: 'kept', elem: 'i32', access: 'write' },
      { name: 'keptPos', elem: 'i32', access: 'write' },
      { name: 'keptCand', elem: 'i32', access: 'write' },
      { name: 'slot', elem: 'i32', access: 'write' },
      { name: 'status', elem: 'i32', access: 'readwrite' },
    ],
    params: [{ name: 'expected', type: 'i32' }, { name: 'code', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: block(
      decl('j', i32(0)),
      decl('c', i32(0)),
      decl('nc', i32(0)),
      range('t', 0, n, [
        iff(isCand(v('t')), assign('nc', add(v('nc'), 1))),
        iff(
          cmp('ne', load(global('keep'), v('t'), 'i32'), 0),
          [
            store(global('kept'), v('j'), v('t')),
            store(global('keptPos'), v('j'), load(global('pos'), v('t'), 'i32')),
            store(global('slot'), v('t'), v('j')),
            assign('j', add(v('j'), 1)),
            iff(isCand(v('t')), [store(global('keptCand'), v('c'), v('t')), assign('c', add(v('c'), 1))]),
          ],
          store(global('slot'), v('t'), i32(-1)),
        ),
      ]),
      iff(cmp('ne', v('nc'), param('expected')), store(global('status'), 0, param('code'))),
    ),
  };
}
/** topk 'score' order: out[rank[t]] = t for every candidate ranked < k. */
export function scatterByRankKernel(n: number): Kernel {
  return {
    name: `rank_scatter_${n}`,
    buffers: [
      { name: 'rank', elem: 'i32', access: 'read' },
      { name: 'out', elem: 'i32', access: 'write' },
    ],
    params: [{ name: 'k', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: range('t', 0, n, [decl('r', load(global('rank'), v('t'), 'i32')), iff(binary('and', cmp('ge', v('r'), 0), cmp('lt', v('r'), param('k'))), store(global('out'), v('r'), v('t')))]),
  };
}

/** STRing combine (method section 3.6), row t of y from x, the body's h1/u at slot[t], and the weights. */
export function stringCombineKernel(d: number): Kernel {
  const f = (buf: string, idx: KNode): KNode => toF64(load(global(buf), idx));
  return {
    name: `string_combine_${d}`,
    buffers: [
      { name: 'x', elem: 'f32', access: 'read' },
      { name: 'h1', elem: 'f32', access: 'read' },
      { name: 'u', elem: 'f32', access: 'read' },
      { name: 'weights', elem: 'f32', access: 'read' },
      { name: 'mask', elem: 'i32', access: 'read' },
      { name: 'slot', elem: 'i32', access: 'read' },
      { name: 'y', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'S', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 1,
    body: tokenLoop((t) => [
      decl('sl', load(global('slot'), t, 'i32')),
      decl('w', f(('weights'), t)),
      iff(
        cmp('lt', v('sl'), 0),
        range('i', 0, d, store(global('y'), add(mul(t, d), v('i')), cast(mul(v('w', 'f64'), f('x', add(mul(t, d), v('i')))), 'f32'))),
        [
          decl('wk', select(cmp('ne', load(global('mask'), t, 'i32'), 0), v('w', 'f64'), f64(1))),
          range('i', 0, d, store(global('y'), add(mul(t, d), v('i')), cast(add(f('h1', add(mul(v('sl'), d), v('i'))), mul(v('wk', 'f64'), f('u', add(mul(v('sl'), d), v('i'))))), 'f32'))),
        ],
      ),
    ]),
  };
}
