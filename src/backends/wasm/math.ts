/**
 * Transcendental functions the Wasm kernels import from the host (Wasm has no exp/log/tanh/sin/cos/erf/pow
 * instructions). They run in float64 like the reference interpreter, so elementwise results round identically.
 */

/** erf to about 1e-15: Taylor series near 0, Lentz continued fraction for erfc in the tails. */
export function erf64(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  if (a < 2.5) {
    const x2 = x * x;
    let term = x;
    let sum = x;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) <= 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))), evaluated bottom-up.
  let f = a;
  for (let n = 80; n >= 1; n--) f = a + n / 2 / f;
  return Math.sign(x) * (1 - Math.exp(-a * a) / (Math.sqrt(Math.PI) * f));
}

export const MATH_IMPORTS = {
  exp: { arity: 1, f: Math.exp },
  log: { arity: 1, f: Math.log },
  tanh: { arity: 1, f: Math.tanh },
  sin: { arity: 1, f: Math.sin },
  cos: { arity: 1, f: Math.cos },
  erf: { arity: 1, f: erf64 },
  pow: { arity: 2, f: Math.pow },
} as const;
export type MathImport = keyof typeof MATH_IMPORTS;

export function mathImportObject(names: readonly MathImport[]): Record<string, (...a: number[]) => number> {
  const out: Record<string, (...a: number[]) => number> = {};
  for (const n of names) out[n] = MATH_IMPORTS[n].f as (...a: number[]) => number;
  return out;
}
