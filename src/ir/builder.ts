/**
 * The builder DSL: TypeScript calls that append typed nodes to a graph. Every call runs the op's type rule at
 * once, so a model definition with a shape or dtype mistake fails where it is written, naming the node.
 */
import type { DType } from './dtype.js';
import { BuildError } from './errors.js';
import { freezeGraph, type Graph, type GraphOutput, type Node, type NodeOf, type ValueRef } from './graph.js';
import type { BinaryFn, CompareFn, LogicalFn, OpAttrs, OpKind, ReduceFn, TopKOrder, UnaryFn } from './ops.js';
import { add as addDim, type Dim, sub as subDim, type SymbolDecl, sym } from './sym.js';
import { inferTypes } from './typerules.js';
import { type TensorType, TypeRuleError } from './types.js';
import { verify } from './verify.js';

let builderSerial = 0;

/** A value under construction: a reference plus its type, tied to the builder that made it. */
export class Value {
  constructor(
    readonly ref: ValueRef,
    readonly type: TensorType,
    /** Identifies the graph the value belongs to, so a value cannot leak into another region by mistake. */
    readonly owner: number,
  ) {}
  get shape(): readonly Dim[] {
    return this.type.shape;
  }
  get dtype(): DType {
    return this.type.dtype;
  }
}

export interface ModRouteSpec {
  capacity: Dim;
  routableCount: Dim;
  ratio: number;
  alpha: number;
  bias: number;
}

export interface ModRouteBody {
  h1: Value;
  u: Value;
  /** Extra per-kept-token outputs exported from the region (for example the layer's K/V for the cache). */
  extras?: readonly { name: string; value: Value }[];
}

export interface ModRouteResult {
  y: Value;
  kept: Value;
  extras: Value[];
}

export type SymbolSpec = readonly SymbolDecl[] | Readonly<Record<string, readonly [number, number]>>;

function toDecls(spec: SymbolSpec): SymbolDecl[] {
  if (Array.isArray(spec)) return [...(spec as readonly SymbolDecl[])];
  return Object.entries(spec as Record<string, readonly [number, number]>).map(([name, [lo, hi]]) => ({ name, min: lo, max: hi }));
}

export class GraphBuilder {
  private readonly nodes: Node[] = [];
  private readonly outs: GraphOutput[] = [];
  private readonly prefix: string[];
  private readonly serial = ++builderSerial;
  readonly symbols: readonly SymbolDecl[];

  constructor(
    readonly name: string,
    symbols: SymbolSpec = [],
    prefix: readonly string[] = [],
    private readonly isRegion = false,
  ) {
    this.symbols = toDecls(symbols);
    this.prefix = [...prefix];
  }

  /** A declared symbol as a Dim. */
  sym(name: string): Dim {
    if (!this.symbols.some((s) => s.name === name)) throw new BuildError(`unknown symbol '${name}' in graph '${this.name}'`);
    return sym(name);
  }

  /** Runs f with `name` appended to the node-name prefix ('layers.3' then 'self_attn' -> 'layers.3.self_attn.q_proj'). */
  scope<T>(name: string, f: () => T): T {
    this.prefix.push(name);
    try {
      return f();
    } finally {
      this.prefix.pop();
    }
  }

  private fullName(local: string | undefined): string {
    return [...this.prefix, ...(local ? [local] : [])].join('.');
  }

  private emit<K extends OpKind>(op: K, inputs: readonly Value[], attrs: OpAttrs[K], local?: string): Value[] {
    const name = this.fullName(local);
    for (const v of inputs) {
      if (v.owner !== this.serial)
        throw new BuildError(`${op}${name ? ` '${name}'` : ''}: operand ${v.ref.node} belongs to another graph (regions cannot capture outer values; pass them as weights or region inputs)`);
    }
    let outputs: TensorType[];
    try {
      outputs = inferTypes(op, inputs.map((v) => v.type), attrs);
    } catch (e) {
      if (e instanceof TypeRuleError) throw new BuildError(`${op}${name ? ` '${name}'` : ''}: ${e.message}`);
      throw e;
    }
    const id = this.nodes.length;
    const node: NodeOf<K> = { id, op, name, inputs: inputs.map((v) => v.ref), attrs, outputs };
    this.nodes.push(asNode(node));
    return outputs.map((t, i) => new Value({ node: id, output: i }, t, this.serial));
  }

