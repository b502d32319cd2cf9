/**
 * The p-MoD route and the STRing combine in gather form (./form.ts):
 *  - scores: the canonical router score (src/ir/numerics.ts) of one token per invocation: the 32 lanes are 32
 *    scalar (sum, correction) pairs, each accumulated over i = j, j + 32, ... by the same TwoSum statements as
 *    the other schedules (../route-score.ts), then merged by the fixed tree and the bias added;
 *  - ranks by counting: each candidate counts the candidates ranked before it (higher score first, -0 == +0,
 *    ties to the lower index, NaN last); non-candidates get -1;
 *  - prefix counts: inclusive counts of kept tokens (text tokens and candidates ranked below k) and of kept
 *    candidates up to each token, one invocation per token (a loop over the tokens before it);
 *  - compaction as a gather: kept row j is the first token whose count reaches j + 1 (a binary search over the
 *    monotone counts), likewise the j-th kept candidate; the inverse map (the kept row of each token, -1 if
 *    skipped) comes from the same counts;
 *  - the STRing combine: y[t] = h1[r] + gate[r] * u[r] for a kept token (r its row), w_t * x_t for a skipped
 *    routable one, x_t otherwise.
 */
import { ROUTER_LANES, SPLIT_MASK } from '../../../ir/numerics.js';
import { add, assign, binary, bitcast, cast, cmp, decl, div, f32, global, i32, iff, load, lt, mul, param, range, rem, select, store, sub, unary, v } from '../../dsl.js';
import type { ElemType, Kernel, KNode } from '../../ir.js';
import { addProductStmts } from '../route-score.js';
import { gatherKernel, OWN } from './form.js';
import { statusKernel } from './copies.js';

const e = (): KNode => v(OWN);
const f = (n: string): KNode => v(n, 'f32');
const TRUE = (): KNode => cmp('eq', i32(0), i32(0));

/** The exact merge of lane (s2, c2) into (s1, c1) and the final bias step: numerics.ts, node by node. */
function mergeInto(s1: string, c1: string, s2: string, c2: string, p: string): KNode[] {
  return [
    decl(`${p}t`, unary('opaque', add(f(s1), f(s2)))),
    decl(`${p}z`, unary('opaque', sub(f(`${p}t`), f(s1)))),
    decl(`${p}r`, add(sub(f(s1), sub(f(`${p}t`), f(`${p}z`))), sub(f(s2), f(`${p}z`)))),
    assign(s1, f(`${p}t`)),
    assign(c1, add(add(f(c1), f(c2)), f(`${p}r`))),
  ];
}

/** scores[t] = the canonical router score of token t. Buffers x, rw (wElem), rb (bElem), out; param S. */
export function gatherRouteScoreKernel(d: number, wElem: ElemType, bElem: ElemType): Kernel {
  const lanes: KNode[] = [];
  for (let j = 0; j < ROUTER_LANES; j++) {
    lanes.push(decl(`s${j}`, f32(0)), decl(`c${j}`, f32(0)));
    if (j < d) lanes.push(range(`i${j}`, j, d, addProductStmts(`s${j}`, `c${j}`, load(global('x'), add(v('base'), v(`i${j}`))), load(global('rw'), v(`i${j}`)), `q${j}`), ROUTER_LANES));
  }
  for (let width = ROUTER_LANES / 2; width >= 1; width /= 2)
    for (let j = 0; j < width; j++) lanes.push(...mergeInto(`s${j}`, `c${j}`, `s${j + width}`, `c${j + width}`, `m${width}_${j}`));
  lanes.push(
    decl('fb', load(global('rb'), 0)),
    decl('ft', unary('opaque', add(f('s0'), f('fb')))),
    decl('fz', unary('opaque', sub(f('ft'), f('s0')))),
    decl('fr', add(sub(f('s0'), sub(f('ft'), f('fz'))), sub(f('fb'), f('fz')))),
    store(global('out'), e(), add(f('ft'), add(f('c0'), f('fr')))),
  );
  return gatherKernel(`route_score_${d}_${wElem}_${bElem}_g`, [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'rw', elem: wElem, access: 'read' },
    { name: 'rb', elem: bElem, access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], [{ name: 'S', type: 'i32' }], [iff(lt(e(), param('S')), [decl('base', mul(e(), d)), ...lanes])]);
}

/** The splitting mask as a signed constant (exported for tests that build the score by hand). */
export const SPLIT_MASK_I32 = SPLIT_MASK | 0;

