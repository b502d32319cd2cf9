/**
 * WGSL legalisation: the named Kernel IR rewrites (src/kernel/rewrite.ts) run before the WGSL printer, so the
 * printer stays a one-to-one table. Each rule brings one Kernel IR semantic from docs/kernel-ir.md to WGSL where
 * WGSL's own rule differs or is left indeterminate (integer division by zero, NaN in min/max and float->int casts,
 * shift amounts, bool operators, reserved names, grids over the per-axis limit, barriers under loop bounds that
 * WGSL's uniformity analysis cannot prove uniform).
 */
import * as k from '../../kernel/dsl.js';
import { type Kernel, type KNode, nodeKey, STATEMENT_OPS } from '../../kernel/ir.js';
import { type KernelRewriteRule, rewriteKernel } from '../../kernel/rewrite.js';
import type { TargetCaps } from '../../kernel/target.js';
import { renameMap } from './names.js';

export class WgslError extends Error {
  override name = 'WgslError';
}

/** The shared array through which `uniform-loop-bounds` broadcasts bounds (printed as workgroupUniformLoad). */
export const UNIFORM_SLOTS = 'mdc_uniform';
/** Kernel IR names the printer declares: the logical workgroup id and grid size after `fold-grid`. */
export const gidVar = (axis: number): string => `mdc_gid_${'xyz'[axis] ?? axis}`;
export const ngroupsParam = (axis: number): string => `mdc_ngroups_${'xyz'[axis] ?? axis}`;

const INT_MIN = -2147483648;
const u32c = (x: number): KNode => k.cnst(x, 'u32');
const i32x4c = (x: number): KNode => k.splat(k.i32(x), 'i32x4');

/** NaN test on the bits (x != x may be folded away by a downstream compiler that assumes no NaNs). */
export const isNanBits = (x: KNode): KNode => k.cmp('gt', k.and(k.bitcast(x, 'u32'), u32c(0x7fffffff)), u32c(0x7f800000));

/** Per lane: all ones where x (f32x4) is NaN, else 0, from integer ops only (Kernel IR has no vector comparison). */
function nanMask4(x: KNode): KNode {
  const abs = k.and(k.bitcast(x, 'i32x4'), i32x4c(0x7fffffff));
  // abs - 0x7f800000 is positive exactly for NaN (no overflow: abs <= 0x7fffffff); clamp to {0, 1}, negate.
  return k.sub(i32x4c(0), k.min(k.max(k.sub(abs, i32x4c(0x7f800000)), i32x4c(0)), i32x4c(1)));
}

function walk(n: KNode, f: (n: KNode) => void): void {
  f(n);
  for (const s of n.src) walk(s, f);
}

const containsBarrier = (n: KNode): boolean => n.op === 'barrier' || n.src.some((s) => STATEMENT_OPS.has(s.op) && containsBarrier(s));

/** Every identifier a kernel uses (declarations and names in its body). */
function kernelNames(kern: Kernel): string[] {
  const out = [...kern.buffers, ...kern.params, ...kern.shared, ...kern.privates].map((d) => d.name);
  walk(kern.body, (n) => {
    if (n.op === 'var' || n.op === 'decl' || n.op === 'assign') out.push(n.arg);
    else if (n.op === 'range') out.push(n.arg.var);
  });
  return out;
}

/**
 * Variables WGSL's uniformity analysis may see as non-uniform: those computed from the thread id, from workgroup
 * or private memory, from read_write storage (every buffer a kernel writes; packed 16-/8-bit ones are atomics), or
 * assigned under non-uniform control flow. The Kernel IR verifier counts loads of written global buffers as
 * uniform, WGSL does not: that difference is what `uniform-loop-bounds` repairs.
 */
