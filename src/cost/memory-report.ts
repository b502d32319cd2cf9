/**
 * Peak-memory comparison of two compiled programs (p-MoD vs dense) as the runner allocates them: activation
 * slots of the memory plan, the KV-cache state, inputs and weights in their storage types. The numbers come
 * from the plan that runs (src/runtime/memory-plan.ts), computed by the caller.
 */

export interface MemorySummary {
  /** Activation slots the runner allocates once (the plan that runs). */
  readonly slotBytes: number;
  /** The largest sum of simultaneously live temporaries (a lower bound for any plan). */
  readonly peakLiveBytes: number;
  readonly slots: number;
  /** KV-cache state: every layer's capacity of cached rows (keys, values, positions). */
  readonly kvCacheBytes: number;
  readonly inputBytes: number;
  readonly weightBytes: number;
}

export interface MemoryReport {
  readonly model: string;
  readonly target: string;
  readonly visionTokens: number;
  readonly textTokens: number;
  readonly pmod: MemorySummary;
  readonly dense: MemorySummary;
  /** p-MoD / dense of activations + KV cache (what the prefill needs besides weights). */
  readonly peakRatio: number;
  readonly kvRatio: number;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;

export function formatMemoryReport(r: MemoryReport): string {
  const row = (label: string, f: (s: MemorySummary) => number): string =>
    `${label.padEnd(36)} ${mib(f(r.pmod)).padStart(12)} ${mib(f(r.dense)).padStart(12)} ${`${((f(r.pmod) / Math.max(f(r.dense), 1)) * 100).toFixed(1)}%`.padStart(8)}`;
  return [
    `memory of ${r.model} prefill as the runner allocates it (${r.target} target, N_v = ${r.visionTokens}, T = ${r.textTokens}; KV cache resident, sized to the cached rows)`,
    `${''.padEnd(36)} ${'p-MoD'.padStart(12)} ${'dense'.padStart(12)} ${'ratio'.padStart(8)}`,
    row('activations (plan slots)', (s) => s.slotBytes),
    row('peak live activations (lower bound)', (s) => s.peakLiveBytes),
    row('KV cache (state)', (s) => s.kvCacheBytes),
    row('activations + KV cache', (s) => s.slotBytes + s.kvCacheBytes),
    row('inputs and constants', (s) => s.inputBytes),
    row('weights (stored dtypes)', (s) => s.weightBytes),
  ].join('\n');
}
