/**
 * Reference semantics of the p-MoD routing region (method section 3), written to be read against the paper:
 * router score, TanhNorm weight, deterministic top-k over routable tokens, the layer body on the kept tokens in
 * sequence order with their original positions, then the STRing combine back into the full sequence.
 */
import { allocData, type Dim, type HostTensor, type OpAttrs, routerScore, type TensorData } from '../../ir/index.js';
import type { KernelContext } from './kernels.js';
import { topkIndices } from './topk.js';

export function countTrue(mask: HostTensor): number {
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) n++;
  return n;
}

export interface RoutingDecision {
  /** Router logits z_t (float32, the canonical algorithm of src/ir/numerics.ts) for every token. */
  readonly scores: Float32Array;
  /** TanhNorm weights w_t = alpha * tanh(z_t) + bias (float32) for every token. */
  readonly weights: Float32Array;
  /** Sequence indices of the kept routable tokens, ascending. */
  readonly keptRoutable: number[];
  /** Sequence indices of every token the body runs on (non-routable + kept), ascending. */
  readonly keptAll: number[];
}

/** The routing decision for one sequence. Exported so tests and other backends can compare decisions. */
export function routeTokens(
  x: HostTensor,
  routable: HostTensor,
  routerWeight: HostTensor,
  routerBias: HostTensor,
  capacity: number,
  alpha: number,
  bias: number,
  fail: (msg: string) => never,
): RoutingDecision {
  const [s, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0];
  const scores = new Float32Array(s);
  const weights = new Float32Array(s);
  const b = routerBias.data[0] ?? 0;
  for (let t = 0; t < s; t++) {
    // The canonical float32 score (docs/kernel-ir.md): every backend computes this exact value.
    scores[t] = routerScore(x.data, t * d, routerWeight.data, d, b);
    weights[t] = alpha * Math.tanh(scores[t] ?? 0) + bias;
  }
  const nRoutable = countTrue(routable);
  if (capacity < 0 || capacity > nRoutable) fail(`capacity ${capacity} is outside [0, ${nRoutable}] (routable tokens)`);
  const keptRoutable = topkIndices(scores, routable.data, capacity, 'index');
  const keep = new Uint8Array(s);
  for (let t = 0; t < s; t++) if (!routable.data[t]) keep[t] = 1;
  for (const t of keptRoutable) keep[t] = 1;
  const keptAll: number[] = [];
  keep.forEach((k, t) => {
    if (k) keptAll.push(t);
  });
  return { scores, weights, keptRoutable, keptAll };
}

function routeOperands(ins: readonly HostTensor[], ctx: KernelContext): [HostTensor, HostTensor, HostTensor, HostTensor, HostTensor] {
  return [0, 1, 2, 3, 4].map((i) => ins[i] ?? ctx.fail(`missing operand ${i}`)) as [HostTensor, HostTensor, HostTensor, HostTensor, HostTensor];
}

interface RouteAttrs {
  readonly capacity: Dim;
  readonly routableCount: Dim;
  readonly alpha: number;
  readonly bias: number;
}

/** The routing decision plus the gathered rows and positions the layer body runs on. */
function selectTokens(ins: readonly HostTensor[], a: RouteAttrs, ctx: KernelContext): { r: RoutingDecision; xKept: HostTensor; posKept: HostTensor; capacity: number } {
  const [x, pos, routable, rw, rb] = routeOperands(ins, ctx);
  const capacity = ctx.dim(a.capacity);
  const expected = ctx.dim(a.routableCount);
  const actual = countTrue(routable);
  if (actual !== expected) ctx.fail(`routable mask has ${actual} tokens but routableCount ${expected} was declared`);
  const r = routeTokens(x, routable, rw, rb, capacity, a.alpha, a.bias, ctx.fail);
  const d = x.shape[1] ?? 0;
  const xKept = allocData(x.dtype, r.keptAll.length * d);
  const posKept = new Int32Array(r.keptAll.length);
  r.keptAll.forEach((t, i) => {
    xKept.set(x.data.subarray(t * d, (t + 1) * d), i * d);
    posKept[i] = pos.data[t] ?? 0;
  });
  return {
    r,
    capacity,
    xKept: { dtype: x.dtype, shape: [r.keptAll.length, d], data: xKept },
    posKept: { dtype: 'i32', shape: [r.keptAll.length], data: posKept },
  };
}

