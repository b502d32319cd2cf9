/**
 * The loop-level Kernel IR shared by every backend: one small node type (op, type, sources, argument) for both
 * expressions and statements, kernels with a grid of workgroups of threads, explicit address spaces
 * (global buffers, workgroup-shared arrays, private register arrays), barriers, typed scalars and 4-lane vectors.
 * WGSL and PTX render a kernel one to one; the Wasm renderer turns a workgroup into a loop over its threads.
 */

export const SCALAR_TYPES = ['f32', 'f64', 'i32', 'u32', 'bool'] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];
export const VECTOR_TYPES = ['f32x4', 'i32x4'] as const;
export type VectorType = (typeof VECTOR_TYPES)[number];
/** 'void' is the type of statements. */
export type KType = ScalarType | VectorType | 'void';

/**
 * Storage types a buffer can hold. Indices count elements, never bytes. Loads widen: f16 / bf16 elements load as
 * f32 (exactly), u8 elements as i32 or u32 (zero-extended); stores narrow: an f32 stored into f16 / bf16 rounds to
 * nearest even (f16 overflow gives infinity, NaN stays NaN), an integer stored into u8 keeps its low 8 bits.
 * Workgroup-shared and private arrays hold 4-byte types only.
 */
export const ELEM_TYPES = ['f32', 'i32', 'u32', 'f16', 'bf16', 'u8'] as const;
export type ElemType = (typeof ELEM_TYPES)[number];
/** The 4-byte element types: what shared and private arrays hold. */
export const WORD_TYPES = ['f32', 'i32', 'u32'] as const;
export type WordType = (typeof WORD_TYPES)[number];

export const elemBytes = (e: ElemType): 1 | 2 | 4 => (e === 'u8' ? 1 : e === 'f16' || e === 'bf16' ? 2 : 4);
/** The register type an element loads as (u8 loads as i32 unless read as u32). */
export const elemValueType = (e: ElemType): 'f32' | 'i32' | 'u32' => (e === 'f16' || e === 'bf16' ? 'f32' : e === 'u8' ? 'i32' : e);

export const ADDRESS_SPACES = ['global', 'shared', 'private'] as const;
export type AddressSpace = (typeof ADDRESS_SPACES)[number];

/** A memory reference: a kernel buffer, a workgroup-shared array or a private (per-thread) register array. */
export interface MemRef {
  readonly space: AddressSpace;
  readonly name: string;
}

export const K_UNARY = [
  'neg', 'abs', 'sqrt', 'recip', 'exp', 'log', 'tanh', 'sin', 'cos', 'erf', 'floor', 'not',
  /** Rounds an f32 to the nearest f16 / bf16 value (ties to even), still held in an f32: storage-type emulation. */
  'round_f16', 'round_bf16',
  /**
   * The identity, which no compiler may see through: compensated sums (TwoSum) fence their intermediates with it
   * so that algebraic folding (`(a + b) - a` to `b`, as Mesa's GLSL compiler does) cannot cancel the error terms.
   */
  'opaque',
] as const;
export type KUnaryFn = (typeof K_UNARY)[number];

export const K_BINARY = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'rem', 'and', 'or', 'xor', 'shl', 'shr'] as const;
export type KBinaryFn = (typeof K_BINARY)[number];

export const K_CMP = ['lt', 'le', 'gt', 'ge', 'eq', 'ne'] as const;
export type KCmpFn = (typeof K_CMP)[number];

/**
 * Every node kind. Expressions: const, param (a uniform scalar argument), gid / lid / ngroups (workgroup id,
 * thread id within the workgroup, grid size; arg = axis), var (a private scalar), load, unary, binary, cmp,
 * select, cast, bitcast, splat, lane, fma. Statements: block, decl, assign, store, range, if, barrier.
 */
export interface KOpArgs {
  const: number;
  param: string;
  gid: number;
  lid: number;
  ngroups: number;
  var: string;
  /** src [index]: element index; a vector type loads 4 consecutive elements. */
  load: MemRef;
  unary: KUnaryFn;
  binary: KBinaryFn;
  cmp: KCmpFn;
  /** src [cond, ifTrue, ifFalse]. */
  select: undefined;
  /**
   * src [x]: converts to the node's type. float -> int truncates toward zero and saturates (NaN gives 0);
   * int -> float rounds to nearest even.
   */
  cast: undefined;
  /** src [x]: reinterprets the bits of x as the node's type of the same width (f32 <-> i32 / u32, f32x4 <-> i32x4). */
  bitcast: undefined;
  splat: undefined;
  lane: number;
  /** src [a, b, c]: a * b + c; a renderer may fuse (relaxed-SIMD FMA) or round twice (mul then add). */
  fma: undefined;
  block: undefined;
  /** Declares a private scalar/vector variable of the node's type; src [init]. */
  decl: string;
  /** src [value]. */
  assign: string;
  /** src [index, value]. */
  store: MemRef;
  /** for (var = start; var < end; var += step) body. src [start, end, body]; arg {var, step}. */
  range: { readonly var: string; readonly step: number };
  /** src [cond, then] or [cond, then, else]. */
  if: undefined;
  /** Workgroup barrier: shared memory written before it is visible to every thread of the workgroup after it. */
  barrier: undefined;
}
export type KOp = keyof KOpArgs;