function wgslNonUniform(kern: Kernel): (e: KNode) => boolean {
  const writable = new Set(kern.buffers.filter((b) => b.access !== 'read').map((b) => b.name));
  const tainted = new Set<string>();
  const nonUniform = (e: KNode): boolean => {
    let bad = false;
    walk(e, (n) => {
      if (n.op === 'lid') bad = true;
      else if (n.op === 'var' && tainted.has(n.arg)) bad = true;
      else if (n.op === 'load' && (n.arg.space !== 'global' || writable.has(n.arg.name))) bad = true;
    });
    return bad;
  };
  let changed = true;
  const stmt = (n: KNode, ctl: boolean): void => {
    const taint = (name: string, value: KNode | undefined): void => {
      if ((ctl || (value !== undefined && nonUniform(value))) && !tainted.has(name)) {
        tainted.add(name);
        changed = true;
      }
    };
    switch (n.op) {
      case 'block':
        for (const s of n.src) stmt(s, ctl);
        return;
      case 'decl':
      case 'assign':
        taint(n.arg, n.src[0]);
        return;
      case 'range': {
        const [s, e, body] = n.src;
        const c = ctl || (s !== undefined && nonUniform(s)) || (e !== undefined && nonUniform(e));
        if (c) taint(n.arg.var, undefined);
        if (body) stmt(body, c);
        return;
      }
      case 'if': {
        const [c, t, f] = n.src;
        const inner = ctl || (c !== undefined && nonUniform(c));
        if (t) stmt(t, inner);
        if (f) stmt(f, inner);
        return;
      }
      default:
    }
  };
  while (changed) {
    changed = false;
    stmt(kern.body, false);
  }
  return nonUniform;
}

export interface LegalizedKernel {
  readonly kernel: Kernel;
  /** Rule name -> nodes replaced. */
  readonly applied: Readonly<Record<string, number>>;
  /** Original name -> WGSL name, for names that were renamed. */
  readonly renamed: ReadonlyMap<string, string>;
}

/** Names of the rules in the order they run (docs/webgpu.md describes each). */
export const WGSL_RULES = [
  'rename-reserved', 'fold-grid', 'nan-by-bits', 'ne-unordered', 'bool-via-i32', 'shift-amount-mod-32', 'int-div-rem-policy', 'nan-min-max',
  'float-to-int-saturate', 'uniform-loop-bounds',
] as const;

