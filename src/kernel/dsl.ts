/**
 * Constructors for Kernel IR nodes with type inference, so kernel builders read like the loops they describe.
 * Numbers passed where a node is expected become i32 constants (or f32 if not integral).
 */
import type { KBinaryFn, KCmpFn, KNode, KNodeOf, KOp, KOpArgs, KType, KUnaryFn, MemRef, ScalarType, VectorType } from './ir.js';

export type Ex = KNode | number;

function mk<O extends KOp>(op: O, type: KType, src: readonly KNode[], arg: KOpArgs[O]): KNode {
  return { op, type, src, arg } as KNodeOf<O> as KNode;
}

export const cnst = (value: number, type: ScalarType = Number.isInteger(value) ? 'i32' : 'f32'): KNode => mk('const', type, [], value);
export const f32 = (value: number): KNode => cnst(value, 'f32');
export const i32 = (value: number): KNode => cnst(value, 'i32');
export const ex = (e: Ex): KNode => (typeof e === 'number' ? cnst(e) : e);
/** An expression of type `type`: numbers become constants of that type. */
export const exT = (e: Ex, type: ScalarType): KNode => (typeof e === 'number' ? cnst(e, type) : e);

export const param = (name: string, type: 'i32' | 'f32' = 'i32'): KNode => mk('param', type, [], name);
export const gid = (axis = 0): KNode => mk('gid', 'i32', [], axis);
export const lid = (axis = 0): KNode => mk('lid', 'i32', [], axis);
export const ngroups = (axis = 0): KNode => mk('ngroups', 'i32', [], axis);
export const v = (name: string, type: KType = 'i32'): KNode => mk('var', type, [], name);

export const global = (name: string): MemRef => ({ space: 'global', name });
export const shared = (name: string): MemRef => ({ space: 'shared', name });
export const priv = (name: string): MemRef => ({ space: 'private', name });

export const load = (ref: MemRef, index: Ex, type: ScalarType | VectorType = 'f32'): KNode => mk('load', type, [ex(index)], ref);
export const store = (ref: MemRef, index: Ex, value: KNode): KNode => mk('store', 'void', [ex(index), value], ref);

/** Binary ops take the type of the first node operand; numbers adopt it. */
function bin(fn: KBinaryFn, a: Ex, b: Ex): KNode {
  const t = typeof a !== 'number' ? a.type : typeof b !== 'number' ? b.type : Number.isInteger(a) && Number.isInteger(b) ? 'i32' : 'f32';
  const conv = (e: Ex): KNode => (typeof e === 'number' ? (t === 'f32x4' ? splat(cnst(e, 'f32'), 'f32x4') : cnst(e, t as ScalarType)) : e);
  return mk('binary', t, [conv(a), conv(b)], fn);
}
export const add = (a: Ex, b: Ex): KNode => {
  // Keep index arithmetic small: x + 0 is x.
  if (b === 0) return ex(a);
  if (a === 0) return ex(b);
  return bin('add', a, b);
};
export const sub = (a: Ex, b: Ex): KNode => (b === 0 ? ex(a) : bin('sub', a, b));
export const mul = (a: Ex, b: Ex): KNode => (b === 1 ? ex(a) : a === 1 ? ex(b) : bin('mul', a, b));
export const div = (a: Ex, b: Ex): KNode => bin('div', a, b);
export const rem = (a: Ex, b: Ex): KNode => bin('rem', a, b);
export const max = (a: Ex, b: Ex): KNode => bin('max', a, b);
export const min = (a: Ex, b: Ex): KNode => bin('min', a, b);
export const pow = (a: Ex, b: Ex): KNode => bin('pow', a, b);
export const and = (a: Ex, b: Ex): KNode => bin('and', a, b);
export const or = (a: Ex, b: Ex): KNode => bin('or', a, b);
export const binary = (fn: KBinaryFn, a: Ex, b: Ex): KNode => bin(fn, a, b);

export const unary = (fn: KUnaryFn, x: KNode): KNode => mk('unary', x.type, [x], fn);
export function cmp(fn: KCmpFn, a: Ex, b: Ex): KNode {
  const t = typeof a !== 'number' ? a.type : typeof b !== 'number' ? b.type : 'i32';
  const conv = (e: Ex): KNode => (typeof e === 'number' ? cnst(e, t as ScalarType) : e);
  return mk('cmp', 'bool', [conv(a), conv(b)], fn);
}
export const lt = (a: Ex, b: Ex): KNode => cmp('lt', a, b);
export const select = (c: KNode, a: KNode, b: KNode): KNode => mk('select', a.type, [c, a, b], undefined);
export const cast = (x: KNode, to: ScalarType): KNode => (x.type === to ? x : mk('cast', to, [x], undefined));
export const bitcast = (x: KNode, to: ScalarType | VectorType): KNode => (x.type === to ? x : mk('bitcast', to, [x], undefined));
export const splat = (x: KNode, to: VectorType = 'f32x4'): KNode => mk('splat', to, [x], undefined);
export const lane = (x: KNode, i: number): KNode => mk('lane', x.type === 'f32x4' ? 'f32' : 'i32', [x], i);
export const fma = (a: KNode, b: KNode, c: KNode): KNode => mk('fma', c.type, [a, b, c], undefined);

export const block = (...stmts: readonly (KNode | readonly KNode[])[]): KNode => mk('block', 'void', stmts.flat(), undefined);
export const decl = (name: string, init: KNode): KNode => mk('decl', init.type, [init], name);
export const assign = (name: string, value: KNode): KNode => mk('assign', 'void', [value], name);
export const range = (name: string, start: Ex, end: Ex, body: KNode | readonly KNode[], step = 1): KNode =>
  mk('range', 'void', [ex(start), ex(end), Array.isArray(body) ? block(...(body as KNode[])) : (body as KNode)], { var: name, step });
export const iff = (c: KNode, then: KNode | readonly KNode[], otherwise?: KNode | readonly KNode[]): KNode => {
  const asBlock = (s: KNode | readonly KNode[]): KNode => (Array.isArray(s) ? block(...(s as KNode[])) : (s as KNode));
  return mk('if', 'void', otherwise === undefined ? [c, asBlock(then)] : [c, asBlock(then), asBlock(otherwise)], undefined);
};
export const barrier = (): KNode => mk('barrier', 'void', [], undefined);
