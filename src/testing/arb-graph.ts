/**
 * `arbGraph`: a fast-check Arbitrary of random well-typed graphs with concrete inputs and weights, built from a
 * shrinkable plan of steps. Every op kind a user graph can hold appears (only the fused ops, which passes produce,
 * do not): elementwise trees over every unary and binary function (the ones with a restricted domain are fed
 * values inside it), linears with biases and free matmuls, RMSNorm and LayerNorm, RoPE, fused and decomposed
 * attention, concat and slice, casts, reductions, top-k with gather and scatter, embeddings, cache writes,
 * compare / logical / where, modRoute regions with random N_v, capacities, routable masks and score ties, duplicates, dead code and
 * identities. The plan shrinks, so a failing property is reported on a small graph.
 */
import fc from 'fast-check';
import {
  add,
  BINARY_FNS,
  type BinaryFn,
  COMPARE_FNS,
  type CompareFn,
  LOGICAL_FNS,
  type LogicalFn,
  REDUCE_FNS,
  type ReduceFn,
  TOPK_ORDERS,
  type TopKOrder,
  type Dim,
  type DType,
  floorMul,
  type Graph,
  GraphBuilder,
  type HostTensor,
  makeTensor,
  type MapStore,
  type UnaryFn,
  type Value,
} from '../ir/index.js';
import { randomWeights, Rng } from '../runtime/random.js';
import { decomposedAttention } from './patterns.js';

/** Unary functions that are finite and well conditioned on all of R. */
const SAFE_UNARY: readonly UnaryFn[] = ['neg', 'abs', 'tanh', 'sigmoid', 'relu', 'silu', 'gelu_tanh', 'gelu_erf', 'quick_gelu', 'sin', 'cos', 'square'];
/** The others, fed values where they are well conditioned: exp of tanh(x), the rest of 1 + x^2 (at least 1). */
const DOMAIN_UNARY = ['exp', 'log', 'sqrt', 'rsqrt', 'recip'] as const;
const SAFE_BINARY: readonly BinaryFn[] = BINARY_FNS.filter((f) => f !== 'div' && f !== 'pow');
/** Size of the embedding table of the `embed` step (token ids are drawn below it). */
const EMBED_ROWS = 7;

export type Step =
  | { readonly k: 'unary'; readonly fn: UnaryFn; readonly src: number }
  | { readonly k: 'binary'; readonly fn: BinaryFn; readonly a: number; readonly b: number }
  | { readonly k: 'scalar'; readonly fn: BinaryFn; readonly src: number; readonly value: number }
  | { readonly k: 'rowBroadcast'; readonly fn: BinaryFn; readonly src: number }
  | { readonly k: 'linear'; readonly src: number; readonly bias: boolean; readonly residual: boolean }
  | { readonly k: 'rmsnorm'; readonly src: number }
  | { readonly k: 'mlp'; readonly src: number }
  | { readonly k: 'attention'; readonly src: number; readonly decomposed: boolean; readonly causal: boolean }
  | { readonly k: 'route'; readonly src: number; readonly ratio: number; readonly body: readonly Step[] }
  | { readonly k: 'duplicate'; readonly src: number }
  | { readonly k: 'identity'; readonly src: number; readonly which: 'add0' | 'mul1' | 'reshape' | 'transpose2' | 'neg2' }
  | { readonly k: 'domain'; readonly fn: (typeof DOMAIN_UNARY)[number]; readonly src: number }
  | { readonly k: 'divpow'; readonly fn: 'div' | 'pow'; readonly a: number; readonly b: number; readonly exponent: number }
  | { readonly k: 'layernorm'; readonly src: number }
  | { readonly k: 'rope'; readonly src: number; readonly theta: number; readonly partial: boolean }
  | { readonly k: 'concatSlice'; readonly a: number; readonly b: number; readonly start: number }
  | { readonly k: 'reduce'; readonly fn: ReduceFn; readonly src: number; readonly keepDims: boolean }
  | { readonly k: 'select'; readonly src: number; readonly ratio: number; readonly order: TopKOrder; readonly masked: boolean }
  | { readonly k: 'embed'; readonly src: number }
  | { readonly k: 'matmul'; readonly src: number; readonly transposeB: boolean }
  | { readonly k: 'cast'; readonly src: number; readonly via: 'f16' | 'bf16' }
  | { readonly k: 'logical'; readonly a: number; readonly b: number; readonly cmp: CompareFn; readonly fn: LogicalFn }
  | { readonly k: 'cacheWrite'; readonly a: number; readonly b: number; readonly middle: boolean };

