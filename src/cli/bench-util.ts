/** Timing and statistics helpers shared by the `modc bench` subcommands (browser-safe: benchmark pages use them). */

/** Median of a list of numbers (NaN for an empty list). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
}

/** A sample's median, mean and range (the spread of repeats that every benchmark figure is printed with). */
export interface Spread {
  readonly n: number;
  readonly median: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

export function spread(xs: readonly number[]): Spread {
  const n = xs.length;
  return { n, median: median(xs), mean: xs.reduce((a, b) => a + b, 0) / Math.max(1, n), min: Math.min(...xs), max: Math.max(...xs) };
}

/** A per-kernel profile's entries, largest time first, at most `limit` of them. */
export function topKernels(ms: ReadonlyMap<string, number>, limit = Infinity): [string, number][] {
  return [...ms].sort((a, b) => b[1] - a[1]).slice(0, limit);
}

/** '12.3 [11.9-14.0]': median and range, with `digits` decimals. */
export function formatSpread(s: Spread, digits = 1): string {
  return `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}-${s.max.toFixed(digits)}]`;
}

/** Wall times of `repeat` runs after one warm-up run. */
export async function timesMs(run: () => Promise<void> | void, repeat: number): Promise<number[]> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Median wall time of `repeat` runs after one warm-up run. */
export async function medianMs(run: () => Promise<void> | void, repeat: number): Promise<number> {
  return median(await timesMs(run, repeat));
}
