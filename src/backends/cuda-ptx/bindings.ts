/**
 * Dispatch-time checks shared by the PTX devices, before anything is launched: argument counts, the Target's
 * limits, freed buffers, and aliasing: read-only buffers load through the non-coherent path (ld.global.nc),
 * which is only correct when no other binding of the same dispatch writes that memory.
 */
import type { Kernel } from '../../kernel/ir.js';
import { type Target, targetProblems } from '../../kernel/target.js';

export interface BoundBuffer {
  readonly label: string;
  readonly freed: boolean;
}

/** Why a dispatch must not launch, or undefined. */
export function dispatchProblem<B extends BoundBuffer>(k: Kernel, target: Target, buffers: readonly B[], params: readonly number[], grid: readonly number[]): string | undefined {
  if (buffers.length !== k.buffers.length) return `kernel '${k.name}' takes ${k.buffers.length} buffers, got ${buffers.length}`;
  if (params.length !== k.params.length) return `kernel '${k.name}' takes ${k.params.length} params, got ${params.length}`;
  const problems = targetProblems(k, target, grid);
  if (problems.length) return problems.join('; ');
  const freed = buffers.find((b) => b.freed);
  if (freed) return `kernel '${k.name}' binds freed buffer '${freed.label}'`;
  return aliasProblem(k, buffers, (b) => b.label);
}

/** A sentence naming the first read-only binding that shares its buffer with a written one, or undefined. */
export function aliasProblem<B>(k: Kernel, buffers: readonly B[], label: (b: B) => string): string | undefined {
  for (let i = 0; i < k.buffers.length; i++) {
    if (k.buffers[i]?.access !== 'read') continue;
    for (let j = 0; j < k.buffers.length; j++) {
      if (j === i || k.buffers[j]?.access === 'read' || buffers[i] === undefined || buffers[i] !== buffers[j]) continue;
      const b = buffers[i] as B;
      return `kernel '${k.name}' binds buffer '${label(b)}' both as read-only '${k.buffers[i]?.name}' (loaded through ld.global.nc) and as written '${k.buffers[j]?.name}'`;
    }
  }
  return undefined;
}
