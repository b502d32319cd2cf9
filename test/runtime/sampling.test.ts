/** Token choice: greedy is the argmax; sampling is reproducible with a seed and respects temperature, top-k, top-p. */
import { argmax, Sampler, SamplingError } from '../../src/runtime/sampling.js';

const logits = Float32Array.from([0.5, 2.0, 1.9, -1, 2.0, 0.1, 1.0, 1.5]);

function draws(s: Sampler, n: number, row: ArrayLike<number> = logits): number[] {
  return Array.from({ length: n }, () => s.pick(row));
}

describe('sampling', () => {
  it('greedy picks the argmax, ties to the lower id, NaN never', () => {
    expect(argmax(logits)).toBe(1);
    expect(new Sampler({ temperature: 0 }).pick(logits)).toBe(1);
    expect(argmax([Number.NaN, -5, Number.NaN, -4])).toBe(3);
    expect(argmax([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe(0);
    expect(draws(new Sampler({ temperature: 0, seed: 9 }), 20)).toEqual(new Array(20).fill(1));
  });

  it('is reproducible with a seed and varies with it', () => {
    const a = draws(new Sampler({ temperature: 1, seed: 42 }), 200);
    const b = draws(new Sampler({ temperature: 1, seed: 42 }), 200);
    const c = draws(new Sampler({ temperature: 1, seed: 43 }), 200);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a).size).toBeGreaterThan(4);
  });

  it('follows the softmax distribution at temperature 1', () => {
    const n = 20000;
    const counts = new Array<number>(logits.length).fill(0);
    for (const id of draws(new Sampler({ temperature: 1, seed: 1 }), n)) counts[id] = (counts[id] ?? 0) + 1;
    const z = Array.from(logits).reduce((a, v) => a + Math.exp(v), 0);
    logits.forEach((v, i) => expect(Math.abs((counts[i] ?? 0) / n - Math.exp(v) / z)).toBeLessThan(0.015));
  });

  it('top-k keeps the k most likely tokens (ties to the lower id); top-k 1 is greedy', () => {
    expect(new Set(draws(new Sampler({ temperature: 1, topK: 3, seed: 2 }), 500))).toEqual(new Set([1, 2, 4]));
    expect(new Set(draws(new Sampler({ temperature: 5, topK: 1, seed: 2 }), 50))).toEqual(new Set([1]));
  });

  it('top-p keeps the smallest set of most likely tokens reaching p', () => {
    // Probabilities 0.5, 0.3, 0.2: p = 0.75 keeps the first two, p = 0.5 only the first.
    const row = [Math.log(0.2), Math.log(0.5), Math.log(0.3)];
    expect(new Set(draws(new Sampler({ temperature: 1, topP: 0.75, seed: 3 }), 400, row))).toEqual(new Set([1, 2]));
    expect(new Set(draws(new Sampler({ temperature: 1, topP: 0.5, seed: 3 }), 100, row))).toEqual(new Set([1]));
    expect(new Set(draws(new Sampler({ temperature: 1, topP: 1, seed: 3 }), 400, row))).toEqual(new Set([0, 1, 2]));
  });

  it('low temperature concentrates on the argmax', () => {
    const hot = draws(new Sampler({ temperature: 0.01, seed: 4 }), 100, [0, 1, 3, 2]);
    expect(new Set(hot)).toEqual(new Set([2]));
  });

  it('rejects bad settings', () => {
    expect(() => new Sampler({ temperature: -1 })).toThrow(new SamplingError('temperature must be a finite number >= 0, got -1'));
    expect(() => new Sampler({ temperature: 1, topP: 0 })).toThrow(/top-p must be in \(0, 1\]/);
    expect(() => new Sampler({ temperature: 1, topK: 1.5 })).toThrow(/top-k must be an integer >= 0/);
  });
});
