/**
 * Lowering of p-MoD routing: two dispatches per MoD layer. The score kernel computes the canonical router scores,
 * the TanhNorm weights and the STRing rows of every routable token (y = w * x: final for the skipped ones); the
 * select kernel picks the top-k and compacts the kept tokens in order (row map, positions, per-row gates, the
 * kept candidates). The kept rows are never copied: the body reads them through the row map (a gathered view),
 * and the combine (in the down projection's epilogue) scatters h1 + w * u into y by the same map.
 */
import type { Dim } from '../../ir/index.js';
import { routeScoreCpuGrid, routeScoreCpuKernel, routeScoreGpuGrid, routeScoreGpuKernel, type RouteScoreSpec } from '../../kernel/builders/route-score.js';
import { keptGateKernel, routeSelectKernel } from '../../kernel/builders/route-select.js';
import { cmp, mul, select } from '../../kernel/dsl.js';
import type { KNode } from '../../kernel/ir.js';
import { stringScatterKernel } from '../../kernel/builders/elementwise.js';
import { gatherGrid } from '../../kernel/builders/gather/form.js';
import { gatherRowsKernel } from '../../kernel/builders/gather/copies.js';
import {
  gatherInverseKernel, gatherInverseOfMapKernel, gatherKeptGateKernel, gatherPrefixKernel, gatherRankKernel, gatherRouteScoreKernel, gatherRouteStatusKernel, gatherSearchKernel,
  gatherStringCombineKernel, gatherTanhNormKernel,
} from '../../kernel/builders/gather/route.js';
import { LoweringError, type LValue } from './context.js';
import { elementwiseOp } from './families.js';
import { arg, materialize, newValue, type RuleContext, storageOf } from './rule-context.js';

/** The values a route selection leaves: the gathered rows and positions, the row map, TanhNorm weights, kept. */
export interface RouteSelection {
  /** The kept rows of x: a gathered view through rowMap. */
  readonly xKept: LValue;
  readonly posKept: LValue;
  /** Sequence index of each kept row (ascending). */
  readonly rowMap: LValue;
  /** TanhNorm weights w_t of every token (f32 [S]). */
  readonly gate: LValue;
  /** Kept routable tokens (sequence indices, ascending). */
  readonly kept: LValue;
}

export interface RouteAttrs {
  readonly capacity: Dim;
  readonly routableCount: Dim;
  readonly alpha: number;
  readonly bias: number;
}

/** Threads of the select kernel's one workgroup: 1 on CPUs, a few hundred on GPUs. */
function selectThreads(rc: RuleContext): number {
  const s = rc.target.schedules.route;
  return s.kind === 'cpu' || s.kind === 'gather' ? 1 : Math.min(256, rc.target.limits.maxThreadsPerWorkgroup);
}

/** The memo key of a gather route's inverse map (kept row of each token, -1 if skipped) by its row map. */
const inverseKey = (rowMap: number): string => `gather-route-inverse|${rowMap}`;

/**
 * Ranks, counts and compaction of a route (or a top-k) in gather form: rank by counting, inclusive counts of
 * kept tokens and kept candidates, then each output row finds its token by a binary search over the counts.
 * Returns the buffers of the rank and the counts ([2S]: kept tokens, then kept candidates).
 */
export function gatherSelect(rc: RuleContext, s: number, scores: number, mask: number, k: Dim, label: string): { rank: number; counts: number } {
  const c = rc.ctx;
  const rank = c.temp(Math.max(1, s), 'i32', `${label} ranks`);
  const counts = c.temp(Math.max(1, 2 * s), 'i32', `${label} kept counts`);
  c.dispatch(gatherRankKernel(s), { scores, mask, out: rank }, {}, gatherGrid(s), `${label} ranks`);
  c.dispatch(gatherPrefixKernel(s), { rank, mask, out: counts }, { k }, gatherGrid(2 * s), `${label} kept counts`);
  return { rank, counts };
}

