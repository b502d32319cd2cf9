/**
 * Compiled plans: a kernel program (see kernel/program.ts: kernels + alloc/dispatch/free steps + buffer sizes +
 * weight manifest) cached by key = graph hash + symbol values, with in-flight de-duplication, so a backend
 * lowers and compiles each (graph, token counts) pair once.
 */
export type { KernelProgram, ProgramBuffer, ProgramStep, ProgramTensor, WeightLayout } from '../kernel/program.js';
export { programText, weightLayoutKey } from '../kernel/program.js';

export class PlanCache<P> {
  private readonly plans = new Map<string, P>();
  constructor(private readonly limit = 16, private readonly onEvict: (p: P) => void = () => undefined) {}

  get(key: string, build: () => P): P {
    const hit = this.plans.get(key);
    if (hit !== undefined) {
      // Refresh recency.
      this.plans.delete(key);
      this.plans.set(key, hit);
      return hit;
    }
    const p = build();
    this.plans.set(key, p);
    while (this.plans.size > this.limit) {
      const oldest = this.plans.keys().next().value;
      if (oldest === undefined) break;
      const old = this.plans.get(oldest);
      this.plans.delete(oldest);
      if (old !== undefined) this.onEvict(old);
    }
    return p;
  }

  clear(): void {
    for (const p of this.plans.values()) this.onEvict(p);
    this.plans.clear();
  }

  get size(): number {
    return this.plans.size;
  }
}