export interface GraphPlan {
  readonly T: number;
  readonly N_v: number;
  readonly d: number;
  readonly seed: number;
  readonly weightDtype: DType;
  /** Zero router weights: every score ties and top-k must fall back to the lower index. */
  readonly zeroRouter: boolean;
  /** Copy one vision row onto another: two equal scores inside the routable set. */
  readonly duplicateVisionRow: boolean;
  readonly steps: readonly Step[];
  readonly outputs: number;
}

export interface GraphCase {
  readonly plan: GraphPlan;
  readonly graph: Graph;
  readonly inputs: Readonly<Record<string, HostTensor>>;
  readonly weights: MapStore;
  readonly symbols: Readonly<Record<string, number>>;
}

export interface ArbGraphOptions {
  /** Most top-level steps (default 8). */
  maxSteps?: number;
  /** Upper bounds of T (text tokens, >= 1) and N_v (vision tokens) (defaults 6 and 6). */
  maxText?: number;
  maxVision?: number;
  /** Include modRoute regions (default true), attention (default true). */
  routes?: boolean;
  attention?: boolean;
  /** Weight storage dtypes to draw from (default f32 only). */
  weightDtypes?: readonly DType[];
}

function stepArb(depth: number, opts: Required<ArbGraphOptions>): fc.Arbitrary<Step> {
  const src = fc.nat(1000);
  const leaf: fc.Arbitrary<Step>[] = [
    fc.record({ k: fc.constant('unary' as const), fn: fc.constantFrom(...SAFE_UNARY), src }),
    fc.record({ k: fc.constant('binary' as const), fn: fc.constantFrom(...SAFE_BINARY), a: src, b: src }),
    fc.record({ k: fc.constant('scalar' as const), fn: fc.constantFrom(...SAFE_BINARY), src, value: fc.constantFrom(0, 1, 0.5, -2) }),
    fc.record({ k: fc.constant('rowBroadcast' as const), fn: fc.constantFrom(...SAFE_BINARY), src }),
    fc.record({ k: fc.constant('linear' as const), src, bias: fc.boolean(), residual: fc.boolean() }),
    fc.record({ k: fc.constant('rmsnorm' as const), src }),
    fc.record({ k: fc.constant('mlp' as const), src }),
    fc.record({ k: fc.constant('duplicate' as const), src }),
    fc.record({ k: fc.constant('identity' as const), src, which: fc.constantFrom('add0' as const, 'mul1' as const, 'reshape' as const, 'transpose2' as const, 'neg2' as const) }),
  ];
  // The rest of the op table, drawn a quarter of the time so the layer patterns the passes target stay common.
  const more: fc.Arbitrary<Step>[] = [
    fc.record({ k: fc.constant('domain' as const), fn: fc.constantFrom(...DOMAIN_UNARY), src }),
    fc.record({ k: fc.constant('divpow' as const), fn: fc.constantFrom('div' as const, 'pow' as const), a: src, b: src, exponent: fc.constantFrom(0.5, 2, -1.5) }),
    fc.record({ k: fc.constant('layernorm' as const), src }),
    fc.record({ k: fc.constant('rope' as const), src, theta: fc.constantFrom(10000, 500), partial: fc.boolean() }),
    fc.record({ k: fc.constant('concatSlice' as const), a: src, b: src, start: fc.nat(8) }),
    fc.record({ k: fc.constant('reduce' as const), fn: fc.constantFrom(...REDUCE_FNS), src, keepDims: fc.boolean() }),
    fc.record({ k: fc.constant('select' as const), src, ratio: fc.constantFrom(0, 0.5, 1), order: fc.constantFrom(...TOPK_ORDERS), masked: fc.boolean() }),
    fc.record({ k: fc.constant('embed' as const), src }),
    fc.record({ k: fc.constant('matmul' as const), src, transposeB: fc.boolean() }),
    fc.record({ k: fc.constant('cast' as const), src, via: fc.constantFrom('f16' as const, 'bf16' as const) }),
    fc.record({ k: fc.constant('logical' as const), a: src, b: src, cmp: fc.constantFrom(...COMPARE_FNS), fn: fc.constantFrom(...LOGICAL_FNS) }),
    fc.record({ k: fc.constant('cacheWrite' as const), a: src, b: src, middle: fc.boolean() }),
  ];
  if (opts.attention) leaf.push(fc.record({ k: fc.constant('attention' as const), src, decomposed: fc.boolean(), causal: fc.boolean() }));
  const step = fc.oneof({ arbitrary: fc.oneof(...leaf), weight: 3 }, { arbitrary: fc.oneof(...more), weight: 1 });
  if (depth > 0 || !opts.routes) return step;
  const route = fc.record({
    k: fc.constant('route' as const),
    src,
    ratio: fc.constantFrom(0, 0.15, 0.5, 0.8117449009293668, 1),
    body: fc.array(stepArb(depth + 1, opts), { maxLength: 4 }),
  });
  return fc.oneof({ arbitrary: step, weight: 4 }, { arbitrary: route, weight: 1 });
}

