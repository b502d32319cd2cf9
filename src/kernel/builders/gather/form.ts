/**
 * The gather form: the fragment-shader model that WebGL has. A gather kernel computes one element of ONE output
 * buffer per invocation and only reads everything else: no workgroup memory, no barriers, no atomics, no stores
 * to other buffers or to other elements. Every store goes to the output at the invocation's own index `e`
 * (gid.x * threads + lid.x of a 1-D grid). The output may be declared 'readwrite' and read at `e` only, which
 * means the same thing in place (Wasm) and on a copy (WebGL renders into a new texture): elements a kernel does
 * not store keep their previous value.
 *
 * The builders of this folder make kernels of this form with one thread per workgroup and a grid of one
 * workgroup per output element; `gatherOutput` checks the form (the WebGL renderer refuses anything else).
 */
import { block, decl, gid } from '../../dsl.js';
import type { BufferDecl, Kernel, KNode, ScalarParamDecl } from '../../ir.js';

/** The invocation index variable every gather builder declares first. */
export const OWN = 'e';

/** One workgroup of one thread per output element (at least one). */
export const gatherGrid = (elements: number): [number, number, number] => [Math.max(1, elements), 1, 1];

/** A gather kernel: `e` = the output element this invocation computes, then `body`. */
export function gatherKernel(name: string, buffers: readonly BufferDecl[], params: readonly ScalarParamDecl[], body: readonly KNode[]): Kernel {
  return { name, buffers, params, shared: [], privates: [], threads: 1, body: block(decl(OWN, gid(0)), ...body) };
}

/** Why a kernel is not in gather form, or undefined when it is. */
export function gatherProblem(k: Kernel): string | undefined {
  const written = k.buffers.filter((b) => b.access !== 'read');
  if (written.length !== 1) return `writes ${written.length} buffers (${written.map((b) => b.name).join(', ') || 'none'}); a gather kernel writes exactly one`;
  if (k.shared.length) return 'declares workgroup memory';
  if (k.privates.length) return 'declares private arrays';
  const out = (written[0] as BufferDecl).name;
  // Variables holding the invocation index: declared from it and never assigned.
  const own = new Set<string>();
  const assigned = new Set<string>();
  const collect = (n: KNode): void => {
    if (n.op === 'assign') assigned.add(n.arg);
    n.src.forEach(collect);
  };
  collect(k.body);
  const isOwnExpr = (n: KNode): boolean => {
    if (n.op === 'var') return own.has(n.arg);
    if (k.threads === 1 && n.op === 'gid' && n.arg === 0) return true;
    if (n.op !== 'binary' || n.arg !== 'add') return false;
    const [a, b] = n.src as [KNode, KNode];
    if (!(b.op === 'lid' && b.arg === 0)) return false;
    if (k.threads === 1) return a.op === 'gid' && a.arg === 0;
    return a.op === 'binary' && a.arg === 'mul' && a.src[0]?.op === 'gid' && a.src[0].arg === 0 && a.src[1]?.op === 'const' && a.src[1].arg === k.threads;
  };
  let problem: string | undefined;
  const walk = (n: KNode): void => {
    if (problem !== undefined) return;
    if (n.op === 'barrier') problem = 'has a barrier';
    else if (n.op === 'decl' && !assigned.has(n.arg) && n.src[0] !== undefined && isOwnExpr(n.src[0])) own.add(n.arg);
    else if (n.op === 'store') {
      if (n.arg.space !== 'global' || n.arg.name !== out) problem = `stores to ${n.arg.space} '${n.arg.name}'`;
      else if (n.src[0] === undefined || !isOwnExpr(n.src[0])) problem = `stores to '${out}' at an index other than the invocation's own`;
    } else if (n.op === 'load' && n.arg.space === 'global' && n.arg.name === out && (n.src[0] === undefined || !isOwnExpr(n.src[0]))) {
      problem = `reads its output '${out}' at an index other than the invocation's own`;
    } else if (n.type === 'f32x4' || n.type === 'i32x4') problem = 'uses 4-lane vectors';
    n.src.forEach(walk);
  };
  walk(k.body);
  return problem;
}

/** The output buffer of a gather kernel; throws, naming the kernel, when it is not in gather form. */
export function gatherOutput(k: Kernel): BufferDecl {
  const p = gatherProblem(k);
  if (p !== undefined) throw new Error(`kernel '${k.name}' is not in gather form: it ${p}`);
  return k.buffers.find((b) => b.access !== 'read') as BufferDecl;
}