  private one<K extends OpKind>(op: K, inputs: readonly Value[], attrs: OpAttrs[K], local?: string): Value {
    const [v] = this.emit(op, inputs, attrs, local);
    if (v === undefined) throw new BuildError(`${op} produced no value`);
    return v;
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    return this.one('input', [], { name, dtype, shape }, name);
  }

  /** A checkpoint tensor; `name` is the full checkpoint name and is not prefixed. */
  weight(name: string, dtype: DType, shape: readonly Dim[]): Value {
    const id = this.nodes.length;
    const outputs: TensorType[] = [{ dtype, shape }];
    this.nodes.push({ id, op: 'weight', name, inputs: [], attrs: { name, dtype, shape }, outputs });
    return new Value({ node: id, output: 0 }, { dtype, shape }, this.serial);
  }

  full(value: number, dtype: DType, shape: readonly Dim[], name?: string): Value {
    return this.one('full', [], { value, dtype, shape }, name);
  }
  iota(length: Dim, name?: string): Value {
    return this.one('iota', [], { length }, name);
  }
  embedding(table: Value, ids: Value, name?: string): Value {
    return this.one('embedding', [table, ids], {}, name);
  }
  linear(x: Value, w: Value, bias?: Value, name?: string): Value {
    return this.one('linear', bias ? [x, w, bias] : [x, w], {}, name);
  }
  matmul(a: Value, b: Value, opts: { transposeA?: boolean; transposeB?: boolean } = {}, name?: string): Value {
    return this.one('matmul', [a, b], { transposeA: opts.transposeA ?? false, transposeB: opts.transposeB ?? false }, name);
  }
  unary(fn: UnaryFn, x: Value, name?: string): Value {
    return this.one('unary', [x], { fn }, name);
  }
  binary(fn: BinaryFn, a: Value, b: Value, name?: string): Value {
    return this.one('binary', [a, b], { fn }, name);
  }
  add(a: Value, b: Value, name?: string): Value {
    return this.binary('add', a, b, name);
  }
  mul(a: Value, b: Value, name?: string): Value {
    return this.binary('mul', a, b, name);
  }
  compare(fn: CompareFn, a: Value, b: Value, name?: string): Value {
    return this.one('compare', [a, b], { fn }, name);
  }
  logical(fn: LogicalFn, a: Value, b: Value, name?: string): Value {
    return this.one('logical', [a, b], { fn }, name);
  }
  where(cond: Value, a: Value, b: Value, name?: string): Value {
    return this.one('where', [cond, a, b], {}, name);
  }
  cast(x: Value, to: DType, name?: string): Value {
    return x.dtype === to ? x : this.one('cast', [x], { to }, name);
  }
  reduce(fn: ReduceFn, x: Value, axes: readonly number[], keepDims = false, name?: string): Value {
    return this.one('reduce', [x], { fn, axes, keepDims }, name);
  }
  rmsnorm(x: Value, w: Value, eps: number, name?: string): Value {
    return this.one('rmsnorm', [x, w], { eps }, name);
  }
  layernorm(x: Value, w: Value, b: Value, eps: number, name?: string): Value {
    return this.one('layernorm', [x, w, b], { eps }, name);
  }
  softmax(x: Value, axis = -1, name?: string): Value {
    return this.one('softmax', [x], { axis }, name);
  }
  rope(x: Value, positions: Value, theta: number, rotaryDim?: number, name?: string): Value {
    const hd = x.shape[2];
    const rd = rotaryDim ?? (typeof hd === 'number' ? hd : 0);
    return this.one('rope', [x, positions], { theta, rotaryDim: rd }, name);
  }
  reshape(x: Value, shape: readonly Dim[], name?: string): Value {
    return this.one('reshape', [x], { shape }, name);
  }
  transpose(x: Value, perm: readonly number[], name?: string): Value {
    return this.one('transpose', [x], { perm }, name);
  }
  concat(xs: readonly Value[], axis: number, name?: string): Value {
    return this.one('concat', xs, { axis }, name);
  }
  slice(x: Value, axis: number, start: Dim, end: Dim, name?: string): Value {
    return this.one('slice', [x], { axis, start, end }, name);
  }
  attention(q: Value, k: Value, v: Value, qPos: Value, kPos: Value, opts: { scale: number; causal?: boolean }, name?: string): Value {
    return this.one('attention', [q, k, v, qPos, kPos], { scale: opts.scale, causal: opts.causal ?? true }, name);
  }
  topk(scores: Value, k: Dim, opts: { mask?: Value; order?: TopKOrder } = {}, name?: string): Value {
    return this.one('topk', opts.mask ? [scores, opts.mask] : [scores], { k, order: opts.order ?? 'score' }, name);
  }
  gatherRows(x: Value, idx: Value, name?: string): Value {
    return this.one('gatherRows', [x, idx], {}, name);
  }
  scatterRows(base: Value, idx: Value, src: Value, name?: string): Value {
    return this.one('scatterRows', [base, idx, src], {}, name);
  }
  /** The cache with rows [offset, offset + N) replaced by `rows` (a KV-cache append; in place on devices). */
  cacheWrite(cache: Value, rows: Value, offset: Dim, name?: string): Value {
    return this.one('cacheWrite', [cache, rows], { offset }, name);
  }

