/**
 * `arbGraph`: a fast-check Arbitrary of random well-typed graphs with concrete inputs and weights, built from a
 * shrinkable plan of steps (elementwise trees, linears with biases, RMSNorm, fused and decomposed attention,
 * modRoute regions with random N_v, capacities, routable masks and score ties, duplicates, dead code,
 * identities). The plan shrinks, so a failing property is reported on a small graph.
 */
import fc from 'fast-check';
import { add, BINARY_FNS, floorMul, GraphBuilder, makeTensor, } from '../ir/index.js';
import { randomWeights, Rng } from '../runtime/random.js';
import { decomposedAttention } from './patterns.js';
/** Unary functions that are finite and well conditioned on all of R (no log/sqrt/recip of random values). */
const SAFE_UNARY = ['neg', 'abs', 'tanh', 'sigmoid', 'relu', 'silu', 'gelu_tanh', 'gelu_erf', 'quick_gelu', 'sin', 'cos', 'square'];
const SAFE_BINARY = BINARY_FNS.filter((f) => f !== 'div' && f !== 'pow');
function stepArb(depth, opts) {
    const src = fc.nat(1000);
    const leaf = [
        fc.record({ k: fc.constant('unary'), fn: fc.constantFrom(...SAFE_UNARY), src }),
        fc.record({ k: fc.constant('binary'), fn: fc.constantFrom(...SAFE_BINARY), a: src, b: src }),
        fc.record({ k: fc.constant('scalar'), fn: fc.constantFrom(...SAFE_BINARY), src, value: fc.constantFrom(0, 1, 0.5, -2) }),
        fc.record({ k: fc.constant('rowBroadcast'), fn: fc.constantFrom(...SAFE_BINARY), src }),
        fc.record({ k: fc.constant('linear'), src, bias: fc.boolean(), residual: fc.boolean() }),
        fc.record({ k: fc.constant('rmsnorm'), src }),
        fc.record({ k: fc.constant('mlp'), src }),
        fc.record({ k: fc.constant('duplicate'), src }),
        fc.record({ k: fc.constant('identity'), src, which: fc.constantFrom('add0', 'mul1', 'reshape', 'transpose2') }),
    ];
    if (opts.attention)
        leaf.push(fc.record({ k: fc.constant('attention'), src, decomposed: fc.boolean(), causal: fc.boolean() }));
    if (depth > 0 || !opts.routes)
        return fc.oneof(...leaf);
    const route = fc.record({
        k: fc.constant('route'),
        src,
        ratio: fc.constantFrom(0, 0.15, 0.5, 0.8117449009293668, 1),
        body: fc.array(stepArb(depth + 1, opts), { maxLength: 4 }),
    });
    return fc.oneof({ arbitrary: fc.oneof(...leaf), weight: 4 }, { arbitrary: route, weight: 1 });
}
export function arbGraphPlan(options = {}) {
    const opts = {
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
    b;
    plan;
    routable;
    serial = 0;
    constructor(b, plan, 
    /** The routable mask of the top-level graph; region bodies have none (no nested routing). */
    routable) {
        this.b = b;
        this.plan = plan;
        this.routable = routable;
    }
    w(shape) {
        return this.b.weight(`w${this.serial++}`, this.plan.weightDtype, shape);
    }
    name(kind) {
        return `${kind}${this.serial++}`;
    }
    /** Runs the steps on a pool of [n, d] values; returns the pool. */
    run(steps, pool, n, positions, allowRoutes) {
        const d = this.plan.d;
        const b = this.b;
        const pick = (i) => pool[i % pool.length];
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
                    const proj = (tag) => b.reshape(b.linear(x, this.w([d, d]), undefined, this.name(tag)), [n, heads, hd], this.name(`${tag}h`));
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
                        const inner = new PlanBuilder(rb, this.plan, undefined);
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
                    const one = (v) => b.full(v, 'f32', [], this.name('c'));
                    if (s.which === 'add0')
                        pool.push(b.add(x, one(0), this.name('add0')));
                    else if (s.which === 'mul1')
                        pool.push(b.mul(one(1), x, this.name('mul1')));
                    else if (s.which === 'reshape')
                        pool.push(b.reshape(x, [n, d], this.name('same_shape')));
                    else
                        pool.push(b.transpose(b.transpose(x, [1, 0], this.name('t1')), [1, 0], this.name('t2')));
                    break;
                }
            }
        }
        return pool;
    }
}
/** Builds the graph and its concrete inputs and weights from a plan. */
export function buildCase(plan) {
    const b = new GraphBuilder('arb', { T: [1, Math.max(plan.T, 1)], N_v: [0, Math.max(plan.N_v, 0)] });
    const s = add(b.sym('T'), b.sym('N_v'));
    const x = b.input('x', 'f32', [s, plan.d]);
    const routable = b.input('routable', 'bool', [s]);
    const positions = b.iota(s, 'positions');
    const pb = new PlanBuilder(b, plan, routable);
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
    if (plan.duplicateVisionRow && v0 !== undefined && v1 !== undefined)
        xs.data.copyWithin(v1 * plan.d, v0 * plan.d, (v0 + 1) * plan.d);
    const weights = randomWeights(graph, plan.seed);
    if (plan.zeroRouter) {
        for (const name of weights.names()) {
            const t = weights.get(name);
            if (t.shape.length === 2 && t.shape[0] === 1)
                t.data.fill(0);
        }
    }
    return { plan, graph, inputs: { x: xs, routable: mask }, weights, symbols: { N_v: plan.N_v } };
}
/** Random well-typed graphs with inputs, weights and symbol values. */
export function arbGraph(options = {}) {
    return arbGraphPlan(options).map(buildCase);
}
