/**
 * The memory plan that runs (slots of the runner) and the memory report built on it: temporaries live at the
 * same time never share a slot, the slots cover the live-bytes lower bound, and for LLaVA-1.5-7B at N_v = 576 the
 * p-MoD KV cache is text + k_l rows per MoD layer (the method's 53.8% saving, 58.1% of bytes with the text rows).
 */
import { buildLanguageModel, TINY_PMOD, zooModel } from '../../models/index.js';
import { wasmTarget } from '../../src/backends/wasm/index.js';
import { memoryReport } from '../../src/cli/report.js';
import { compile } from '../../src/runtime/compile.js';
import { planSlots } from '../../src/runtime/memory-plan.js';

const K_576 = [486, 464, 440, 414, 388, 360, 331, 302, 273, 244, 215, 187, 161, 135, 111, 89, 86, 86, 86, 86, 86, 86, 86, 86];

it('never gives one slot to two live temporaries and covers the live-bytes bound', () => {
  const p = compile(buildLanguageModel(TINY_PMOD, { exportRouting: true }), wasmTarget({ threads: 1 }), { T: 16, N_v: 32 });
  const plan = planSlots(p);
  const life = new Map<number, [number, number]>();
  p.steps.forEach((s, i) => {
    if (s.op === 'alloc') life.set(s.buffer, [i, p.steps.length]);
    if (s.op === 'free') {
      const l = life.get(s.buffer);
      if (l) l[1] = i;
    }
  });
  const bySlot = new Map<number, [number, number][]>();
  for (const [id, slot] of plan.slotOf) bySlot.set(slot, [...(bySlot.get(slot) ?? []), life.get(id) ?? [0, 0]]);
  for (const lives of bySlot.values())
    for (let a = 0; a < lives.length; a++)
      for (let b = a + 1; b < lives.length; b++) {
        const [x, y] = [lives[a] ?? [0, 0], lives[b] ?? [0, 0]];
        expect(x[1] < y[0] || y[1] < x[0]).toBe(true);
      }
  expect(plan.slotOf.size).toBe(life.size);
  expect(plan.slotBytes).toBeGreaterThanOrEqual(plan.peakLiveBytes);
  expect(plan.slots.length).toBeLessThan(life.size / 4);
});

it('reports the p-MoD KV-cache saving of LLaVA-1.5-7B at N_v = 576 from the compiled program', () => {
  const r = memoryReport(zooModel('pmod-llava-1.5-7b'), 576, 60);
  // Per cached row: K and V of 32 heads x 128 dims in f32, and an i32 position.
  const row = 2 * 4096 * 4 + 4;
  expect(r.pmod.kvCacheBytes).toBe((8 * 636 + K_576.reduce((a, k) => a + 60 + k, 0)) * row);
  expect(r.dense.kvCacheBytes).toBe(32 * 636 * row);
  expect(r.kvRatio).toBeCloseTo(0.581, 3);
  expect(r.peakRatio).toBeLessThan(0.7);
  // The zoo model declares fp16 weights: uploaded as 2 bytes each (about 13.5 GB for 7B, never widened to f32).
  expect(r.pmod.weightBytes).toBeLessThan(14e9);

}, 60_000);
