/**
 * Horizontal dispatch fusion: consecutive dispatches that do not depend on each other (the q, k and v
 * projections of one token, or its gate and up projections, all reading one normalised row) run as one dispatch
 * of a kernel whose workgroups are theirs side by side: workgroup g runs the first kernel's body while
 * g < grid0, the second's (with g - grid0) below the next offset, and so on. On the CPU every dispatch is a
 * barrier of the thread pool, and a thread that a neighbouring process delays holds every other thread at it;
 * fewer, longer dispatches pay that less often (a GEMV of 4 MiB of weights streamed at 24-27 GB/s on 2 threads
 * where one of 32 MiB streamed at 31-34, measured in one run).
 *
 * Only kernels of one thread per workgroup without shared memory on 1-D grids qualify (the CPU schedules), so a
 * workgroup's work does not depend on which kernel its neighbours run. Every workgroup still writes its own
 * outputs in its own order: results are bit-identical to the unfused program.
 */
import type { Dim } from '../../ir/index.js';
import { gid, i32, iff, lt, sub } from '../../kernel/dsl.js';
import type { BufferDecl, Kernel, KNode, MemRef, ScalarParamDecl, ArrayDecl } from '../../kernel/ir.js';
import type { KernelProgram, ProgramStep } from '../../kernel/program.js';
import { type KernelRewriteRule, rewriteKernel } from '../../kernel/rewrite.js';
import { checkKernel } from '../../kernel/verify.js';

type Dispatch = Extract<ProgramStep, { op: 'dispatch' }>;

export interface HorizontalFusionOptions {
  /** Most buffers one fused kernel may declare (the target's limit). */
  readonly maxBuffers: number;
  /** Most dispatches fused into one (keeps kernels small enough to compile quickly). */
  readonly maxParts?: number;
  /** Verify every fused kernel. */
  readonly verify?: boolean;
}

const fusible = (k: Kernel, s: Dispatch): boolean => k.threads === 1 && k.shared.length === 0 && s.grid[1] === 1 && s.grid[2] === 1 && s.grid[0] >= 1;

/** The program buffers a dispatch reads and those it writes (readwrite counts as both). */
function accesses(k: Kernel, s: Dispatch): { reads: Set<number>; writes: Set<number> } {
  const reads = new Set<number>();
  const writes = new Set<number>();
  for (const b of k.buffers) {
    const id = s.buffers[b.name];
    if (id === undefined) continue;
    if (b.access !== 'write') reads.add(id);
    if (b.access !== 'read') writes.add(id);
  }
  return { reads, writes };
}

const meets = (a: ReadonlySet<number>, b: ReadonlySet<number>): boolean => [...a].some((x) => b.has(x));

interface Renaming {
  readonly buffers: ReadonlyMap<string, string>;
  readonly params: ReadonlyMap<string, string>;
  /** Prefix of private variables and arrays ('' for the first part). */
  readonly prefix: string;
  /** The part's first workgroup in the fused grid, and its own grid width. */
  readonly offset: number;
  readonly groups: number;
}

/** A part's body in the fused kernel: its names renamed, gid(0) counted from its offset, ngroups(0) its own. */
function renameBody(k: Kernel, r: Renaming): KNode {
  const mem = (m: MemRef): MemRef => (m.space === 'global' ? { space: 'global', name: r.buffers.get(m.name) ?? m.name } : m.space === 'private' ? { space: 'private', name: r.prefix + m.name } : m);
  // One bottom-up rule; its replacements are not rewritten again, so the gid(0) inside sub(gid(0), offset) stays.
  const rename: KernelRewriteRule = {
    name: 'horizontal-rename',
    apply: (n) => {
      switch (n.op) {
        case 'gid':
          return n.arg === 0 ? sub(gid(0), r.offset) : undefined;
        case 'ngroups':
          return n.arg === 0 ? i32(r.groups) : undefined;
        case 'param':
          return { ...n, arg: r.params.get(n.arg) ?? n.arg };
        case 'var':
        case 'decl':
        case 'assign':
          return { ...n, arg: r.prefix + n.arg } as KNode;
        case 'range':
          return { ...n, arg: { var: r.prefix + n.arg.var, step: n.arg.step } };
        case 'load':
        case 'store':
          return { ...n, arg: mem(n.arg) } as KNode;
        default:
          return undefined;
      }
    },
  };
  return rewriteKernel(k, [rename]).kernel.body;
}