export function arbGraphPlan(options: ArbGraphOptions = {}): fc.Arbitrary<GraphPlan> {
  const opts: Required<ArbGraphOptions> = {
    maxSteps: options.maxSteps ?? 8,
    maxText: options.maxText ?? 6,
    maxVision: options.maxVision ?? 6,
    routes: options.routes ?? true,
    attention: options.attention ?? true,
    weightDtypes: options.weightDtypes ?? ['f32'],
  };
  return fc.record({
    T: fc.integer({ min: 1, max: opts.maxText }),
    N_v: fc.integer({ min: 0, max: opts.maxVision }),
    d: fc.constantFrom(4, 8),
    seed: fc.nat(1 << 30),
    weightDtype: fc.constantFrom(...opts.weightDtypes),
    zeroRouter: fc.boolean(),
    duplicateVisionRow: fc.boolean(),
    steps: fc.array(stepArb(0, opts), { minLength: 1, maxLength: opts.maxSteps }),
    outputs: fc.integer({ min: 1, max: 3 }),
  });
}

class PlanBuilder {
  private serial = 0;
  constructor(
    private readonly b: GraphBuilder,
    private readonly plan: GraphPlan,
    /** The routable mask and token ids of the top-level graph; region bodies have neither (no nested routing). */
    private readonly routable: Value | undefined,
    private readonly ids: Value | undefined,
  ) {}

  private w(shape: readonly Dim[]): Value {
    return this.b.weight(`w${this.serial++}`, this.plan.weightDtype, shape);
  }

  private name(kind: string): string {
    return `${kind}${this.serial++}`;
  }