/** weights[t] = alpha * tanh(scores[t]) + bias (through f64 when `f64`, the reference's value). Buffers scores, out; param S. */
export function gatherTanhNormKernel(alpha: number, bias: number, f64: boolean): Kernel {
  const s = load(global('scores'), e());
  const c64 = (x: number): KNode => ({ op: 'const', type: 'f64', src: [], arg: x });
  const w = f64 ? cast(add(mul(c64(alpha), unary('tanh', cast(s, 'f64'))), c64(bias)), 'f32') : add(mul(f32(alpha), unary('tanh', s)), f32(bias));
  return gatherKernel(`tanh_norm_${alpha}_${bias}${f64 ? '' : '_f32'}_g`, [{ name: 'scores', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }], [{ name: 'S', type: 'i32' }], [
    iff(lt(e(), param('S')), store(global('out'), e(), w)),
  ]);
}

const isNanBits = (x: KNode): KNode => cmp('gt', binary('and', bitcast(x, 'i32'), i32(0x7fffffff)), i32(0x7f800000));
const cand = (t: KNode): KNode => cmp('ne', load(global('mask'), t, 'i32'), 0);

/** rank[t] = the candidates ranked before candidate t (or -1 for a non-candidate). Buffers scores, mask, out; param S. */
export function gatherRankKernel(s: number): Kernel {
  const beats = (): KNode => {
    const [nu, nt] = [v('nu', 'bool'), v('nt', 'bool')];
    const lower = lt(v('u'), e());
    return select(
      cmp('ne', cast(nu, 'i32'), cast(nt, 'i32')),
      unary('not', nu),
      select(binary('and', nu, nt), lower, binary('or', cmp('gt', f('su'), f('st')), binary('and', cmp('eq', f('su'), f('st')), lower))),
    );
  };
  return gatherKernel(`route_rank_${s}_g`, [
    { name: 'scores', elem: 'f32', access: 'read' },
    { name: 'mask', elem: 'i32', access: 'read' },
    { name: 'out', elem: 'i32', access: 'write' },
  ], [], [
    iff(lt(e(), s), [
      decl('rank', i32(-1)),
      iff(cand(e()), [
        assign('rank', i32(0)),
        decl('st', load(global('scores'), e())),
        decl('nt', isNanBits(f('st'))),
        range('u', 0, s, iff(cand(v('u')), [
          decl('su', load(global('scores'), v('u'))),
          decl('nu', isNanBits(f('su'))),
          iff(beats(), assign('rank', add(v('rank'), 1))),
        ])),
      ]),
      store(global('out'), e(), v('rank')),
    ]),
  ]);
}

/**
 * Inclusive counts over [2S]: out[t] = kept tokens u <= t (non-candidates and candidates ranked below k),
 * out[S + t] = kept candidates u <= t. Buffers rank, mask, out; param k.
 */
export function gatherPrefixKernel(s: number): Kernel {
  return gatherKernel(`route_prefix_${s}_g`, [
    { name: 'rank', elem: 'i32', access: 'read' },
    { name: 'mask', elem: 'i32', access: 'read' },
    { name: 'out', elem: 'i32', access: 'write' },
  ], [{ name: 'k', type: 'i32' }], [
    iff(lt(e(), 2 * s), [
      decl('t', rem(e(), s)),
      decl('onlyCand', cmp('ge', e(), s)),
      decl('n', i32(0)),
      range('u', 0, add(v('t'), 1), [
        decl('isCand', cand(v('u'))),
        decl('kept', binary('and', v('isCand', 'bool'), lt(load(global('rank'), v('u'), 'i32'), param('k')))),
        iff(binary('or', v('kept', 'bool'), binary('and', unary('not', v('onlyCand', 'bool')), unary('not', v('isCand', 'bool')))), assign('n', add(v('n'), 1))),
      ]),
      store(global('out'), e(), v('n')),
    ]),
  ]);
}

/**
 * out[j] = the first t < s with counts[base + t] >= j + 1 (binary search over monotone inclusive counts), for
 * j < param count: the j-th kept token. Buffers counts, out.
 */
export function gatherSearchKernel(s: number, base: number): Kernel {
  const steps = Math.max(1, Math.ceil(Math.log2(s + 1)));
  return gatherKernel(`route_search_${s}_${base}_g`, [{ name: 'counts', elem: 'i32', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }], [{ name: 'count', type: 'i32' }], [
    iff(lt(e(), param('count')), [
      // Invariant: counts[lo - 1] < j + 1 <= counts[hi] (lo = 0, hi = s - 1 at first).
      decl('lo', i32(0)),
      decl('hi', i32(s - 1)),
      range('step', 0, steps, iff(lt(v('lo'), v('hi')), [
        decl('mid', div(add(v('lo'), v('hi')), 2)),
        iff(cmp('ge', load(global('counts'), add(v('mid'), base), 'i32'), add(e(), 1)), assign('hi', v('mid')), assign('lo', add(v('mid'), 1))),
      ])),
      store(global('out'), e(), v('lo')),
    ]),
  ]);
}

