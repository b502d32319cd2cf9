/**
 * Pieces every GPU-shaped builder shares: schedule checks, the global invocation index of a 1-D grid, fresh
 * variable names, and reductions across the threads of a workgroup through workgroup memory (a fixed pairwise
 * tree, so results do not depend on thread timing). Every barrier these helpers emit sits at the level of the
 * statement list they return: callers place that list in uniform control flow.
 */
import { add, barrier, decl, gid, iff, lid, load, lt, mul, rem, shared, store, sub, v } from '../../dsl.js';
import type { ArrayDecl, KNode, WordType } from '../../ir.js';

export const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;

/** Throws unless `threads` is a power of two (the tree reductions halve it) within [1, 1024]. */
export function checkThreads(kernel: string, threads: number): void {
  if (!isPowerOfTwo(threads) || threads > 1024) throw new Error(`kernel '${kernel}': ${threads} threads per workgroup; GPU schedules need a power of two in [1, 1024]`);
}

/** The invocation's index in a 1-D grid of workgroups of `threads` threads. */
export const globalIndex = (threads: number): KNode => add(mul(gid(0), threads), lid(0));

/** Workgroups of `threads` threads for `items` invocations (at least one). */
export const groupsFor = (items: number, threads: number): [number, number, number] => [Math.max(1, Math.ceil(items / threads)), 1, 1];

/** Variable names unique within one kernel (the verifier and the Wasm renderer reject redeclarations). */
export class Names {
  private n = 0;
  fresh(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }
}

export const sharedArray = (name: string, length: number, elem: WordType = 'f32'): ArrayDecl => ({ name, elem, length: Math.max(1, length) });

/**
 * A reduction across groups of `width` consecutive threads (width a power of two dividing the workgroup):
 * thread t stores its values at `arrays[*][t]`, then log2(width) halving steps combine element t with
 * t + step for the lower half of each group. After the returned statements every thread may read its group's
 * result at `arrays[*][groupBase(width)]`. `combine` gets the two operands as loaded values and returns
 * statements plus the combined values (one per array). A final barrier makes the result visible.
 */
export function treeReduce(
  names: Names,
  arrays: readonly { readonly name: string; readonly type: WordType }[],
  values: readonly KNode[],
  width: number,
  combine: (a: readonly KNode[], b: readonly KNode[]) => { readonly stmts: readonly KNode[]; readonly out: readonly KNode[] },
): KNode[] {
  if (!isPowerOfTwo(width)) throw new Error(`tree reduction over ${width} threads: not a power of two`);
  const out: KNode[] = arrays.map((a, i) => store(shared(a.name), lid(0), values[i] as KNode));
  out.push(barrier());
  for (let step = width / 2; step >= 1; step /= 2) {
    const lanePos = rem(lid(0), width);
    const a = arrays.map((arr) => load(shared(arr.name), lid(0), arr.type));
    const b = arrays.map((arr) => load(shared(arr.name), add(lid(0), step), arr.type));
    // Operands are loaded into variables first: each value is used several times by compensated combines.
    const aNames = arrays.map(() => names.fresh('ra'));
    const bNames = arrays.map(() => names.fresh('rb'));
    const aVars = arrays.map((arr, i) => v(aNames[i] as string, arr.type));
    const bVars = arrays.map((arr, i) => v(bNames[i] as string, arr.type));
    const c = combine(aVars, bVars);
    out.push(
      iff(lt(lanePos, step), [
        ...a.map((x, i) => decl(aNames[i] as string, x)),
        ...b.map((x, i) => decl(bNames[i] as string, x)),
        ...c.stmts,
        ...arrays.map((arr, i) => store(shared(arr.name), lid(0), c.out[i] as KNode)),
      ]),
      barrier(),
    );
  }
  return out;
}

/** Index of the first thread of the calling thread's group of `width` threads. */
export const groupBase = (width: number): KNode => (width === 1 ? lid(0) : sub(lid(0), rem(lid(0), width)));
