/**
 * Dispatch-time checks shared by the PTX devices: read-only buffers load through the non-coherent path
 * (ld.global.nc), which is only correct when no other binding of the same dispatch writes that memory.
 */
import type { Kernel } from '../../kernel/ir.js';

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