/** The route of routeSelection in gather form: the same values, computed by gather kernels only. */
function gatherRouteSelection(rc: RuleContext, v: { x: LValue; pos: LValue; mask: LValue; rw: LValue; rb: LValue }, a: { s: number; d: number; kept: number; capacity: number; routable: number }, ctx: { scores: number; gate: LValue; y: number; alpha: number; bias: number; keptOutput: number }): RouteSelection {
  const c = rc.ctx;
  const { s, d, kept, capacity } = a;
  const [xb, mask, pos] = [c.buf(v.x), c.buf(v.mask), c.buf(v.pos)];
  const rowMap: LValue = { shape: [kept], dtype: 'i32', ref: c.temp(Math.max(1, kept), 'i32', `${rc.where} kept tokens`) };
  const posKept: LValue = { shape: [kept], dtype: 'i32', ref: c.temp(Math.max(1, kept), 'i32', `${rc.where} kept positions`) };
  const keptGate = c.temp(Math.max(1, kept), 'f32', `${rc.where} kept gates`);
  const keptCand = newValue(rc, 'i32', ctx.keptOutput, ' kept vision tokens');
  const inverse: LValue = { shape: [s], dtype: 'i32', ref: c.temp(Math.max(1, s), 'i32', `${rc.where} kept row of each token`) };
  if (s > 0) {
    c.dispatch(gatherRouteScoreKernel(d, storageOf(rc, v.rw), storageOf(rc, v.rb)), { x: xb, rw: c.buf(v.rw), rb: c.buf(v.rb), out: ctx.scores }, { S: s }, gatherGrid(s), `${rc.where} router`);
    c.dispatch(gatherTanhNormKernel(ctx.alpha, ctx.bias, rc.target.caps.f64Math), { scores: ctx.scores, out: c.buf(ctx.gate) }, { S: s }, gatherGrid(s), `${rc.where} TanhNorm weights`);
    const code = c.statusCode(`${rc.where}: the routable mask does not hold routableCount = ${a.routable} tokens`);
    c.dispatch(gatherRouteStatusKernel(s, code), { mask, status: c.status }, { k: capacity, expected: a.routable }, gatherGrid(1), `${rc.where} routable count check`);
    const { counts } = gatherSelect(rc, s, ctx.scores, mask, capacity, rc.where);
    const map = c.buf(rowMap);
    if (kept > 0) {
      c.dispatch(gatherSearchKernel(s, 0), { counts, out: map }, { count: kept }, gatherGrid(kept), `${rc.where} kept tokens`);
      c.dispatch(gatherRowsKernel({ name: 'kept_positions', width: 1, srcElem: 'i32', outElem: 'i32', srcRows: s }), { src: pos, index: map, out: c.buf(posKept) }, { rows: kept }, gatherGrid(kept), `${rc.where} kept positions`);
      c.dispatch(gatherKeptGateKernel(kept), { rowMap: map, mask, weights: c.buf(ctx.gate), out: keptGate }, {}, gatherGrid(kept), `${rc.where} kept gates`);
    }
    if (capacity > 0) c.dispatch(gatherSearchKernel(s, s), { counts, out: c.buf(keptCand) }, { count: capacity }, gatherGrid(capacity), `${rc.where} kept candidates`);
    c.dispatch(gatherInverseKernel(s), { counts, out: c.buf(inverse) }, {}, gatherGrid(s), `${rc.where} kept row of each token`);
  }
  c.routes.set(c.buf(rowMap), { x: xb, y: ctx.y, keptGate });
  c.memo.set(inverseKey(c.buf(rowMap)), inverse);
  return { xKept: { shape: [kept, d], dtype: v.x.dtype, ref: xb, gather: c.buf(rowMap) }, posKept, rowMap, gate: ctx.gate, kept: keptCand };
}

