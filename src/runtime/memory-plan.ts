/**
 * The memory plan that runs: a program's temporaries assigned to reusable slots by their lifetimes (the alloc /
 * free steps), largest first into the first slot free for the whole lifetime. The runner allocates one device buffer
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
  // Lifetimes [alloc step, free step] of every temporary (outputs are never freed: live to the end).
  const life = new Map<number, { start: number; end: number; bytes: number }>();
  p.steps.forEach((s, i) => {
    const b = p.buffers[s.op === 'dispatch' ? -1 : s.buffer];
    if (s.op === 'alloc' && b !== undefined) life.set(s.buffer, { start: i, end: p.steps.length, bytes: Math.max(4, bufferBytes(b)) });
    else if (s.op === 'free') {
      const l = life.get(s.buffer);
      if (l) l.end = i;
    }
  });
  // Greedy by size (as TFLite's arena planner): the largest temporary first, each into the first slot holding
  // no temporary live at the same time; a slot is as large as the first (largest) temporary it received.
  const order = [...life.entries()].sort((a, b) => b[1].bytes - a[1].bytes || a[1].start - b[1].start);
  const slots: number[] = [];
  const holders: { start: number; end: number }[][] = [];
  const slotOf = new Map<number, number>();
  for (const [id, l] of order) {
    let slot = holders.findIndex((hs) => hs.every((h) => h.end < l.start || l.end < h.start));
    if (slot < 0) {
      slot = slots.length;
      slots.push(l.bytes);
      holders.push([]);
    }
    holders[slot]?.push(l);
    slotOf.set(id, slot);
  }
  // The live-bytes lower bound, by a sweep over the steps.
  let live = 0;
  let peak = 0;
  for (const s of p.steps) {
    if (s.op === 'alloc') live += life.get(s.buffer)?.bytes ?? 0;
    else if (s.op === 'free') live -= life.get(s.buffer)?.bytes ?? 0;
    peak = Math.max(peak, live);
  }
  return { slots, slotOf, slotBytes: slots.reduce((a, b) => a + b, 0), peakLiveBytes: peak };
}

/** What a program needs on a device, by kind (bytes). */
export interface ProgramMemory {
  /** Activation slots of the plan that runs (slotBytes), and the live-bytes lower bound. */
  readonly slotBytes: number;
  readonly peakLiveBytes: number;
  readonly slots: number;
  /** State tensors bound per run (the KV cache: inputs whose names are in `stateNames`). */
  readonly stateBytes: number;
  /** Other inputs and the constants. */
  readonly inputBytes: number;
  /** Weights in their storage types and layouts (packed panels pad to whole panels). */
  readonly weightBytes: number;
}

export function programMemory(p: KernelProgram, stateNames: ReadonlySet<string>): ProgramMemory {
  const plan = planSlots(p);
  const bytesOf = (id: number): number => {
    const b = p.buffers[id];
    return b === undefined ? 0 : bufferBytes(b);
  };
  const stateBytes = p.inputs.filter((t) => stateNames.has(t.name)).reduce((a, t) => a + bytesOf(t.buffer), 0);
  const inputBytes = p.inputs.filter((t) => !stateNames.has(t.name)).reduce((a, t) => a + bytesOf(t.buffer), 0) + p.constants.reduce((a, c) => a + bytesOf(c.buffer), 0);
  const weightBytes = p.weights.reduce((a, w) => a + bytesOf(w.buffer), 0);
  return { slotBytes: plan.slotBytes, peakLiveBytes: plan.peakLiveBytes, slots: plan.slots.length, stateBytes, inputBytes, weightBytes };
}
