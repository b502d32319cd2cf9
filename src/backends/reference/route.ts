/**
 * Reference semantics of the p-MoD routing region (method section 3), written to be read against the paper:
 * router score, TanhNorm weight, deterministic top-k over routable tokens, the layer body on the kept tokens in
 * sequence order with their original positions, then the STRing combine back into the full sequence.
 */
import { allocData, type HostTensor, type OpAttrs } from '../../ir/index.js';
import type { KernelContext } from './kernels.js';
import { topkIndices } from './topk.js';

export function countTrue(mask: HostTensor): number {
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) if (mask.data[i]) n++;
  return n;
}

export interface RoutingDecision {
  /** Router logits z_t (float32) for every token. */
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
    let z = 0;
    for (let i = 0; i < d; i++) z += (x.data[t * d + i] ?? 0) * (routerWeight.data[i] ?? 0);
    scores[t] = z + b;
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

export function modRouteReference(ins: readonly HostTensor[], a: OpAttrs['modRoute'], ctx: KernelContext): HostTensor[] {
  const [x, pos, routable, rw, rb] = [0, 1, 2, 3, 4].map((i) => ins[i] ?? ctx.fail(`missing operand ${i}`)) as [
    HostTensor, HostTensor, HostTensor, HostTensor, HostTensor,
  ];
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
  const [h1, u, ...extras] = ctx.runRegion(a.body, {
    x_kept: { dtype: x.dtype, shape: [r.keptAll.length, d], data: xKept },
    positions_kept: { dtype: 'i32', shape: [r.keptAll.length], data: posKept },
  });
  if (h1 === undefined || u === undefined) return ctx.fail('modRoute body returned fewer than 2 values');

  // STRing combine, per original position.
  const y = allocData(x.dtype, x.data.length);
  const s = x.shape[0] ?? 0;
  for (let t = 0; t < s; t++) {
    if (!routable.data[t]) continue;
    const w = r.weights[t] ?? 1;
    for (let i = 0; i < d; i++) y[t * d + i] = w * (x.data[t * d + i] ?? 0); // skipped: w * x (overwritten if kept)
  }
  r.keptAll.forEach((t, k) => {
    const w = routable.data[t] ? (r.weights[t] ?? 1) : 1; // text tokens: h1 + u; kept vision: h1 + w * u
    for (let i = 0; i < d; i++) y[t * d + i] = (h1.data[k * d + i] ?? 0) + w * (u.data[k * d + i] ?? 0);
  });
  return [
    { dtype: x.dtype, shape: [...x.shape], data: y },
    { dtype: 'i32', shape: [capacity], data: Int32Array.from(r.keptRoutable) },
    ...extras,
  ];
}
