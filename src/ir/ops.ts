/**
 * The op table: every op kind, its typed attributes and their schema. Per-op tables elsewhere (type rules,
 * interpreter, cost model, lowering) are mapped types over OpKind, so adding an op here fails `tsc` until
 * every table handles it.
 */
import type { DType } from './dtype.js';
import type { EwExpr } from './expr.js';
import type { Graph } from './graph.js';
import type { BinaryFn, CompareFn, LogicalFn, ReduceFn, TopKOrder, UnaryFn } from './ops-fns.js';
import { BINARY_FNS, COMPARE_FNS, LOGICAL_FNS, REDUCE_FNS, TOPK_ORDERS, UNARY_FNS } from './ops-fns.js';
import type { Dim } from './sym.js';

export * from './ops-fns.js';

export const NORM_KINDS = ['none', 'rmsnorm'] as const;
export type NormKind = (typeof NORM_KINDS)[number];

export const COMBINE_KINDS = ['none', 'string'] as const;
export type CombineKind = (typeof COMBINE_KINDS)[number];

/** Typed attributes of every op. */
export interface OpAttrs {
  /** A graph (or region) argument, bound by name at run time. */
  input: { name: string; dtype: DType; shape: readonly Dim[] };
  /** A named parameter tensor (checkpoint weight), bound by name from the weight store. */
  weight: { name: string; dtype: DType; shape: readonly Dim[] };
  full: { value: number; dtype: DType; shape: readonly Dim[] };
  /** 0, 1, ..., length-1 as i32. */
  iota: { length: Dim };
  /** (table [V, d], ids i32 [...]) -> [..., d]. */
  embedding: Record<string, never>;
  /** (x [..., in], weight [out, in], bias? [out]) -> [..., out]; PyTorch's Linear layout. */
  linear: Record<string, never>;
  /** Batched matmul with broadcast batch dims: (a [..., M, K], b [..., K, N]) -> [..., M, N]. */
  matmul: { transposeA: boolean; transposeB: boolean };
  unary: { fn: UnaryFn };
  binary: { fn: BinaryFn };
  compare: { fn: CompareFn };
  logical: { fn: LogicalFn };
  /** (cond bool, a, b) -> a where cond else b, broadcast. */
  where: Record<string, never>;
  cast: { to: DType };
  reduce: { fn: ReduceFn; axes: readonly number[]; keepDims: boolean };
  /** (x [..., d], weight [d]) -> x * rsqrt(mean(x^2) + eps) * weight (Llama RMSNorm). */
  rmsnorm: { eps: number };
  /** (x [..., d], weight [d], bias [d]). */
  layernorm: { eps: number };
  softmax: { axis: number };
  /** (x [S, H, D], positions i32 [S]) -> rotary embedding (Llama rotate_half layout) on the first rotaryDim dims. */
  rope: { theta: number; rotaryDim: number };
  reshape: { shape: readonly Dim[] };
  transpose: { perm: readonly number[] };
  concat: { axis: number };
  slice: { axis: number; start: Dim; end: Dim };
  /**
   * (q [Sq, H, D], k [Sk, Hkv, D], v [Sk, Hkv, Dv], qPos i32 [Sq], kPos i32 [Sk]) -> [Sq, H, Dv].
   * Causal over original positions: key j is visible to query i iff kPos[j] <= qPos[i]. H % Hkv == 0 (GQA).
   */
  attention: { scale: number; causal: boolean };
  /**
   * (scores [N], mask? bool [N]) -> i32 [k]: the k largest scores among the masked-in entries, ties to the lower
   * index; order 'score' lists them by descending score, 'index' in ascending index order (order-preserving).
   */
  topk: { k: Dim; order: TopKOrder };
  /** (x [N, ...], idx i32 [k]) -> [k, ...]. */
  gatherRows: Record<string, never>;
  /** (base [N, ...], idx i32 [k], src [k, ...]) -> base with rows idx replaced by src. */
  scatterRows: Record<string, never>;
  /**
   * (cache [C, ...], rows [N, ...]) -> cache with rows [offset, offset + N) replaced by `rows`: a KV-cache append.
   * `offset` may be a symbol that stays dynamic at compile time (the cache length of a decode step). Backends
   * write in place when the cache operand has no other use (a device-resident state buffer).
   */
  cacheWrite: { offset: Dim };
  /**
   * p-MoD routing region (method section 3). Inputs (x [S, d], positions i32 [S], routable bool [S],
   * routerWeight [1, d], routerBias [1]). The body maps (x_kept [K, d], positions_kept i32 [K]) to
   * (h1 [K, d], u [K, d], ...extras [K, ...]) with K = S - routableCount + capacity.
   * Outputs: y [S, d] (STRing combine), kept i32 [capacity] (sequence indices of kept routable tokens,
   * ascending), then the body's extras.
   */
  modRoute: {
    capacity: Dim;
    routableCount: Dim;
    /** Nominal retention ratio R_l of the schedule (reporting only; capacity is authoritative). */
    ratio: number;
    alpha: number;
    bias: number;
    body: Graph;
  };

