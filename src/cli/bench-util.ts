/** Timing helper shared by the `modc bench` subcommands. */

/** Median of a list of numbers (NaN for an empty list). */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
}

/** Median wall time of `repeat` runs after one warm-up run. */
export async function medianMs(run: () => Promise<void> | void, repeat: number): Promise<number> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return median(times);
}