  /** Runs the steps on a pool of [n, d] values; returns the pool. */
  run(steps: readonly Step[], pool: Value[], n: Dim, positions: Value, allowRoutes: boolean): Value[] {
    const d = this.plan.d;
    const b = this.b;
    const pick = (i: number): Value => pool[i % pool.length] as Value;
    for (const s of steps) {
      const x = pick('src' in s ? s.src : s.a);
      switch (s.k) {
        case 'unary':
          pool.push(b.unary(s.fn, x, this.name('u')));
          break;
        case 'binary':
          pool.push(b.binary(s.fn, x, pick(s.b), this.name('bin')));
          break;
        case 'scalar':
          pool.push(b.binary(s.fn, x, b.full(s.value, 'f32', [], this.name('c')), this.name('sc')));
          break;
        case 'rowBroadcast':
          pool.push(b.binary(s.fn, x, b.cast(this.w([d]), 'f32'), this.name('row')));
          break;
        case 'linear': {
          const y = b.linear(x, this.w([d, d]), s.bias ? this.w([d]) : undefined, this.name('lin'));
          pool.push(s.residual ? b.add(x, y, this.name('res')) : y);
          break;
        }
        case 'rmsnorm':
          pool.push(b.rmsnorm(x, this.w([d]), 1e-5, this.name('norm')));
          break;
        case 'mlp': {
          const h = b.rmsnorm(x, this.w([d]), 1e-5, this.name('mlpnorm'));
          const g = b.unary('silu', b.linear(h, this.w([2 * d, d]), undefined, this.name('gate')), this.name('act'));
          const u = b.linear(h, this.w([2 * d, d]), undefined, this.name('up'));
          pool.push(b.add(x, b.linear(b.mul(g, u, this.name('glu')), this.w([d, 2 * d]), undefined, this.name('down')), this.name('mlpres')));
          break;
        }
        case 'attention': {
          const heads = 2;
          const hd = d / heads;
          const proj = (tag: string): Value => b.reshape(b.linear(x, this.w([d, d]), undefined, this.name(tag)), [n, heads, hd], this.name(`${tag}h`));
          const [q, kk, v] = [proj('q'), proj('k'), proj('v')];
          const scale = 1 / Math.sqrt(hd);
          const o = s.decomposed
            ? decomposedAttention(b, q, kk, v, positions, positions, { scale, causal: s.causal }, this.name('dattn'))
            : b.attention(q, kk, v, positions, positions, { scale, causal: s.causal }, this.name('attn'));
          pool.push(b.reshape(o, [n, d], this.name('merge')));
          break;
        }
        case 'route': {
          if (!allowRoutes || this.routable === undefined) {
            pool.push(b.unary('tanh', x, this.name('u')));
            break;
          }
          const nv = b.sym('N_v');
          const capacity = floorMul(nv, s.ratio);
          const res = b.modRoute(x, positions, this.routable, this.w([1, d]), this.w([1]), { capacity, routableCount: nv, ratio: s.ratio, alpha: 0.2, bias: 1 }, (rb, xk, pk) => {
            const inner = new PlanBuilder(rb, this.plan, undefined, undefined);
            inner.serial = this.serial + 1000;
            const kept = add(b.sym('T'), capacity);
            const bodyPool = inner.run(s.body, [xk], kept, pk, false);
            const last = bodyPool[bodyPool.length - 1] ?? xk;
            const h1 = rb.add(xk, rb.linear(last, inner.w([d, d]), undefined, 'o_proj'), 'h1');
            const u = rb.linear(rb.unary('silu', rb.rmsnorm(h1, inner.w([d]), 1e-5, 'post_norm'), 'act'), inner.w([d, d]), undefined, 'down_proj');
            this.serial = inner.serial;
            return { h1, u };
          }, this.name('route'));
          pool.push(res.y);
          break;
        }
        case 'duplicate': {
          // The same op on the same operand twice: CSE must merge them.
          pool.push(b.unary('tanh', x, this.name('dupa')), b.unary('tanh', x, this.name('dupb')));
          break;
        }
        case 'identity': {
          const one = (v: number): Value => b.full(v, 'f32', [], this.name('c'));
          if (s.which === 'add0') pool.push(b.add(x, one(0), this.name('add0')));
          else if (s.which === 'mul1') pool.push(b.mul(one(1), x, this.name('mul1')));
          else if (s.which === 'reshape') pool.push(b.reshape(x, [n, d], this.name('same_shape')));
          else if (s.which === 'transpose2') pool.push(b.transpose(b.transpose(x, [1, 0], this.name('t1')), [1, 0], this.name('t2')));
          else pool.push(b.unary('neg', b.unary('neg', x, this.name('neg')), this.name('negneg')));
          break;
        }
        default:
          pool.push(this.more(s, x, pick, n, positions));
      }
    }
    return pool;
  }

  /** 1 + x^2: at least 1, where log, sqrt, rsqrt, recip and pow are well conditioned. */
  private atLeastOne(x: Value): Value {
    const b = this.b;
    return b.add(b.full(1, 'f32', [], this.name('one')), b.unary('square', x, this.name('sq')), this.name('pos'));
  }