  // ---- fused ops, produced by the passes (src/passes) ----

  /**
   * The fused router of a MoD layer: router GEMV + TanhNorm + order-preserving top-k + gather of the kept rows and
   * their position ids. Inputs as modRoute. Outputs: x_kept [K, d], positions_kept i32 [K], rowMap i32 [K]
   * (sequence index of each kept row, ascending), gate f32 [S] (w_t), kept i32 [capacity] (as modRoute's).
   */
  fusedRoute: { capacity: Dim; routableCount: Dim; ratio: number; alpha: number; bias: number };
  /**
   * STRing combine: (x [S, d], h1 [K, d], u [K, d], rowMap i32 [K], gate f32 [S], routable bool [S]) -> y [S, d]:
   * kept rows y = h1 + g * u (g = gate for routable rows, 1 for text), skipped routable rows y = gate * x.
   */
  stringCombine: Record<string, never>;
  /** One kernel for a tree of elementwise ops: inputs broadcast together, `$i` is input i. */
  fusedElementwise: { expr: EwExpr };
  /**
   * A linear layer with fused prologue and epilogues. Inputs: [x, weight [N, K]] then the RMSNorm weight if
   * norm = rmsnorm, then `epilogueArgs` epilogue operands (`$1`, `$2`, ... broadcast to [..., N]; `$0` is the
   * accumulator), then, if combine = string, (x_full [S, d], h1 [K, d], rowMap [K], gate [S], routable [S]):
   * the result is scattered into the residual stream by the STRing combine and has shape [S, d].
   */
  fusedLinear: { norm: NormKind; eps: number; epilogue: EwExpr; epilogueArgs: number; combine: CombineKind };
}

export type OpKind = keyof OpAttrs;

export type AttrKind =
  | 'int'
  | 'float'
  | 'bool'
  | 'string'
  | 'dtype'
  | 'dim'
  | 'dims'
  | 'ints'
  | { readonly enum: readonly string[] }
  | 'expr'
  | 'region';

/** Schema of every attribute of every op: drives the printer, the parser and the verifier's attr checks. */
export const ATTR_SCHEMA: { readonly [K in OpKind]: { readonly [A in keyof OpAttrs[K]]-?: AttrKind } } = {
  input: { name: 'string', dtype: 'dtype', shape: 'dims' },
  weight: { name: 'string', dtype: 'dtype', shape: 'dims' },
  full: { value: 'float', dtype: 'dtype', shape: 'dims' },
  iota: { length: 'dim' },
  embedding: {},
  linear: {},
  matmul: { transposeA: 'bool', transposeB: 'bool' },
  unary: { fn: { enum: UNARY_FNS } },
  binary: { fn: { enum: BINARY_FNS } },
  compare: { fn: { enum: COMPARE_FNS } },
  logical: { fn: { enum: LOGICAL_FNS } },
  where: {},
  cast: { to: 'dtype' },
  reduce: { fn: { enum: REDUCE_FNS }, axes: 'ints', keepDims: 'bool' },
  rmsnorm: { eps: 'float' },
  layernorm: { eps: 'float' },
  softmax: { axis: 'int' },
  rope: { theta: 'float', rotaryDim: 'int' },
  reshape: { shape: 'dims' },
  transpose: { perm: 'ints' },
  concat: { axis: 'int' },
  slice: { axis: 'int', start: 'dim', end: 'dim' },
  attention: { scale: 'float', causal: 'bool' },
  topk: { k: 'dim', order: { enum: TOPK_ORDERS } },
  gatherRows: {},
  scatterRows: {},
  cacheWrite: { offset: 'dim' },
  modRoute: {
    capacity: 'dim',
    routableCount: 'dim',
    ratio: 'float',
    alpha: 'float',
    bias: 'float',
    body: 'region',
  },
  fusedRoute: { capacity: 'dim', routableCount: 'dim', ratio: 'float', alpha: 'float', bias: 'float' },
  stringCombine: {},
  fusedElementwise: { expr: 'expr' },
  fusedLinear: { norm: { enum: NORM_KINDS }, eps: 'float', epilogue: 'expr', epilogueArgs: 'int', combine: { enum: COMBINE_KINDS } },
};

/** Ops that only reinterpret their input's memory: no kernel, no buffer of their own. */
export const VIEW_OPS: ReadonlySet<OpKind> = new Set<OpKind>(['reshape']);

export const OP_KINDS = Object.keys(ATTR_SCHEMA) as OpKind[];

export function isOpKind(s: string): s is OpKind {
  return Object.prototype.hasOwnProperty.call(ATTR_SCHEMA, s);
}
