/**
 * The cost model: FLOPs and KV-cache entries of every op, in an exhaustive table, evaluated on a graph with its
 * symbols bound. Convention (method doc section 5): multiply-adds count 2 FLOPs in linear layers, matmuls and
 * attention (QK^T and AV); the router counts 2d per routable token; norms, activations, RoPE, softmax and
 * data movement count 0, as in the paper's TFLOPs figures.
 */
import {
  evalDim,
  type Graph,
  type Node,
  type OpKind,
  sizeOf,
  type SymEnv,
} from '../ir/index.js';

/** How attention FLOPs are counted: c = 4 (full QK^T and AV) or c = 2 (the causal half only). */
export type AttentionCounting = 'full' | 'causal-half';

export interface CostContext {
  readonly env: SymEnv;
  readonly attention: AttentionCounting;
  /** Cost of a nested region (modRoute bodies). */
  region(body: Graph): NodeCost[];
}

export interface NodeCost {
  readonly node: Node;
  /** Nodes enclosing this one (modRoute regions), outermost first. */
  readonly path: readonly Node[];
  readonly flops: number;
  /** Tokens whose keys and values this node caches (attention: its key count), else 0. */
  readonly kvTokens: number;
}

type CostRule<K extends OpKind> = (ins: readonly (readonly number[])[], outs: readonly (readonly number[])[], node: Extract<Node, { op: K }>, ctx: CostContext) => { flops: number; kvTokens?: number };

const free = (): { flops: number } => ({ flops: 0 });
const last = (s: readonly number[] | undefined): number => s?.[s.length - 1] ?? 0;

export const COST_RULES: { readonly [K in OpKind]: CostRule<K> } = {
  input: free,
  weight: free,
  full: free,
  iota: free,
  embedding: free,
  linear: (ins, outs) => ({ flops: 2 * sizeOf(outs[0] ?? []) * last(ins[0]) }),
  matmul: (ins, outs, n) => {
    const a = ins[0] ?? [];
    const k = n.attrs.transposeA ? (a[a.length - 2] ?? 0) : last(a);
    return { flops: 2 * sizeOf(outs[0] ?? []) * k };
  },
  unary: free,
  binary: free,
  compare: free,
  logical: free,
  where: free,
  cast: free,
  reduce: free,
  rmsnorm: free,
  layernorm: free,
  softmax: free,
  rope: free,
  reshape: free,
  transpose: free,
  concat: free,
  slice: free,
  attention: (ins, _outs, _n, ctx) => {
    const [q, k] = [ins[0] ?? [], ins[1] ?? []];
    const [sq, h, d] = [q[0] ?? 0, q[1] ?? 0, q[2] ?? 0];
    const sk = k[0] ?? 0;
    const c = ctx.attention === 'full' ? 4 : 2;
    return { flops: c * sq * sk * h * d, kvTokens: sk };
  },
  topk: free,
  gatherRows: free,
  scatterRows: free,
  cacheWrite: free,
  modRoute: (ins, _outs, n, ctx) => {
    const d = last(ins[0]);
    const routable = evalDim(n.attrs.routableCount, ctx.env);
    const body = ctx.region(n.attrs.body);
    return { flops: 2 * d * routable + body.reduce((a, c) => a + c.flops, 0) };
  },
  fusedRoute: (ins, _outs, n, ctx) => ({ flops: 2 * last(ins[0]) * evalDim(n.attrs.routableCount, ctx.env) }),
  stringCombine: free,
  fusedElementwise: free,
  fusedLinear: (ins) => {
    const x = ins[0] ?? [];
    const w = ins[1] ?? [];
    return { flops: 2 * sizeOf(x.slice(0, -1)) * last(x) * (w[0] ?? 0) };
  },
};

/** Costs of every node of the graph (region bodies included, after their modRoute node). */
export function graphCosts(g: Graph, env: SymEnv, attention: AttentionCounting = 'causal-half', path: readonly Node[] = []): NodeCost[] {
  const shapes = new Map<number, (readonly number[])[]>();
  const out: NodeCost[] = [];
  for (const node of g.nodes) {
    const outs = node.outputs.map((t) => t.shape.map((d) => evalDim(d, env)));
    shapes.set(node.id, outs);
    const ins = node.inputs.map((r) => shapes.get(r.node)?.[r.output] ?? []);
    let nested: NodeCost[] = [];
    const ctx: CostContext = {
      env,
      attention,
      region: (body) => {
        nested = graphCosts(body, env, attention, [...path, node]);
        return nested;
      },
    };
    const rule = COST_RULES[node.op] as CostRule<OpKind>;
    const c = rule(ins, outs, node as never, ctx);
    const bodyFlops = nested.reduce((a, n) => a + n.flops, 0);
    // A region's own entry keeps only its own work (the router); its body's nodes are listed after it.
    out.push({ node, path, flops: c.flops - bodyFlops, kvTokens: c.kvTokens ?? 0 }, ...nested);
  }
  return out;
}