  /** The steps over the rest of the op table; each maps [n, d] values to an [n, d] value. */
  private more(s: Step, x: Value, pick: (i: number) => Value, n: Dim, positions: Value): Value {
    const b = this.b;
    const d = this.plan.d;
    switch (s.k) {
      case 'domain':
        return b.unary(s.fn, s.fn === 'exp' ? b.unary('tanh', x, this.name('u')) : this.atLeastOne(x), this.name(s.fn));
      case 'divpow':
        return s.fn === 'div'
          ? b.binary('div', x, this.atLeastOne(pick(s.b)), this.name('div'))
          : b.binary('pow', this.atLeastOne(x), b.full(s.exponent, 'f32', [], this.name('c')), this.name('pow'));
      case 'layernorm':
        return b.layernorm(x, this.w([d]), this.w([d]), 1e-5, this.name('ln'));
      case 'rope': {
        const hd = d / 2;
        const heads = b.reshape(x, [n, 2, hd], this.name('ropeh'));
        const r = b.rope(heads, positions, s.theta, s.partial && hd >= 4 ? hd / 2 : hd, this.name('rope'));
        return b.reshape(r, [n, d], this.name('ropem'));
      }
      case 'concatSlice': {
        const start = s.start % (d + 1);
        return b.slice(b.concat([x, pick(s.b)], 1, this.name('cat')), 1, start, start + d, this.name('slice'));
      }
      case 'reduce': {
        const r = b.reduce(s.fn, x, [1], s.keepDims, this.name(s.fn));
        return b.add(x, s.keepDims ? r : b.reshape(r, [n, 1], this.name('col')), this.name('radd'));
      }
      case 'select': {
        // Top-k rows by a row score, changed in place: gather, transform, scatter back. Top level only, where
        // checkPass tells a flip at a near-tie from a broken pass.
        if (this.routable === undefined) return b.unary('tanh', x, this.name('u'));
        const scores = b.reduce('sum', x, [1], false, this.name('rowsum'));
        // Masked, only the N_v routable rows are candidates.
        const k = floorMul(s.masked ? b.sym('N_v') : n, s.ratio);
        const idx = b.topk(scores, k, { order: s.order, ...(s.masked ? { mask: this.routable } : {}) }, this.name('topk'));
        const rows = b.unary('tanh', b.gatherRows(x, idx, this.name('gather')), this.name('u'));
        return b.scatterRows(x, idx, rows, this.name('scatter'));
      }
      case 'embed':
        if (this.ids === undefined) return b.unary('tanh', x, this.name('u'));
        return b.add(x, b.embedding(b.cast(this.w([EMBED_ROWS, d]), 'f32'), this.ids, this.name('embed')), this.name('eadd'));
      case 'matmul':
        return b.matmul(x, b.cast(this.w([d, d]), 'f32'), { transposeB: s.transposeB }, this.name('mm'));
      case 'cast':
        return b.cast(b.cast(x, s.via, this.name('narrow')), 'f32', this.name('widen'));
      case 'logical': {
        const y = pick(s.b);
        const m1 = b.compare(s.cmp, x, b.full(0, 'f32', [], this.name('zero')), this.name('cmp'));
        const m2 = b.compare('gt', y, x, this.name('cmp'));
        return b.where(b.logical(s.fn, m1, m2, this.name(s.fn)), x, y, this.name('where'));
      }
      case 'cacheWrite': {
        // One row of another value written over row 0, or over row floor(n / 2) (always inside: n >= 1).
        const row = b.slice(pick(s.b), 0, 0, 1, this.name('row'));
        return b.cacheWrite(x, row, s.middle ? floorMul(n, 0.5) : 0, this.name('cachewrite'));
      }
      default:
        return b.unary('tanh', x, this.name('u'));
    }
  }
}

/** Builds the graph and its concrete inputs and weights from a plan. */
export function buildCase(plan: GraphPlan): GraphCase {
  const b = new GraphBuilder('arb', { T: [1, Math.max(plan.T, 1)], N_v: [0, Math.max(plan.N_v, 0)] });
  const s = add(b.sym('T'), b.sym('N_v'));
  const x = b.input('x', 'f32', [s, plan.d]);
  const routable = b.input('routable', 'bool', [s]);
  const ids = b.input('ids', 'i32', [s]);
  const positions = b.iota(s, 'positions');
  const pb = new PlanBuilder(b, plan, routable, ids);
  const pool = pb.run(plan.steps, [x], s, positions, true);
  const outs = pool.slice(-plan.outputs);
  outs.forEach((v, i) => b.output(`out${i}`, v));
  const graph = b.build();

  const rng = new Rng(plan.seed);
  const S = plan.T + plan.N_v;
  const xs = makeTensor('f32', [S, plan.d], Array.from({ length: S * plan.d }, () => rng.normal()));
  const order = Array.from({ length: S }, (_, i) => i).sort(() => rng.next() - 0.5);
  const vision = order.slice(0, plan.N_v).sort((a, c) => a - c);
  const mask = makeTensor('bool', [S], Array.from({ length: S }, (_, i) => (vision.includes(i) ? 1 : 0)));
  const [v0, v1] = vision;
  if (plan.duplicateVisionRow && v0 !== undefined && v1 !== undefined) xs.data.copyWithin(v1 * plan.d, v0 * plan.d, (v0 + 1) * plan.d);
  const weights = randomWeights(graph, plan.seed);
  if (plan.zeroRouter) {
    for (const name of weights.names()) {
      const t = weights.get(name);
      if (t.shape.length === 2 && t.shape[0] === 1) t.data.fill(0);
    }
  }
  const tokenIds = makeTensor('i32', [S], Array.from({ length: S }, () => Math.floor(rng.next() * EMBED_ROWS)));
  return { plan, graph, inputs: { x: xs, routable: mask, ids: tokenIds }, weights, symbols: { N_v: plan.N_v } };
}

/** Random well-typed graphs with inputs, weights and symbol values. */
export function arbGraph(options: ArbGraphOptions = {}): fc.Arbitrary<GraphCase> {
  return arbGraphPlan(options).map(buildCase);
}