  /**
   * A p-MoD routed layer. `body` builds the layer on the kept tokens inside a fresh region builder that
   * shares this graph's symbols and name prefix.
   */
  modRoute(
    x: Value,
    positions: Value,
    routable: Value,
    routerWeight: Value,
    routerBias: Value,
    spec: ModRouteSpec,
    body: (rb: GraphBuilder, xKept: Value, positionsKept: Value) => ModRouteBody,
    name?: string,
  ): ModRouteResult {
    const [s, d] = x.shape;
    if (s === undefined || d === undefined) throw new BuildError(`modRoute '${this.fullName(name)}': hidden states must be [S, d], got rank ${x.shape.length}`);
    // K = S - N_v + k: every non-routable token plus the kept routable ones.
    const keptLen: Dim = addDim(subDim(s, spec.routableCount), spec.capacity);
    const rb = new GraphBuilder(`${this.fullName(name) || 'modRoute'}.body`, this.symbols, [...this.prefix, ...(name ? [name] : [])], true);
    const xk = rb.input('x_kept', x.dtype, [keptLen, d]);
    const pk = rb.input('positions_kept', 'i32', [keptLen]);
    const res = body(rb, xk, pk);
    rb.output('h1', res.h1);
    rb.output('u', res.u);
    for (const e of res.extras ?? []) rb.output(e.name, e.value);
    const region = rb.buildUnverified();
    const vs = this.emit('modRoute', [x, positions, routable, routerWeight, routerBias], { ...spec, body: region }, name);
    const [y, kept, ...extras] = vs;
    if (y === undefined || kept === undefined) throw new BuildError('modRoute produced too few values');
    return { y, kept, extras };
  }

  output(name: string, v: Value): void {
    if (v.owner !== this.serial) throw new BuildError(`output '${name}': value belongs to another graph`);
    if (this.outs.some((o) => o.name === name)) throw new BuildError(`duplicate output name '${name}' in graph '${this.name}'`);
    this.outs.push({ name, value: v.ref });
  }

  private buildUnverified(): Graph {
    return freezeGraph({ name: this.name, symbols: this.isRegion ? [] : this.symbols, nodes: [...this.nodes], outputs: [...this.outs] });
  }

  /** Freezes and verifies the graph. */
  build(): Graph {
    const g = this.buildUnverified();
    verify(g);
    return g;
  }
}

/** NodeOf<K> is a member of the Node union for every K; tsc cannot see that through a generic K. */
function asNode<K extends OpKind>(n: NodeOf<K>): Node {
  return n as unknown as Node;
}


/** Builds a graph with the DSL: `buildGraph('tiny', { T: [1, 64] }, (b) => { ... })`. */
export function buildGraph(name: string, symbols: SymbolSpec, f: (b: GraphBuilder) => void): Graph {
  const b = new GraphBuilder(name, symbols);
  f(b);
  return b.build();
}
