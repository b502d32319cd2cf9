/**
 * The seed of a long randomized run: MODC_PROPS_SEED when given (to replay a failure), else a fresh one. It is
 * printed, so any failure of the run can be replayed with the same cases.
 */
export function runSeed(what: string): number {
  const given = process.env.MODC_PROPS_SEED;
  const seed = given !== undefined && given !== '' ? Number(given) : (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0;
  if (!Number.isInteger(seed)) throw new Error(`MODC_PROPS_SEED must be an integer, got '${given ?? ''}'`);
  process.stdout.write(`${what}: seed ${seed} (replay with MODC_PROPS_SEED=${seed})\n`);
  return seed;
}
