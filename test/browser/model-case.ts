/** The tiny p-MoD case the browser model test runs, shared by the page and the test (same weights both sides). */
import type { TensorStore } from '../../src/ir/index.js';

export const MODEL_CASE = { seed: 21, text: 12, vision: 24, tokens: 32 } as const;

/** Non-zero routers (p-MoD initialises them to zero, which would make every score tie). */
export function nonZeroRouters(weights: TensorStore, layers: number): void {
  for (let l = 0; l < layers; l++) {
    const name = `model.layers.${l}.router.router.weight`;
    if (!weights.has(name)) continue;
    const w = weights.get(name);
    for (let i = 0; i < w.data.length; i++) w.data[i] = Math.fround(Math.sin(i * 0.9 + l) * 0.25);
  }
}