export const K_OPS = [
  'const', 'param', 'gid', 'lid', 'ngroups', 'var', 'load', 'unary', 'binary', 'cmp', 'select', 'cast', 'bitcast', 'splat',
  'lane', 'fma', 'block', 'decl', 'assign', 'store', 'range', 'if', 'barrier',
] as const satisfies readonly KOp[];

export const STATEMENT_OPS: ReadonlySet<KOp> = new Set<KOp>(['block', 'decl', 'assign', 'store', 'range', 'if', 'barrier']);

export interface KNodeOf<O extends KOp> {
  readonly op: O;
  readonly type: KType;
  readonly src: readonly KNode[];
  readonly arg: KOpArgs[O];
}
export type KNode = { [O in KOp]: KNodeOf<O> }[KOp];

export interface BufferDecl {
  readonly name: string;
  readonly elem: ElemType;
  readonly access: 'read' | 'write' | 'readwrite';
}
export interface ScalarParamDecl {
  readonly name: string;
  readonly type: 'i32' | 'f32';
}
export interface ArrayDecl {
  readonly name: string;
  readonly elem: WordType;
  readonly length: number;
}

/**
 * A kernel: `grid` workgroups (3 axes) of `threads` threads each. Buffers are bound per dispatch; scalar
 * params are uniform values (dynamic sizes); shared arrays live per workgroup, private arrays per thread.
 * Every thread runs `body`.
 */
export interface Kernel {
  readonly name: string;
  readonly buffers: readonly BufferDecl[];
  readonly params: readonly ScalarParamDecl[];
  readonly shared: readonly ArrayDecl[];
  readonly privates: readonly ArrayDecl[];
  readonly threads: number;
  readonly body: KNode;
}

/** What a dispatch binds: buffers by name (handles are backend-specific), scalar values and the grid. */
export interface DispatchArgs<B> {
  readonly buffers: Readonly<Record<string, B>>;
  readonly params: Readonly<Record<string, number>>;
  readonly grid: readonly [number, number, number];
}

export const isVector = (t: KType): t is VectorType => t === 'f32x4' || t === 'i32x4';
export const laneType = (t: VectorType): 'f32' | 'i32' => (t === 'f32x4' ? 'f32' : 'i32');
export const isFloatType = (t: KType): boolean => t === 'f32' || t === 'f64' || t === 'f32x4';

/** A node's argument in a key: names length-prefixed (so no spelling of a name can mimic the syntax around it). */
function argKey(a: unknown): string {
  switch (typeof a) {
    case 'undefined':
      return '';
    case 'number':
      // String() keeps NaN, Infinity and -Infinity apart (JSON.stringify wrote 'null' for all three); -0 is kept.
      return Object.is(a, -0) ? '-0' : String(a);
    case 'string':
      return `${a.length}#${a}`;
    case 'boolean':
      return a ? 'true' : 'false';
    default: {
      const o = a as { space?: string; name?: string; var?: string; step?: number };
      if (o.space !== undefined && o.name !== undefined) return `${o.space}.${o.name.length}#${o.name}`;
      if (o.var !== undefined) return `${o.var.length}#${o.var}+${String(o.step)}`;
      return JSON.stringify(a);
    }
  }
}

/** Stable structural key of a node tree (kernel caches, dedup). */
export function nodeKey(n: KNode): string {
  let s = `${n.op}:${n.type}:${argKey(n.arg)}(`;
  for (let i = 0; i < n.src.length; i++) s += (i ? ',' : '') + nodeKey(n.src[i] as KNode);
  return `${s})`;
}

const kernelKeys = new WeakMap<Kernel, string>();

/** The structural key of a kernel; kernels are immutable, so it is computed once per kernel object. */
export function kernelKey(k: Kernel): string {
  let key = kernelKeys.get(k);
  if (key === undefined) {
    key = JSON.stringify({ b: k.buffers, p: k.params, s: k.shared, v: k.privates, t: k.threads }) + nodeKey(k.body);
    kernelKeys.set(k, key);
  }
  return key;
}