export function routeSelection(ins: readonly LValue[], a: RouteAttrs, rc: RuleContext, keptOutput: number): RouteSelection {
  const [x, pos, mask, rw, rb] = [0, 1, 2, 3, 4].map((i) => materialize(rc, arg(ins, i, rc))) as [LValue, LValue, LValue, LValue, LValue];
  const [s, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0];
  const capacity = rc.dim(a.capacity);
  const routable = rc.dim(a.routableCount);
  if (capacity < 0 || capacity > routable) throw new LoweringError(`${rc.where}: capacity ${capacity} is outside [0, ${routable}] (routable tokens)`);
  const kept = s - routable + capacity;
  const c = rc.ctx;
  const xb = c.buf(x);
  const scores = c.temp(Math.max(1, s), 'f32', `${rc.where} router scores`);
  const gate: LValue = { shape: [s], dtype: 'f32', ref: c.temp(Math.max(1, s), 'f32', `${rc.where} TanhNorm weights`) };
  const y = c.temp(Math.max(1, s * d), 'f32', `${rc.where} STRing output`);
  const spec: RouteScoreSpec = { d, alpha: a.alpha, bias: a.bias, wElem: storageOf(rc, rw), bElem: storageOf(rc, rb), writeRoutable: true, f64: rc.target.caps.f64Math };
  const sched = rc.target.schedules.route;
  if (sched.kind === 'gather') return gatherRouteSelection(rc, { x, pos, mask, rw, rb }, { s, d, kept, capacity, routable }, { scores, gate, y, alpha: a.alpha, bias: a.bias, keptOutput });
  const bufs = { x: xb, rw: c.buf(rw), rb: c.buf(rb), mask: c.buf(mask), scores, weights: c.buf(gate), y };
  if (s > 0) {
    if (sched.kind === 'cpu') c.dispatch(routeScoreCpuKernel(spec, sched.tokensPerGroup), bufs, { S: s }, routeScoreCpuGrid(s, sched.tokensPerGroup), `${rc.where} router`);
    else c.dispatch(routeScoreGpuKernel(spec, sched.threads), bufs, { S: s }, routeScoreGpuGrid(s, sched.threads), `${rc.where} router`);
  }
  const rowMap: LValue = { shape: [kept], dtype: 'i32', ref: c.temp(Math.max(1, kept), 'i32', `${rc.where} kept tokens`) };
  const posKept: LValue = { shape: [kept], dtype: 'i32', ref: c.temp(Math.max(1, kept), 'i32', `${rc.where} kept positions`) };
  const keptGate = c.temp(Math.max(1, kept), 'f32', `${rc.where} kept gates`);
  const keptCand = newValue(rc, 'i32', keptOutput, ' kept vision tokens');
  const code = c.statusCode(`${rc.where}: the routable mask does not hold routableCount = ${routable} tokens`);
  if (s > 0)
    c.dispatch(
      routeSelectKernel({ s, kept, threads: selectThreads(rc) }),
      { scores, mask: c.buf(mask), pos: c.buf(pos), weights: c.buf(gate), rowMap: c.buf(rowMap), keptPos: c.buf(posKept), keptGate, keptCand: c.buf(keptCand), status: c.status },
      { k: capacity, expected: routable, code },
      [1, 1, 1],
      `${rc.where} top-k and compaction`,
    );
  c.routes.set(c.buf(rowMap), { x: xb, y, keptGate });
  return { xKept: { shape: [kept, d], dtype: x.dtype, ref: xb, gather: c.buf(rowMap) }, posKept, rowMap, gate, kept: keptCand };
}

/** Threads that stride a row's columns in the row-wise copy kernels: 1 on CPUs, the elementwise width on GPUs. */
export function rowThreads(rc: RuleContext, width: number): number {
  const s = rc.target.schedules.elementwise;
  return s.kind === 'cpu' || s.kind === 'gather' ? 1 : Math.max(1, Math.min(s.threads, 1 << Math.ceil(Math.log2(Math.max(1, width)))));
}

/**
 * y = STRing combine of (x, h1, u) with the kept rows' map, the TanhNorm weights and the routable mask. After a
 * route of this lowering the skipped rows are already in the route's y: one scatter of the kept rows finishes it;
 * otherwise every routable row gets w * x first (text rows are always kept and overwritten).
 */
