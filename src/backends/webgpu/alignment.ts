/**
 * Which i32 index expressions of a kernel are provably multiples of 4: the vector loads of a read-only buffer
 * whose every vector index is, may read it as `array<vec4<T>>` (one 16-byte access instead of four). Variables
 * are multiples of 4 when every value they ever take is (a greatest fixpoint: assume all, drop counterexamples).
 */
import type { Kernel, KNode } from '../../kernel/ir.js';

export function alignedBy4(k: Kernel): (e: KNode) => boolean {
  const candidates = new Set<string>();
  const defs: { name: string; value?: KNode; start?: KNode; step?: number }[] = [];
  const walk = (n: KNode): void => {
    if (n.op === 'decl' || n.op === 'assign') {
      candidates.add(n.arg);
      defs.push({ name: n.arg, value: n.src[0] as KNode });
    } else if (n.op === 'range') {
      candidates.add(n.arg.var);
      defs.push({ name: n.arg.var, start: n.src[0] as KNode, step: n.arg.step });
    }
    for (const s of n.src) walk(s);
  };
  walk(k.body);
  const aligned = new Set(candidates);
  const is4 = (e: KNode): boolean => {
    if (e.type !== 'i32') return false;
    const [a, b] = e.src;
    switch (e.op) {
      case 'const':
        return e.arg % 4 === 0;
      case 'var':
        return aligned.has(e.arg);
      case 'binary':
        if (a === undefined || b === undefined) return false;
        if (e.arg === 'add' || e.arg === 'sub' || e.arg === 'min' || e.arg === 'max') return is4(a) && is4(b);
        if (e.arg === 'mul') return is4(a) || is4(b);
        if (e.arg === 'shl') return is4(a) || (b.op === 'const' && b.arg >= 2 && b.arg < 32);
        if (e.arg === 'and') return is4(a) || is4(b);
        return false;
      case 'select':
        return e.src[1] !== undefined && e.src[2] !== undefined && is4(e.src[1]) && is4(e.src[2]);
      default:
        return false;
    }
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (const d of defs) {
      if (!aligned.has(d.name)) continue;
      const ok = d.value !== undefined ? is4(d.value) : d.start !== undefined && is4(d.start) && (d.step ?? 1) % 4 === 0;
      if (!ok) {
        aligned.delete(d.name);
        changed = true;
      }
    }
  }
  return is4;
}

/** Read-only f32 / i32 buffers with at least one vector load, every one of them at a multiple of 4. */
export function vec4Buffers(k: Kernel): Set<string> {
  const is4 = alignedBy4(k);
  const good = new Set<string>();
  const bad = new Set<string>();
  const walk = (n: KNode): void => {
    if (n.op === 'load' && n.arg.space === 'global' && (n.type === 'f32x4' || n.type === 'i32x4')) {
      const idx = n.src[0];
      if (idx !== undefined && is4(idx)) good.add(n.arg.name);
      else bad.add(n.arg.name);
    }
    for (const s of n.src) walk(s);
  };
  walk(k.body);
  const out = new Set<string>();
  for (const b of k.buffers) if (b.access === 'read' && (b.elem === 'f32' || b.elem === 'i32') && good.has(b.name) && !bad.has(b.name)) out.add(b.name);
  return out;
}
