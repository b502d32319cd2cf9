import { bf16BitsToNumber, f16BitsToNumber, numberToBf16Bits, numberToF16Bits, roundF16 } from '../../src/ir/index.js';

describe('f16 / bf16 conversion', () => {
  it('round-trips every binary16 bit pattern exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const x = f16BitsToNumber(h);
      if (Number.isNaN(x)) continue;
      expect(numberToF16Bits(x)).toBe(h);
    }
  });

  it('rounds to nearest even, including subnormals and overflow', () => {
    expect(roundF16(1 + 2 ** -11)).toBe(1); // tie, even mantissa stays
    expect(roundF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9); // tie, odd mantissa rounds up
    expect(roundF16(2 ** -25)).toBe(0); // half the smallest subnormal ties to even (0)
    expect(roundF16(3 * 2 ** -26)).toBe(2 ** -24);
    expect(roundF16(65520)).toBe(Number.POSITIVE_INFINITY);
    expect(roundF16(65519)).toBe(65504);
    expect(numberToF16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
  });

  it('round-trips bfloat16 patterns and rounds float32 to nearest even', () => {
    for (const h of [0x0000, 0x3f80, 0xbf80, 0x7f7f, 0x0001, 0x8001, 0x4049]) expect(numberToBf16Bits(bf16BitsToNumber(h))).toBe(h);
    expect(bf16BitsToNumber(numberToBf16Bits(1 + 2 ** -8))).toBe(1);
    expect(bf16BitsToNumber(numberToBf16Bits(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6);
  });
});