interface Fused {
  /** Undefined when not asked for (the caller has it from a run of the same shape). */
  readonly kernel: Kernel | undefined;
  readonly step: Dispatch;
}

/**
 * One kernel and dispatch for `parts` (independent, fusible, in program order). The kernel depends only on the
 * parts' kernels and grids and on which of their read buffers coincide (see shapeKey): `withKernel` false
 * returns the dispatch alone.
 */
export function fuseParts(parts: readonly { readonly kernel: Kernel; readonly step: Dispatch }[], withKernel = true): Fused {
  const buffers: BufferDecl[] = [];
  const bindings: Record<string, number> = {};
  const params: ScalarParamDecl[] = [];
  const values: Record<string, Dim> = {};
  const privates: ArrayDecl[] = [];
  const bodies: KNode[] = [];
  const offsets: number[] = [];
  const taken = new Set<string>();
  const fresh = (base: string, i: number): string => {
    let name = i === 0 ? base : `${base}_h${i}`;
    for (let j = 2; taken.has(name); j++) name = `${base}_h${i}_${j}`;
    taken.add(name);
    return name;
  };
  let offset = 0;
  parts.forEach(({ kernel: k, step: s }, i) => {
    const bufMap = new Map<string, string>();
    for (const b of k.buffers) {
      const id = s.buffers[b.name];
      if (id === undefined) throw new Error(`horizontal fusion: '${k.name}' has no binding for '${b.name}'`);
      // A buffer several parts only read is bound once.
      const shared = b.access === 'read' ? buffers.find((d) => d.access === 'read' && d.elem === b.elem && bindings[d.name] === id) : undefined;
      if (shared) {
        bufMap.set(b.name, shared.name);
        continue;
      }
      const name = fresh(b.name, i);
      bufMap.set(b.name, name);
      buffers.push({ ...b, name });
      bindings[name] = id;
    }
    const paramMap = new Map<string, string>();
    for (const p of k.params) {
      const name = fresh(p.name, i);
      paramMap.set(p.name, name);
      params.push({ ...p, name });
      const value = s.params[p.name];
      if (value === undefined) throw new Error(`horizontal fusion: '${k.name}' has no value for param '${p.name}'`);
      values[name] = value;
    }
    const prefix = i === 0 ? '' : `h${i}_`;
    for (const a of k.privates) privates.push({ ...a, name: prefix + a.name });
    offsets.push(offset);
    if (withKernel) bodies.push(renameBody(k, { buffers: bufMap, params: paramMap, prefix, offset, groups: s.grid[0] }));
    offset += s.grid[0];
  });
  let kernel: Kernel | undefined;
  if (withKernel) {
    // if (g < o1) part 0 else if (g < o2) part 1 ... else the last part.
    let body = bodies[bodies.length - 1] as KNode;
    for (let i = bodies.length - 2; i >= 0; i--) body = iff(lt(gid(0), offsets[i + 1] ?? 0), bodies[i] as KNode, body);
    kernel = { name: parts.map((p) => p.kernel.name).join('+'), buffers, params, shared: [], privates, threads: 1, body };
  }
  const step: Dispatch = {
    op: 'dispatch',
    kernel: -1,
    buffers: bindings,
    params: values,
    grid: [offset, 1, 1],
    parallel: parts.some((p) => p.step.parallel),
    node: parts.map((p) => p.step.node).join(' + '),
  };
  return { kernel, step };
}

