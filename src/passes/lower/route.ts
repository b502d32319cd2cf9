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
  return s.kind === 'cpu' ? 1 : Math.min(256, rc.target.limits.maxThreadsPerWorkgroup);
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
  return s.kind === 'cpu' ? 1 : Math.max(1, Math.min(s.threads, 1 << Math.ceil(Math.log2(Math.max(1, width)))));
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