export function combine(rc: RuleContext, x: LValue, h1: LValue, u: LValue, rowMap: LValue, gate: LValue, routable: LValue): LValue {
  const [s, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0];
  const c = rc.ctx;
  const kept = rowMap.shape[0] ?? 0;
  const map = c.buf(materialize(rc, rowMap));
  const facts = c.routes.get(map);
  const xv = materialize(rc, x);
  if (rc.target.schedules.route.kind === 'gather') return gatherCombine(rc, { x: xv, h1, u, map, gate, routable }, s, d, kept, facts !== undefined && facts.x === c.buf(xv) ? facts : undefined);
  let y: LValue;
  let keptGate: number;
  if (facts !== undefined && facts.x === c.buf(xv)) {
    y = { shape: x.shape, dtype: x.dtype, ref: facts.y };
    keptGate = facts.keptGate;
  } else {
    y = newValue(rc, x.dtype);
    // y = routable ? w * x : x (text rows are all kept and overwritten below), then the kept rows' gates.
    elementwiseOp(rc, {
      name: 'string_skipped', shape: [s, d], out: 'f32',
      inputs: [{ buffer: 'in0', elem: 'f32', strides: [d, 1] }, { buffer: 'in1', elem: 'f32', strides: [1, 0] }, { buffer: 'in2', elem: 'i32', strides: [1, 0] }],
      body: ([xx, w, m]) => select(cmp('ne', m as KNode, 0), mul(w as KNode, xx as KNode), xx as KNode),
    }, { in0: c.buf(xv), in1: c.buf(gate), in2: c.buf(materialize(rc, routable)), out: c.buf(y) }, `${rc.where} STRing skipped rows`);
    keptGate = c.temp(Math.max(1, kept), 'f32', `${rc.where} kept gates`);
    if (kept > 0) c.dispatch(keptGateKernel(kept, rowThreads(rc, kept)), { rowMap: map, mask: c.buf(materialize(rc, routable)), weights: c.buf(gate), keptGate }, {}, [1, 1, 1], `${rc.where} kept gates`);
  }
  const threads = rowThreads(rc, d);
  if (kept > 0 && d > 0)
    c.dispatch(stringScatterKernel(d, threads, rc.target.caps.f64Math), { h1: c.buf(materialize(rc, h1)), u: c.buf(materialize(rc, u)), gate: keptGate, rowMap: map, y: c.buf(y) }, {}, [kept, 1, 1], `${rc.where} STRing combine`);
  return y;
}

/**
 * The STRing combine as one gather over y [S, d], after the route's values in gather form (or, for a row map
 * from elsewhere, its inverse map and kept gates computed here).
 */
function gatherCombine(rc: RuleContext, v: { x: LValue; h1: LValue; u: LValue; map: number; gate: LValue; routable: LValue }, s: number, d: number, kept: number, facts: { y: number; keptGate: number } | undefined): LValue {
  const c = rc.ctx;
  const mask = c.buf(materialize(rc, v.routable));
  const gate = c.buf(materialize(rc, v.gate));
  let inverse = c.memo.get(inverseKey(v.map));
  let keptGate = facts?.keptGate;
  if (inverse === undefined || keptGate === undefined) {
    inverse = { shape: [s], dtype: 'i32', ref: c.temp(Math.max(1, s), 'i32', `${rc.where} kept row of each token`) };
    c.dispatch(gatherInverseOfMapKernel(s, kept), { rowMap: v.map, out: c.buf(inverse) }, {}, gatherGrid(s), `${rc.where} kept row of each token`);
    keptGate = c.temp(Math.max(1, kept), 'f32', `${rc.where} kept gates`);
    if (kept > 0) c.dispatch(gatherKeptGateKernel(kept), { rowMap: v.map, mask, weights: gate, out: keptGate }, {}, gatherGrid(kept), `${rc.where} kept gates`);
  }
  const y: LValue = facts !== undefined ? { shape: v.x.shape, dtype: v.x.dtype, ref: facts.y } : newValue(rc, v.x.dtype);
  if (s > 0 && d > 0)
    c.dispatch(gatherStringCombineKernel(s, d, rc.target.caps.f64Math), {
      x: c.buf(v.x), h1: c.buf(materialize(rc, v.h1)), u: c.buf(materialize(rc, v.u)), gate: keptGate, inverse: c.buf(inverse), weights: gate, mask, out: c.buf(y),
    }, {}, gatherGrid(s * d), `${rc.where} STRing combine`);
  return y;
}
