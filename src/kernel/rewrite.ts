/**
 * Named bottom-up rewrites of Kernel IR trees: how renderers legalise a kernel for their language before
 * printing it (identifiers a language reserves, shift amounts, division semantics, NaN-propagating min/max...),
 * so the printers stay one-to-one tables. Each rule sees a node whose sources are already rewritten and returns a
 * replacement or undefined; the result records how often each rule fired.
 */
import type { Kernel, KNode } from './ir.js';

export interface KernelRewriteRule {
  readonly name: string;
  /** A replacement for `n` (its sources already rewritten), or undefined to keep it. */
  readonly apply: (n: KNode, k: Kernel) => KNode | undefined;
}

export interface RewriteResult {
  readonly kernel: Kernel;
  /** Rule name -> number of nodes it replaced. */
  readonly applied: Readonly<Record<string, number>>;
}

/** Applies the rules bottom-up in order, each node once per rule (a replacement is not rewritten again by the rules). */
export function rewriteKernel(k: Kernel, rules: readonly KernelRewriteRule[]): RewriteResult {
  const applied: Record<string, number> = {};
  const memo = new Map<KNode, KNode>();
  const visit = (n: KNode): KNode => {
    const hit = memo.get(n);
    if (hit !== undefined) return hit;
    const src = n.src.map(visit);
    let cur: KNode = src.every((s, i) => s === n.src[i]) ? n : ({ ...n, src } as KNode);
    for (const r of rules) {
      const next = r.apply(cur, k);
      if (next !== undefined && next !== cur) {
        applied[r.name] = (applied[r.name] ?? 0) + 1;
        cur = next;
      }
    }
    memo.set(n, cur);
    return cur;
  };
  return { kernel: { ...k, body: visit(k.body) }, applied };
}
