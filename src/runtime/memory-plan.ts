/**
 * The memory plan that runs: a program's temporaries assigned to reusable slots by their alloc / free steps
 * (best fit among the slots free at that step, a new slot otherwise). The runner allocates one device buffer
 * per slot once and binds each temporary to its slot, so no run allocates; `modc report --memory` prints this
 * plan. Slots are whole buffers (no offsets), which every device binds the same way.
 */
import { bufferBytes, type KernelProgram } from '../kernel/program.js';

export interface SlotPlan {
  /** Bytes of each slot (the largest temporary it holds). */
  readonly slots: readonly number[];
  /** Temporary buffer id -> slot index. */
  readonly slotOf: ReadonlyMap<number, number>;
  /** Sum of the slots: the activation memory the program needs. */
  readonly slotBytes: number;
  /** The largest sum of simultaneously live temporaries: the lower bound any plan needs. */
  readonly peakLiveBytes: number;
}

export function planSlots(p: KernelProgram): SlotPlan {
  const slots: number[] = [];
  const free = new Set<number>();
  const slotOf = new Map<number, number>();
  let live = 0;
  let peak = 0;
  for (const s of p.steps) {
    if (s.op === 'alloc') {
      const b = p.buffers[s.buffer];
      if (b === undefined) continue;
      const bytes = Math.max(4, bufferBytes(b));
      let best: number | undefined;
      for (const i of free) if ((slots[i] ?? 0) >= bytes && (best === undefined || (slots[i] ?? 0) < (slots[best] ?? 0))) best = i;
      if (best === undefined) {
        // No free slot is large enough: grow the largest free one rather than adding a slot beside it.
        let largest: number | undefined;
        for (const i of free) if (largest === undefined || (slots[i] ?? 0) > (slots[largest] ?? 0)) largest = i;
        if (largest !== undefined) {
          slots[largest] = bytes;
          best = largest;
        } else {
          best = slots.length;
          slots.push(bytes);
        }
      }
      free.delete(best);
      slotOf.set(s.buffer, best);
      live += bytes;
      peak = Math.max(peak, live);
    } else if (s.op === 'free') {
      const slot = slotOf.get(s.buffer);
      const b = p.buffers[s.buffer];
      if (slot !== undefined) free.add(slot);
      if (b !== undefined) live -= Math.max(4, bufferBytes(b));
    }
  }
  return { slots, slotOf, slotBytes: slots.reduce((a, b) => a + b, 0), peakLiveBytes: peak };
}
