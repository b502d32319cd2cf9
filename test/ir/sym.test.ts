import { add, dimEq, dimText, evalDim, floorMul, floorMulF32, max, min, mul, parseDim, sub, sym, substDim } from '../../src/ir/index.js';

describe('symbolic dims', () => {
  const T = sym('T');
  const N = sym('N_v');

  it('canonicalises linear expressions so equal sums compare equal', () => {
    const k = floorMul(N, 0.7202);
    expect(dimEq(sub(add(add(T, N), k), N), add(k, T))).toBe(true);
    expect(dimText(add(T, N))).toBe(dimText(add(N, T)));
    expect(sub(add(T, 3), T)).toBe(3);
    expect(dimText(mul(add(T, N), 64))).toBe('64*N_v + 64*T');
    expect(dimEq(add(T, N), add(T, 1))).toBe(false);
  });

  it('evaluates the capacity rule in float32 like the reference code', () => {
    expect(floorMulF32(576, 0.15)).toBe(86);
    expect(evalDim(floorMul(N, 0.15), { N_v: 576 })).toBe(86);
    const r10 = Math.cos((Math.PI * 10) / 31) / 2 + 0.5;
    // The method doc's example where float32 and float64 disagree.
    expect(floorMulF32(2365, r10)).toBe(1808);
    expect(Math.floor(2365 * r10)).toBe(1807);
  });

  it('prints and parses back every form', () => {
    const forms = [
      add(T, N),
      sub(T, 2),
      floorMul(N, 0.8445),
      add(T, floorMul(N, 0.15)),
      floorMul(add(T, N), 0.5),
      mul(T, N),
      min(T, N),
      max(add(T, 1), N),
      sub(mul(3, T), N),
      7,
    ];
    for (const d of forms) {
      const text = dimText(d);
      expect(dimText(parseDim(text))).toBe(text);
      expect(dimEq(parseDim(text), d)).toBe(true);
    }
  });

  it('rejects malformed dim text with the offset', () => {
    expect(() => parseDim('T +')).toThrow(/offset/);
    expect(() => parseDim('1.5')).toThrow(/non-integer/);
    expect(() => parseDim('floor(T ^ 2)')).toThrow(/expected/);
  });

  it('substitutes bound symbols and folds', () => {
    expect(substDim(add(T, floorMul(N, 0.15)), { N_v: 576 })).toEqual(add(T, 86));
    expect(substDim(add(T, floorMul(N, 0.15)), { N_v: 576, T: 10 })).toBe(96);
    expect(() => evalDim(T, {})).toThrow(/unbound symbol 'T'/);
  });
});
