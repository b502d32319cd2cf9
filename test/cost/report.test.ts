import { buildLanguageModel, withoutRouting, zooModel } from '../../models/index.js';
import { costReport, formatReport, runLengthText } from '../../src/cost/index.js';

const K_576 = [...new Array<number>(8).fill(576), 486, 464, 440, 414, 388, 360, 331, 302, 273, 244, 215, 187, 161, 135, 111, 89, ...new Array<number>(8).fill(86)];

describe('cost report', () => {
  const spec = zooModel('pmod-llava-1.5-7b');
  const g = buildLanguageModel(spec);
  const dense = buildLanguageModel(withoutRouting(spec));
  const r = costReport(spec.name, g, dense, 576, 60);

  it('lists every layer with kind, R_l, k_l, tokens and KV entries', () => {
    expect(r.layers).toHaveLength(32);
    expect(r.layers.map((l) => l.capacity)).toEqual(K_576);
    expect(r.layers.slice(0, 8).every((l) => l.kind === 'dense' && l.ratio === 1 && l.tokens === 636)).toBe(true);
    expect(r.layers[8]).toMatchObject({ index: 8, kind: 'mod', capacity: 486, tokens: 546, kvEntries: 546 });
    expect(r.layers[8]?.ratio).toBeCloseTo(0.8445, 4);
    expect(r.layers[31]).toMatchObject({ kind: 'mod', capacity: 86, tokens: 146, kvEntries: 146 });
  });

  it('counts FLOPs by the method doc convention', () => {
    const [d, m, n] = [4096, 11008, 636];
    const denseLayer = 2 * n * (4 * d * d + 3 * d * m) + 2 * n * n * d; // causal half: c = 2
    expect(r.layers[0]?.flops).toBe(denseLayer);
    const k = 546;
    expect(r.layers[8]?.flops).toBe(2 * k * (4 * d * d + 3 * d * m) + 2 * k * k * d + 2 * d * 576);
    expect(r.layers[8]?.routerFlops).toBe(2 * d * 576);
    expect(r.totals.flopsDense).toBe(32 * denseLayer);
    expect(r.totals.flopRatio).toBeCloseTo(r.totals.flops / r.totals.flopsDense, 12);
    const full = costReport(spec.name, g, dense, 576, 60, 'full');
    expect(full.layers[0]?.flops).toBe(denseLayer + 2 * n * n * d);
  });

  it('gives the vision KV ratio 53.7% (53.75% with unrounded ratios)', () => {
    expect(r.totals.visionKvRatio).toBeCloseTo(0.5369, 4);
    expect(r.totals.visionKvRatioUnrounded).toBeCloseTo(0.5375, 4);
    const text = formatReport(r);
    expect(text).toContain('vision KV ratio: 53.7%');
    expect(text).toContain('53.75% with unrounded R_l');
    expect(text).toContain('k_l (vision tokens kept per layer): 576 x8, 486 464 440 414 388 360 331 302 273 244 215 187 161 135 111 89, 86 x8');
    expect(text).toContain('N_v = 576 vision tokens, T = 60 text tokens');
  });

  it('reproduces the paper figure for LLaVA-NeXT: 55.6% of the dense TFLOPs at its fitted token counts', () => {
    const next = zooModel('pmod-llava-next-7b');
    const rn = costReport(next.name, buildLanguageModel(next), buildLanguageModel(withoutRouting(next)), 2710, 165);
    expect(rn.totals.flopRatio).toBeCloseTo(0.556, 3);
    expect(rn.totals.flopsDense / 1e12).toBeCloseTo(39.4, 1);
  });

  it('reports a dense model against itself', () => {
    const base = zooModel('llava-1.5-7b');
    const g0 = buildLanguageModel(base);
    const r0 = costReport(base.name, g0, g0, 576, 60);
    expect(r0.totals.flopRatio).toBe(1);
    expect(r0.totals.visionKvRatio).toBe(1);
  });

  it('writes k_l vectors in the method doc form', () => {
    expect(runLengthText([5, 5, 4, 3, 2, 2, 2])).toBe('5 x2, 4 3, 2 x3');
    expect(runLengthText([])).toBe('');
  });
});
