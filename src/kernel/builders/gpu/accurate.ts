/**
 * Float32 arithmetic that keeps f64-like accuracy without f64 (WGSL has none): Knuth's TwoSum, compensated
 * (hi, lo) accumulators, and products split exactly into 12-bit halves (the router score's technique,
 * docs/kernel-ir.md). Only f32 add / sub / mul appear, and every product of halves is exact, so a renderer that
 * fuses a multiply into an add (FMA contraction) cannot change a result.
 */
import { add, and, assign, bitcast, cmp, decl, f32, mul, select, sub, unary, v } from '../../dsl.js';
import type { KNode } from '../../ir.js';
import type { Names } from './workgroup.js';

/** An f32 value that may be read several times: a variable or a constant. */
const isAtom = (x: KNode): boolean => x.op === 'var' || x.op === 'const' || x.op === 'param';

/** Binds `x` to a fresh variable unless it is already an atom. */
export function atom(names: Names, x: KNode, prefix = 't'): { readonly stmts: KNode[]; readonly value: KNode } {
  if (isAtom(x)) return { stmts: [], value: x };
  const n = names.fresh(prefix);
  return { stmts: [decl(n, x)], value: v(n, x.type) };
}

/** s + e = a + b exactly (round to nearest): s = fl(a + b), e the rounding error. */
export function twoSum(names: Names, a0: KNode, b0: KNode): { readonly stmts: KNode[]; readonly sum: KNode; readonly err: KNode } {
  const a = atom(names, a0, 'tsa');
  const b = atom(names, b0, 'tsb');
  const [s, z, e] = [names.fresh('ts'), names.fresh('tz'), names.fresh('te')];
  return {
    stmts: [
      ...a.stmts,
      ...b.stmts,
      // Fenced: compilers that fold (a + b) - a to b would cancel the error term.
      decl(s, unary('opaque', add(a.value, b.value))),
      decl(z, unary('opaque', sub(v(s, 'f32'), a.value))),
      decl(e, add(sub(a.value, sub(v(s, 'f32'), v(z, 'f32'))), sub(b.value, v(z, 'f32')))),
    ],
    sum: v(s, 'f32'),
    err: v(e, 'f32'),
  };
}

/** x with its low 12 mantissa bits cleared by masking (exact): a 12-bit significand. */
export const splitHigh = (x: KNode): KNode => bitcast(and(bitcast(x, 'i32'), -4096), 'f32');

/**
 * a * b as lead + rest: lead = hi(a) * hi(b) is exact, rest = hi(a) lo(b) + lo(a) hi(b) + lo(a) lo(b) is a sum
 * of exact products (rounded once or twice, at most 2^-11 of |a b|, so its rounding is far below f32's ulp).
 */
export function splitProduct(names: Names, a0: KNode, b0: KNode): { readonly stmts: KNode[]; readonly lead: KNode; readonly rest: KNode } {
  const a = atom(names, a0, 'pa');
  const b = atom(names, b0, 'pb');
  const [ah, al, bh, bl, lead, rest] = ['ah', 'al', 'bh', 'bl', 'pl', 'pr'].map((p) => names.fresh(p)) as [string, string, string, string, string, string];
  const f = (n: string): KNode => v(n, 'f32');
  return {
    stmts: [
      ...a.stmts,
      ...b.stmts,
      decl(ah, splitHigh(a.value)),
      decl(al, sub(a.value, f(ah))),
      decl(bh, splitHigh(b.value)),
      decl(bl, sub(b.value, f(bh))),
      decl(lead, mul(f(ah), f(bh))),
      decl(rest, add(add(mul(f(ah), f(bl)), mul(f(al), f(bh))), mul(f(al), f(bl)))),
    ],
    lead: f(lead),
    rest: f(rest),
  };
}

/** A compensated f32 accumulator: the running sum `hi` and a correction `lo` that collects rounding errors. */
export class CompensatedSum {
  readonly hi: string;
  readonly lo: string;
  constructor(private readonly names: Names, prefix: string) {
    this.hi = names.fresh(`${prefix}h`);
    this.lo = names.fresh(`${prefix}l`);
  }
  init(hi: KNode = f32(0), lo: KNode = f32(0)): KNode[] {
    return [decl(this.hi, hi), decl(this.lo, lo)];
  }
  get hiVar(): KNode {
    return v(this.hi, 'f32');
  }
  get loVar(): KNode {
    return v(this.lo, 'f32');
  }
  /** Adds x (its rounding error goes to lo). */
  add(x: KNode): KNode[] {
    const t = twoSum(this.names, this.hiVar, x);
    return [...t.stmts, assign(this.hi, t.sum), assign(this.lo, add(this.loVar, t.err))];
  }
  /** Adds the exact product a * b. */
  addProduct(a: KNode, b: KNode): KNode[] {
    const p = splitProduct(this.names, a, b);
    const t = twoSum(this.names, this.hiVar, p.lead);
    return [...p.stmts, ...t.stmts, assign(this.hi, t.sum), assign(this.lo, add(this.loVar, add(t.err, p.rest)))];
  }
  /** The sum rounded to f32. */
  value(): KNode {
    return add(this.hiVar, this.loVar);
  }
}

/** Merges two (hi, lo) pairs: TwoSum of the leading parts, corrections added. */
export function mergePairs(names: Names, a: readonly KNode[], b: readonly KNode[]): { readonly stmts: KNode[]; readonly out: KNode[] } {
  const [ah, al, bh, bl] = [a[0], a[1], b[0], b[1]] as [KNode, KNode, KNode, KNode];
  const t = twoSum(names, ah, bh);
  return { stmts: t.stmts, out: [t.sum, add(add(al, bl), t.err)] };
}

/**
 * `accurate` where it is finite, else `plain` (split products turn infinities into NaN; plain keeps IEEE's).
 * Finiteness is read from the exponent bits: a float test like x - x == 0 may be folded to true by GPU compilers
 * (Mesa does, under Dawn's OpenGL ES backend).
 */
export const finiteOr = (accurate: KNode, plain: KNode): KNode =>
  select(cmp('ne', and(bitcast(accurate, 'i32'), 0x7f800000), 0x7f800000), accurate, plain);
