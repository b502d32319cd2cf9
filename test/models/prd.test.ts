import { layerCapacities, layerRatios, meanRetention, parseSchedule } from '../../models/index.js';

const R_L = [1, 1, 1, 1, 1, 1, 1, 1, 0.8445, 0.8061, 0.7645, 0.7202, 0.6737, 0.6253, 0.5757, 0.5253, 0.4747, 0.4243, 0.3747, 0.3263, 0.2798, 0.2355, 0.1939, 0.1555, ...new Array<number>(8).fill(0.15)];
const K_576 = [...new Array<number>(8).fill(576), 486, 464, 440, 414, 388, 360, 331, 302, 273, 244, 215, 187, 161, 135, 111, 89, ...new Array<number>(8).fill(86)];
const K_2880 = [...new Array<number>(8).fill(2880), 2432, 2321, 2201, 2074, 1940, 1800, 1658, 1512, 1367, 1221, 1079, 939, 805, 678, 558, 447, ...new Array<number>(8).fill(432)];

describe('PRD (progressive ratio decay)', () => {
  const schedule = parseSchedule('shiftedcos_decay_0.85_0.15', 0.5);
  const ratios = layerRatios(schedule, 32);

  it('gives the method doc R_l for L = 32, with dense layers 0..7', () => {
    expect(ratios.slice(0, 8)).toEqual(new Array(8).fill(null));
    ratios.forEach((r, l) => expect(r ?? 1).toBeCloseTo(R_L[l] ?? Number.NaN, 4));
  });

  it('gives the method doc k_l at N_v = 576 and 2880', () => {
    expect(layerCapacities(ratios, 576)).toEqual(K_576);
    expect(layerCapacities(ratios, 2880)).toEqual(K_2880);
  });

  it('gives the mean retentions 0.5369, 0.5374 and 0.5375 (unrounded)', () => {
    expect(meanRetention(ratios, 576)).toBeCloseTo(0.5369, 4);
    expect(meanRetention(ratios, 2880)).toBeCloseTo(0.5374, 4);
    expect(meanRetention(ratios)).toBeCloseTo(0.5375, 4);
  });

  it('uses L-1 in the curve for other depths', () => {
    const r16 = layerRatios(schedule, 16);
    expect(r16).toHaveLength(16);
    // r(l) = 0.5 cos(pi l / 15) + 0.5: layer 4 gives 0.8346 <= 0.85 and is the first MoD layer.
    expect(r16.slice(0, 4)).toEqual([null, null, null, null]);
    expect(r16[4]).toBeCloseTo(0.5 * Math.cos((Math.PI * 4) / 15) + 0.5, 12);
    expect(r16[15]).toBe(0.15);
    expect(layerRatios(schedule, 1)).toEqual([null]);
    const r8 = layerRatios(schedule, 8);
    expect(r8.filter((r) => r !== null)).toHaveLength(6);
  });

  it('supports shiftedlinear and the constant-ratio layouts', () => {
    const lin = layerRatios(parseSchedule('shiftedlinear_decay_0.85_0.15', 0.5), 32);
    expect(lin[0]).toBeNull();
    expect(lin[5]).toBeCloseTo(-5 / 31 + 1, 12);
    expect(lin[31]).toBe(0.15);
    expect(layerRatios(parseSchedule('interleave', 0.5), 6)).toEqual([null, 0.5, null, 0.5, null, 0.5]);
    expect(layerRatios(parseSchedule('deep_all', 0.25), 5)).toEqual([null, null, 0.25, 0.25, null]);
    expect(layerRatios(parseSchedule('deep_all_include_last', 0.25), 5)).toEqual([null, null, 0.25, 0.25, 0.25]);
  });

  it('rejects malformed schedules with the offending text', () => {
    expect(() => parseSchedule('cosine_decay_0.85_0.15', 0.5)).toThrow(/unknown decay curve 'cosine'/);
    expect(() => parseSchedule('shiftedcos_decay_0.15_0.85', 0.5)).toThrow(/min/);
    expect(() => parseSchedule('everything', 0.5)).toThrow(/unsupported mod_target_layers 'everything'/);
  });
});
