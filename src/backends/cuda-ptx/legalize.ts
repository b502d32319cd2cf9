/**
 * The PTX renderer's legalisation: named Kernel IR rewrites that give PTX instructions the numerics policy of
 * docs/kernel-ir.md before instruction selection (PTX leaves x / 0 and INT_MIN / -1 unspecified, clamps shift
 * amounts at 32 instead of taking them mod 32, converts an f64 NaN to 0x80000000, and has no integer pow).
 * Rules that depend on the target are chosen by its features; the rest apply everywhere.
 */
import { and, binary, cast, cmp, select } from '../../kernel/dsl.js';
import type { Kernel, KNode } from '../../kernel/ir.js';
import { type KernelRewriteRule, rewriteKernel, type RewriteResult } from '../../kernel/rewrite.js';

const isIntScalar = (t: string): t is 'i32' | 'u32' => t === 'i32' || t === 'u32';
const c = (v: number, t: 'i32' | 'u32' | 'f64'): KNode => ({ op: 'const', type: t, src: [], arg: v });

/** x / 0 = 0, x % 0 = 0, INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0: divide by 1 where PTX leaves the result open. */
export const intDivRemPolicy: KernelRewriteRule = {
  name: 'int-div-rem-policy',
  apply: (n) => {
    if (n.op !== 'binary' || (n.arg !== 'div' && n.arg !== 'rem') || !isIntScalar(n.type)) return undefined;
    const [a, b] = n.src as [KNode, KNode];
    if (b.op === 'const' && b.arg !== 0 && !(n.type === 'i32' && b.arg === -1)) return undefined;
    const t = n.type;
    const zero = cmp('eq', b, c(0, t));
    const unsafe = t === 'i32' ? binary('or', zero, and(cmp('eq', a, c(-2147483648, t)), cmp('eq', b, c(-1, t)))) : zero;
    const q: KNode = { op: 'binary', type: t, src: [a, select(unsafe, c(1, t), b)], arg: n.arg };
    // Dividing by 1 gives a % 1 = 0 for rem already; div by zero must still give 0.
    return n.arg === 'rem' ? q : select(zero, c(0, t), q);
  },
};

/** Shift amounts are taken mod 32 (PTX shifts by >= 32 give 0 or the sign fill). */
export const shiftAmountMod32: KernelRewriteRule = {
  name: 'shift-amount-mod-32',
  apply: (n) => {
    if (n.op !== 'binary' || (n.arg !== 'shl' && n.arg !== 'shr') || !isIntScalar(n.type)) return undefined;
    const [a, b] = n.src as [KNode, KNode];
    if (b.op === 'const') return b.arg >= 0 && b.arg < 32 ? undefined : { ...n, src: [a, c(b.arg & 31, b.type as 'i32' | 'u32')] };
    if (b.op === 'binary' && b.arg === 'and' && b.src[1]?.op === 'const' && b.src[1].arg === 31) return undefined;
    return { ...n, src: [a, and(b, c(31, b.type as 'i32' | 'u32'))] };
  },
};

/** cvt.rzi from f64 turns NaN into 0x80000000; the policy says 0 (f32 sources already give 0). */
export const f64ToIntNanZero: KernelRewriteRule = {
  name: 'f64-to-int-nan-zero',
  apply: (n) => {
    const x = n.src[0];
    if (n.op !== 'cast' || !isIntScalar(n.type) || x?.type !== 'f64') return undefined;
    return select(cmp('ne', x, x), c(0, n.type), n);
  },
};

/** Integer pow through float64 (saturating back), as the Wasm backend computes it. */
export const intPowViaF64: KernelRewriteRule = {
  name: 'int-pow-via-f64',
  apply: (n) => {
    if (n.op !== 'binary' || n.arg !== 'pow' || !isIntScalar(n.type)) return undefined;
    const [a, b] = n.src as [KNode, KNode];
    return cast(binary('pow', cast(a, 'f64'), cast(b, 'f64')), n.type);
  },
};

/** x + 0 and 0 + x on integers: index arithmetic from builders often carries them. */
export const intAddZero: KernelRewriteRule = {
  name: 'int-add-zero',
  apply: (n) => {
    if (n.op !== 'binary' || n.arg !== 'add' || !isIntScalar(n.type)) return undefined;
    const [a, b] = n.src as [KNode, KNode];
    if (b.op === 'const' && b.arg === 0) return a;
    if (a.op === 'const' && a.arg === 0) return b;
    return undefined;
  },
};

/** The rules, in the order they run (pow before the NaN cast, which then guards the pow's cast). */
export const PTX_LEGALIZE_RULES: readonly KernelRewriteRule[] = [intAddZero, intPowViaF64, intDivRemPolicy, shiftAmountMod32, f64ToIntNanZero];

export function legalizeForPtx(k: Kernel): RewriteResult {
  return rewriteKernel(k, PTX_LEGALIZE_RULES);
}