/**
 * What the fused kernel of `parts` depends on: the parts' kernels and grid widths, and the program buffers they
 * bind numbered by first appearance (which read buffers are shared). Runs of the same shape (the q, k, v
 * projections of every layer) share one kernel, built and verified once.
 */
function shapeKey(parts: readonly { readonly step: Dispatch }[]): string {
  const seen = new Map<number, number>();
  const canon = (id: number): number => {
    let c = seen.get(id);
    if (c === undefined) seen.set(id, (c = seen.size));
    return c;
  };
  return JSON.stringify(parts.map((p) => [p.step.kernel, p.step.grid[0], Object.entries(p.step.buffers).map(([n, id]) => [n, canon(id)])]));
}

/**
 * Fuses each run of consecutive independent fusible dispatches of `p` into one dispatch. Alloc steps inside a
 * run move before the fused dispatch and free steps after it (lifetimes only grow). A dispatch joins a run when
 * it writes nothing the run reads or writes and reads nothing the run writes.
 */
export function fuseIndependentDispatches(p: KernelProgram, opts: HorizontalFusionOptions): KernelProgram {
  const maxParts = opts.maxParts ?? 8;
  const kernels = [...p.kernels];
  const ids = new Map<string, number>();
  const steps: ProgramStep[] = [];
  let i = 0;
  while (i < p.steps.length) {
    const first = p.steps[i] as ProgramStep;
    const firstKernel = first.op === 'dispatch' ? kernels[first.kernel] : undefined;
    if (first.op !== 'dispatch' || firstKernel === undefined || !fusible(firstKernel, first)) {
      steps.push(first);
      i++;
      continue;
    }
    const parts = [{ kernel: firstKernel, step: first }];
    const { reads, writes } = accesses(firstKernel, first);
    let buffers = firstKernel.buffers.length;
    let end = i + 1;
    for (let j = i + 1; j < p.steps.length && parts.length < maxParts; j++) {
      const s = p.steps[j] as ProgramStep;
      // A free inside a run follows the last use of its buffer, so no later part reads it: it can move after.
      if (s.op !== 'dispatch') continue;
      const k = kernels[s.kernel];
      if (k === undefined || !fusible(k, s)) break;
      const a = accesses(k, s);
      if (meets(a.writes, reads) || meets(a.writes, writes) || meets(a.reads, writes)) break;
      if (buffers + k.buffers.length > opts.maxBuffers) break;
      buffers += k.buffers.length;
      parts.push({ kernel: k, step: s });
      for (const x of a.reads) reads.add(x);
      for (const x of a.writes) writes.add(x);
      end = j + 1;
    }
    if (parts.length === 1) {
      steps.push(first);
      i++;
      continue;
    }
    // Allocs and frees after the last part stay where they are.
    const inRun = p.steps.slice(i + 1, end);
    const key = shapeKey(parts);
    let id = ids.get(key);
    const fused = fuseParts(parts, id === undefined);
    if (id === undefined) {
      if (fused.kernel === undefined) throw new Error('horizontal fusion: no kernel built');
      if (opts.verify) checkKernel(fused.kernel);
      id = kernels.push(fused.kernel) - 1;
      ids.set(key, id);
    }
    steps.push(...inRun.filter((s) => s.op === 'alloc'), { ...fused.step, kernel: id }, ...inRun.filter((s) => s.op === 'free'));
    i = end;
  }
  // Kernels only the fused ones used are dropped (and the steps renumbered).
  const used = [...new Set(steps.flatMap((s) => (s.op === 'dispatch' ? [s.kernel] : [])))].sort((a, b) => a - b);
  const renumber = new Map(used.map((k, n) => [k, n]));
  return {
    ...p,
    kernels: used.map((k) => kernels[k] as Kernel),
    steps: steps.map((s) => (s.op === 'dispatch' ? { ...s, kernel: renumber.get(s.kernel) ?? -1 } : s)),
  };
}