/** out[t] = the kept row of token t (counts[t] - 1) or -1 when it is skipped. Buffers counts (the first S of the prefix), out. */
export function gatherInverseKernel(s: number): Kernel {
  const c = (t: KNode): KNode => load(global('counts'), t, 'i32');
  return gatherKernel(`route_inverse_${s}_g`, [{ name: 'counts', elem: 'i32', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }], [], [
    iff(lt(e(), s), [
      decl('before', select(cmp('gt', e(), 0), c(sub(e(), 1)), i32(0))),
      store(global('out'), e(), select(cmp('gt', c(e()), v('before')), sub(c(e()), 1), i32(-1))),
    ]),
  ]);
}

/** out[t] = j with rowMap[j] == t, or -1 (an inverse map from a row map alone). Buffers rowMap, out; kept rows. */
export function gatherInverseOfMapKernel(s: number, kept: number): Kernel {
  return gatherKernel(`row_map_inverse_${s}_${kept}_g`, [{ name: 'rowMap', elem: 'i32', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }], [], [
    iff(lt(e(), s), [decl('r', i32(-1)), range('j', 0, kept, iff(cmp('eq', load(global('rowMap'), v('j'), 'i32'), e()), assign('r', v('j')))), store(global('out'), e(), v('r'))]),
  ]);
}

/** keptGate[j] = mask[rowMap[j]] != 0 ? weights[rowMap[j]] : 1. Buffers rowMap, mask, weights, out. */
export function gatherKeptGateKernel(kept: number): Kernel {
  return gatherKernel(`kept_gate_${kept}_g`, [
    { name: 'rowMap', elem: 'i32', access: 'read' },
    { name: 'mask', elem: 'i32', access: 'read' },
    { name: 'weights', elem: 'f32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], [], [
    iff(lt(e(), kept), [decl('row', load(global('rowMap'), e(), 'i32')), store(global('out'), e(), select(cand(v('row')), load(global('weights'), v('row')), f32(1)))]),
  ]);
}

/** Status: the mask holds `expected` candidates (when expected >= 0) and at least k. Buffer mask; params k, expected. */
export function gatherRouteStatusKernel(s: number, code: number): Kernel {
  return statusKernel(`route_status_${s}`, [{ name: 'mask', elem: 'i32', access: 'read' }], [{ name: 'k', type: 'i32' }, { name: 'expected', type: 'i32' }], code, (bad) => [
    decl('total', i32(0)),
    range('t', 0, s, iff(cand(v('t')), assign('total', add(v('total'), 1)))),
    assign(bad, binary('or', binary('and', cmp('ge', param('expected'), 0), cmp('ne', v('total'), param('expected'))), lt(v('total'), param('k')))),
  ]);
}

/** out[j] = the candidate of rank j (score order), for j < param k. Buffers rank, out. */
export function gatherByRankKernel(s: number): Kernel {
  return gatherKernel(`by_rank_${s}_g`, [{ name: 'rank', elem: 'i32', access: 'read' }, { name: 'out', elem: 'i32', access: 'write' }], [{ name: 'k', type: 'i32' }], [
    iff(lt(e(), param('k')), [decl('t', i32(0)), range('u', 0, s, iff(cmp('eq', load(global('rank'), v('u'), 'i32'), e()), assign('t', v('u')))), store(global('out'), e(), v('t'))]),
  ]);
}

/**
 * The STRing combine over y [S, d]: kept token t (row r = inverse[t] >= 0): h1[r] + gate[r] * u[r] (f64 rounded
 * once when `f64`); skipped routable: w_t * x_t; otherwise x_t. Buffers x, h1, u, gate, inverse, weights, mask, out.
 */
export function gatherStringCombineKernel(s: number, d: number, f64: boolean): Kernel {
  const up = (x: KNode): KNode => (f64 ? cast(x, 'f64') : x);
  const kept = add(up(load(global('h1'), add(mul(v('r'), d), v('c')))), mul(up(load(global('gate'), v('r'))), up(load(global('u'), add(mul(v('r'), d), v('c'))))));
  return gatherKernel(`string_combine_${s}_${d}${f64 ? '' : '_f32'}_g`, [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'h1', elem: 'f32', access: 'read' },
    { name: 'u', elem: 'f32', access: 'read' },
    { name: 'gate', elem: 'f32', access: 'read' },
    { name: 'inverse', elem: 'i32', access: 'read' },
    { name: 'weights', elem: 'f32', access: 'read' },
    { name: 'mask', elem: 'i32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], [], [
    iff(lt(e(), s * d), [
      decl('t', div(e(), d)),
      decl('c', rem(e(), d)),
      decl('r', load(global('inverse'), v('t'), 'i32')),
      decl('xv', load(global('x'), e())),
      decl('y', select(cand(v('t')), mul(load(global('weights'), v('t')), f('xv')), f('xv'))),
      iff(cmp('ge', v('r'), 0), assign('y', f64 ? cast(kept, 'f32') : kept)),
      store(global('out'), e(), f('y')),
    ]),
  ]);
}

export { TRUE as alwaysTrue };