/** The first f64 node of a kernel, as a path like verify.ts prints, or undefined. */
function firstF64(n: KNode, path: string): string | undefined {
  const here = `${path}/${n.op}`;
  if (n.type === 'f64') return here;
  for (let i = 0; i < n.src.length; i++) {
    const s = n.src[i];
    const hit = s === undefined ? undefined : firstF64(s, n.op === 'block' ? `${here}[${i}]` : here);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Runs the WGSL rules chosen by the target's capabilities over a verified kernel. */
export function legalizeForWgsl(kern: Kernel, caps: TargetCaps): LegalizedKernel {
  const f64At = firstF64(kern.body, '');
  if (f64At !== undefined || caps.f64)
    throw new WgslError(
      f64At !== undefined
        ? `kernel '${kern.name}': node ${f64At} is f64, which WGSL lacks (the WebGPU target has caps.f64 = false; lower this kernel with an f32-only schedule)`
        : `kernel '${kern.name}': a WebGPU target cannot have caps.f64`,
    );
  const renamed = renameMap(kernelNames(kern));
  const nm = (s: string): string => renamed.get(s) ?? s;
  const nonUniform = wgslNonUniform(kern);
  const taintedVars = new Set<string>();
  // The analysis ran on original names; the rule sees renamed ones.
  walk(kern.body, (n) => {
    if (n.op === 'var' && nonUniform(n)) taintedVars.add(nm(n.arg));
  });
  const writable = new Set(kern.buffers.filter((b) => b.access !== 'read').map((b) => nm(b.name)));
  const nonUniformRenamed = (e: KNode): boolean => {
    let bad = false;
    walk(e, (n) => {
      if (n.op === 'lid' || (n.op === 'var' && taintedVars.has(n.arg)) || (n.op === 'load' && (n.arg.space !== 'global' || writable.has(n.arg.name)))) bad = true;
    });
    return bad;
  };
  let slots = 0;

  const rules: KernelRewriteRule[] = [
    {
      name: 'rename-reserved',
      apply: (n) => {
        if (renamed.size === 0) return undefined;
        switch (n.op) {
          case 'var':
          case 'decl':
          case 'assign':
          case 'param':
            return renamed.has(n.arg) ? ({ ...n, arg: nm(n.arg) } as KNode) : undefined;
          case 'range':
            return renamed.has(n.arg.var) ? { ...n, arg: { ...n.arg, var: nm(n.arg.var) } } : undefined;
          case 'load':
          case 'store':
            return renamed.has(n.arg.name) ? ({ ...n, arg: { ...n.arg, name: nm(n.arg.name) } } as KNode) : undefined;
          default:
            return undefined;
        }
      },
    },
    {
      // The device may fold a grid over maxComputeWorkgroupsPerDimension into 2-D or 3-D; the printer's prologue
      // recovers the logical workgroup id from the linear one, and the logical grid size comes in the params.
      name: 'fold-grid',
      apply: (n) => (n.op === 'gid' ? k.v(gidVar(n.arg)) : n.op === 'ngroups' ? k.param(ngroupsParam(n.arg)) : undefined),
    },
    {
      name: 'nan-by-bits',
      apply: (n) => {
        if (n.op !== 'cmp' || (n.arg !== 'ne' && n.arg !== 'eq')) return undefined;
        const [a, b] = n.src;
        if (a === undefined || b === undefined || a.type !== 'f32' || nodeKey(a) !== nodeKey(b)) return undefined;
        return n.arg === 'ne' ? isNanBits(a) : k.unary('not', isNanBits(a));
      },
    },
    {
      // Kernel IR's float `ne` is true when either operand is NaN (IEEE unordered); SwiftShader compiles WGSL's
      // != on floats as an ordered comparison (false for NaN), so it is printed as !(a == b).
      name: 'ne-unordered',
      apply: (n) => {
        if (n.op !== 'cmp' || n.arg !== 'ne') return undefined;
        const [a, b] = n.src;
        if (a === undefined || b === undefined || a.type !== 'f32') return undefined;
        return k.unary('not', k.cmp('eq', a, b));
      },
    },
    {
      // WGSL has & and | on bool but no ^, no ordering and no min/max.
      name: 'bool-via-i32',
      apply: (n) => {
        const [a, b] = n.src;
        if (a === undefined || b === undefined || a.type !== 'bool') return undefined;
        if (n.op === 'binary') {
          if (n.arg === 'xor') return k.cmp('ne', a, b);
          if (n.arg === 'min') return k.and(a, b);
          if (n.arg === 'max') return k.or(a, b);
          return undefined;
        }
        if (n.op === 'cmp' && n.arg !== 'eq' && n.arg !== 'ne') return k.cmp(n.arg, k.cast(a, 'i32'), k.cast(b, 'i32'));
        return undefined;
      },
    },
    {
      // Kernel IR shifts take the amount modulo 32; WGSL rejects constant amounts >= 32 and wants a u32 amount
      // (the printer converts it).
      name: 'shift-amount-mod-32',
      apply: (n) => {
        if (n.op !== 'binary' || (n.arg !== 'shl' && n.arg !== 'shr') || (n.type !== 'i32' && n.type !== 'u32')) return undefined;
        const [a, b] = n.src;
        if (a === undefined || b === undefined || (b.op === 'const' && b.arg >= 0 && b.arg < 32)) return undefined;
        return k.binary(n.arg, a, k.and(b, k.cnst(31, n.type)));
      },
    },
    {
      // x / 0 = 0, x % 0 = 0, INT_MIN / -1 = INT_MIN, INT_MIN % -1 = 0: the divisor is replaced by 1 in those cases.
      name: 'int-div-rem-policy',
      apply: (n) => {
        if (n.op !== 'binary' || (n.arg !== 'div' && n.arg !== 'rem') || (n.type !== 'i32' && n.type !== 'u32')) return undefined;
        const [a, b] = n.src;
        if (a === undefined || b === undefined) return undefined;
        if (b.op === 'const' && b.arg !== 0 && b.arg !== -1) return undefined;
        const t = n.type;
        const zero = k.cmp('eq', b, k.cnst(0, t));
        const bad = t === 'i32' ? k.or(zero, k.and(k.cmp('eq', a, k.i32(INT_MIN)), k.cmp('eq', b, k.i32(-1)))) : zero;
        const safe = k.select(bad, k.cnst(1, t), b);
        return n.arg === 'rem' ? k.rem(a, safe) : k.select(zero, k.cnst(0, t), k.div(a, safe));
      },
    },
    {
      // WGSL leaves min/max with a NaN operand indeterminate; Kernel IR returns NaN.
      name: 'nan-min-max',
      apply: (n) => {
        if (n.op !== 'binary' || (n.arg !== 'min' && n.arg !== 'max')) return undefined;
        const [a, b] = n.src;
        if (a === undefined || b === undefined) return undefined;
        if (n.type === 'f32') return k.select(k.or(isNanBits(a), isNanBits(b)), k.f32(Number.NaN), k.binary(n.arg, a, b));
        if (n.type === 'f32x4') return k.bitcast(k.or(k.bitcast(k.binary(n.arg, a, b), 'i32x4'), k.or(nanMask4(a), nanMask4(b))), 'f32x4');
        return undefined;
      },
    },
    {
      // WGSL's float -> int conversion of NaN is indeterminate; Kernel IR gives 0 and saturates at the range ends.
      name: 'float-to-int-saturate',
      apply: (n) => {
        const x = n.src[0];
        if (n.op !== 'cast' || x === undefined || x.type !== 'f32' || (n.type !== 'i32' && n.type !== 'u32')) return undefined;
        const signed = n.type === 'i32';
        const conv = k.cast(k.max(x, k.f32(signed ? INT_MIN : 0)), n.type);
        const top = k.select(k.cmp('ge', x, k.f32(signed ? 2147483648 : 4294967296)), k.cnst(signed ? 2147483647 : 4294967295, n.type), conv);
        return k.select(isNanBits(x), k.cnst(0, n.type), top);
      },
    },
    {
      // A loop holding a barrier must have bounds WGSL can prove uniform; a bound read from read_write memory is
      // broadcast by thread 0 through workgroup memory with workgroupUniformLoad.
      name: 'uniform-loop-bounds',
      apply: (n) => {
        if (n.op !== 'range') return undefined;
        const [start, end, body] = n.src;
        if (start === undefined || end === undefined || body === undefined || !containsBarrier(body)) return undefined;
        if (!nonUniformRenamed(start) && !nonUniformRenamed(end)) return undefined;
        const pre: KNode[] = [];
        const hoist = (e: KNode): KNode => {
          if (!nonUniformRenamed(e)) return e;
          const slot = slots++;
          pre.push(k.iff(k.cmp('eq', k.lid(0), 0), k.store(k.shared(UNIFORM_SLOTS), slot, e)), k.decl(`mdc_bound${slot}`, k.load(k.shared(UNIFORM_SLOTS), slot, 'i32')));
          return k.v(`mdc_bound${slot}`);
        };
        const s = hoist(start);
        const e = hoist(end);
        // The barrier after the loads keeps thread 0 from overwriting a slot (in an enclosing loop's next
        // iteration) before every thread has read it.
        return k.block(...pre, k.barrier(), k.range(n.arg.var, s, e, body, n.arg.step));
      },
    },
  ];
  const r = rewriteKernel(kern, rules);
  const rn = <T extends { readonly name: string }>(d: T): T => (renamed.has(d.name) ? { ...d, name: nm(d.name) } : d);
  const kernel: Kernel = {
    ...r.kernel,
    buffers: kern.buffers.map(rn),
    params: kern.params.map(rn),
    shared: [...kern.shared.map(rn), ...(slots > 0 ? [{ name: UNIFORM_SLOTS, elem: 'i32' as const, length: slots }] : [])],
    privates: kern.privates.map(rn),
  };
  return { kernel, applied: r.applied, renamed };
}
