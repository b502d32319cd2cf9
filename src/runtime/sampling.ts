/**
 * Choosing the next token from a row of logits: greedy (argmax, ties to the lower id) or seeded sampling with
 * temperature, then top-k, then top-p (nucleus), in the order Hugging Face's generate applies them.
 */
import { Rng } from './random.js';

export interface SamplingOptions {
  /** 0 means greedy. */
  readonly temperature: number;
  /** Keep the k most likely tokens; 0 keeps all. */
  readonly topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all. */
  readonly topP?: number;
  readonly seed?: number;
}

export class SamplingError extends Error {
  override name = 'SamplingError';
}

/** Index of the largest value; ties go to the lower index, NaN never wins (an all-NaN row gives 0). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  let bestV = Number.NEGATIVE_INFINITY;
  let found = false;
  for (let i = 0; i < row.length; i++) {
    const v = row[i] ?? Number.NaN;
    if (Number.isNaN(v)) continue;
    if (!found || v > bestV) {
      best = i;
      bestV = v;
      found = true;
    }
  }
  return best;
}

export function checkSampling(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature)) throw new SamplingError(`temperature must be a finite number >= 0, got ${o.temperature}`);
  if (o.topK !== undefined && (!Number.isInteger(o.topK) || o.topK < 0)) throw new SamplingError(`top-k must be an integer >= 0, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new SamplingError(`top-p must be in (0, 1], got ${o.topP}`);
}

export class Sampler {
  private readonly rng: Rng;

  constructor(readonly options: SamplingOptions) {
    checkSampling(options);
    this.rng = new Rng(options.seed ?? 0);
  }

  get greedy(): boolean {
    return this.options.temperature === 0;
  }

  /** The next token id from one row of logits. */
  pick(row: ArrayLike<number>): number {
    if (this.greedy) return argmax(row);
    const { temperature, topK = 0, topP = 1 } = this.options;
    // Candidates by descending logit, ties to the lower id (a stable order makes the draw reproducible).
    const ids = Array.from({ length: row.length }, (_, i) => i).filter((i) => !Number.isNaN(row[i] ?? Number.NaN));
    if (ids.length === 0) return 0;
    ids.sort((a, b) => (row[b] ?? 0) - (row[a] ?? 0) || a - b);
    const kept = topK > 0 ? ids.slice(0, topK) : ids;
    const top = (row[kept[0] ?? 0] ?? 0) / temperature;
    const weights = kept.map((i) => Math.exp((row[i] ?? 0) / temperature - top));
    const total = weights.reduce((a, b) => a + b, 0);
    let n = kept.length;
    if (topP < 1) {
      let cum = 0;
      for (let j = 0; j < kept.length; j++) {
        cum += (weights[j] ?? 0) / total;
        if (cum >= topP) {
          n = j + 1;
          break;
        }
      }
    }
    const mass = weights.slice(0, n).reduce((a, b) => a + b, 0);
    let u = this.rng.next() * mass;
    for (let j = 0; j < n; j++) {
      u -= weights[j] ?? 0;
      if (u < 0) return kept[j] ?? 0;
    }
    return kept[n - 1] ?? 0;
  }
}