/**
 * STRing combine, per original position: kept rows h1 + g * u (g = w_t for routable tokens, 1 for text),
 * skipped routable rows w_t * x.
 */
export function stringCombineData(x: HostTensor, h1: TensorData, u: TensorData, rowMap: ArrayLike<number>, gate: ArrayLike<number>, routable: ArrayLike<number>, fail: (m: string) => never): TensorData {
  const [s, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0];
  const y = allocData(x.dtype, x.data.length);
  for (let t = 0; t < s; t++) {
    if (!routable[t]) continue;
    const w = gate[t] ?? 1;
    for (let i = 0; i < d; i++) y[t * d + i] = w * (x.data[t * d + i] ?? 0); // skipped: w * x (overwritten if kept)
  }
  const seen = new Uint8Array(s);
  for (let k = 0; k < rowMap.length; k++) {
    const t = rowMap[k] ?? -1;
    if (!Number.isInteger(t) || t < 0 || t >= s) fail(`rowMap[${k}] = ${t} is outside [0, ${s})`);
    if (seen[t]) fail(`rowMap maps two kept rows to token ${t}`);
    seen[t] = 1;
    const w = routable[t] ? (gate[t] ?? 1) : 1;
    for (let i = 0; i < d; i++) y[t * d + i] = (h1[k * d + i] ?? 0) + w * (u[k * d + i] ?? 0);
  }
  for (let t = 0; t < s; t++) if (!routable[t] && !seen[t]) fail(`text token ${t} is not among the kept rows`);
  return y;
}

export function modRouteReference(ins: readonly HostTensor[], a: OpAttrs['modRoute'], ctx: KernelContext): HostTensor[] {
  const x = ins[0] ?? ctx.fail('missing operand 0');
  const routable = ins[2] ?? ctx.fail('missing operand 2');
  const { r, xKept, posKept, capacity } = selectTokens(ins, a, ctx);
  const [h1, u, ...extras] = ctx.runRegion(a.body, { x_kept: xKept, positions_kept: posKept });
  if (h1 === undefined || u === undefined) return ctx.fail('modRoute body returned fewer than 2 values');
  const y = stringCombineData(x, h1.data, u.data, r.keptAll, r.weights, routable.data, ctx.fail);
  return [{ dtype: x.dtype, shape: [...x.shape], data: y }, { dtype: 'i32', shape: [capacity], data: Int32Array.from(r.keptRoutable) }, ...extras];
}

export function fusedRouteReference(ins: readonly HostTensor[], a: OpAttrs['fusedRoute'], ctx: KernelContext): HostTensor[] {
  const { r, xKept, posKept, capacity } = selectTokens(ins, a, ctx);
  return [
    xKept,
    posKept,
    { dtype: 'i32', shape: [r.keptAll.length], data: Int32Array.from(r.keptAll) },
    { dtype: 'f32', shape: [r.weights.length], data: r.weights },
    { dtype: 'i32', shape: [capacity], data: Int32Array.from(r.keptRoutable) },
  ];
}

export function stringCombineReference(ins: readonly HostTensor[], ctx: KernelContext): HostTensor {
  const [x, h1, u, rowMap, gate, routable] = [0, 1, 2, 3, 4, 5].map((i) => ins[i] ?? ctx.fail(`missing operand ${i}`)) as HostTensor[] as [HostTensor, HostTensor, HostTensor, HostTensor, HostTensor, HostTensor];
  return { dtype: x.dtype, shape: [...x.shape], data: stringCombineData(x, h1.data, u.data, rowMap.data, gate.data, routable.data, ctx.fail) };
}
