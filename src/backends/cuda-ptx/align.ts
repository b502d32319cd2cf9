/**
 * Alignment of element indices: the largest power of two (up to 16) known to divide an index expression, so
 * 4-element accesses whose index is a multiple of 4 become one v4 load or store (PTX requires vector accesses
 * to be aligned to their size). Variables take the smallest alignment of every value they are given, found as a
 * fixpoint over the whole kernel (names are merged across scopes, which can only lower the result).
 */
import type { Kernel, KNode } from '../../kernel/ir.js';

const CAP = 16;
const lowBit = (x: number): number => (x === 0 ? CAP : Math.min(CAP, x & -x));

export type AlignEnv = ReadonlyMap<string, number>;

/** Alignment (in elements) of an i32 expression under an environment of variable alignments. */
export function alignmentOf(n: KNode, env: AlignEnv): number {
  if (n.type !== 'i32' && n.type !== 'u32') return 1;
  switch (n.op) {
    case 'const':
      return Number.isInteger(n.arg) ? lowBit(n.arg | 0) : 1;
    case 'var':
      return env.get(n.arg) ?? 1;
    case 'binary': {
      const [a, b] = n.src as [KNode, KNode];
      switch (n.arg) {
        case 'add':
        case 'sub':
          return Math.min(alignmentOf(a, env), alignmentOf(b, env));
        case 'mul':
          return Math.min(CAP, alignmentOf(a, env) * alignmentOf(b, env));
        case 'shl':
          return b.op === 'const' && b.arg >= 0 && b.arg < 5 ? Math.min(CAP, alignmentOf(a, env) << b.arg) : 1;
        case 'and':
          return Math.max(alignmentOf(a, env), alignmentOf(b, env));
        default:
          return 1;
      }
    }
    case 'select':
      return Math.min(alignmentOf(n.src[1] as KNode, env), alignmentOf(n.src[2] as KNode, env));
    default:
      return 1;
  }
}

/** Alignment of every variable name of the kernel. */
export function variableAlignments(k: Kernel): AlignEnv {
  const writes: { name: string; value: KNode; step?: number }[] = [];
  const walk = (n: KNode): void => {
    if (n.op === 'decl' || n.op === 'assign') writes.push({ name: n.arg, value: n.src[0] as KNode });
    if (n.op === 'range') writes.push({ name: n.arg.var, value: n.src[0] as KNode, step: n.arg.step });
    n.src.forEach(walk);
  };
  walk(k.body);
  const env = new Map<string, number>();
  for (const w of writes) env.set(w.name, CAP);
  for (let changed = true; changed; ) {
    changed = false;
    for (const w of writes) {
      let a = alignmentOf(w.value, env);
      if (w.step !== undefined) a = Math.min(a, lowBit(w.step));
      if (a < (env.get(w.name) ?? CAP)) {
        env.set(w.name, a);
        changed = true;
      }
    }
  }
  return env;
}
