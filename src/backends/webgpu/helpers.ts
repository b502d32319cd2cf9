/**
 * WGSL functions the printer calls where WGSL has no builtin with the Kernel IR's meaning: f16 / bf16 bit
 * conversions (round to nearest even, f16 overflow to infinity, NaN kept; the numerics policy), erf, tanh and
 * pow with defined edge cases, sin and cos to f32 accuracy. Each is emitted once per shader, only when used, after the ones it calls.
 */

interface Helper {
  readonly uses: readonly HelperName[];
  readonly code: string;
}

export type HelperName =
  | 'mdc_f16_to_f32' | 'mdc_f32_to_f16' | 'mdc_f32_to_bf16' | 'mdc_round_f16' | 'mdc_round_bf16' | 'mdc_round_f16_4' | 'mdc_round_bf16_4'
  | 'mdc_erf' | 'mdc_erf4' | 'mdc_tanh' | 'mdc_tanh4' | 'mdc_pow' | 'mdc_pow4'
  | 'mdc_sincos' | 'mdc_sin' | 'mdc_cos' | 'mdc_sin4' | 'mdc_cos4'
  | 'mdc_exp' | 'mdc_exp4' | 'mdc_log' | 'mdc_log4' | 'mdc_sqrt' | 'mdc_sqrt4';

const HELPERS: Readonly<Record<HelperName, Helper>> = {
  mdc_f16_to_f32: {
    uses: [],
    // Exact for every f16: normals rebias the exponent, subnormals are m * 2^-24 (a normal f32, so a GPU that
    // flushes f32 subnormals cannot lose them), exponent 31 keeps inf / NaN.
    code: `fn mdc_f16_to_f32(h: u32) -> f32 {
  let em = h & 0x7fffu;
  let sign = (h & 0x8000u) << 16u;
  let normal = (em << 13u) + 0x38000000u;
  let sub = bitcast<u32>(f32(em) * 5.9604644775390625e-8f);
  let special = (em << 13u) | 0x7f800000u;
  return bitcast<f32>(sign | select(select(normal, sub, em < 0x400u), special, em >= 0x7c00u));
}`,
  },
  mdc_f32_to_f16: {
    uses: [],
    code: `fn mdc_f32_to_f16(x: f32) -> u32 {
  let u = bitcast<u32>(x);
  let a = u & 0x7fffffffu;
  let sign = (u >> 16u) & 0x8000u;
  // Normal range: rebias and round the 13 dropped bits to nearest even (a carry is the next binade).
  let normal = (a - 0x38000000u + 0xfffu + ((a >> 13u) & 1u)) >> 13u;
  // Below 2^-14: the value in units of 2^-24, rounded to nearest even (round() breaks ties to even).
  let sub = u32(round(bitcast<f32>(a) * 16777216.0f));
  var mag = select(normal, sub, a < 0x38800000u);
  mag = select(mag, 0x7c00u, a >= 0x477ff000u);
  mag = select(mag, 0x7e00u, a > 0x7f800000u);
  return sign | mag;
}`,
  },
  mdc_f32_to_bf16: {
    uses: [],
    code: `fn mdc_f32_to_bf16(x: f32) -> u32 {
  let u = bitcast<u32>(x);
  let r = (u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u;
  return select(r, (u >> 16u) | 0x40u, (u & 0x7fffffffu) > 0x7f800000u);
}`,
  },
  mdc_round_f16: { uses: ['mdc_f16_to_f32', 'mdc_f32_to_f16'], code: 'fn mdc_round_f16(x: f32) -> f32 { return mdc_f16_to_f32(mdc_f32_to_f16(x)); }' },
  mdc_round_bf16: { uses: ['mdc_f32_to_bf16'], code: 'fn mdc_round_bf16(x: f32) -> f32 { return bitcast<f32>(mdc_f32_to_bf16(x) << 16u); }' },
  mdc_round_f16_4: {
    uses: ['mdc_round_f16'],
    code: 'fn mdc_round_f16_4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_round_f16(x.x), mdc_round_f16(x.y), mdc_round_f16(x.z), mdc_round_f16(x.w)); }',
  },
  mdc_round_bf16_4: {
    uses: ['mdc_round_bf16'],
    code: 'fn mdc_round_bf16_4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_round_bf16(x.x), mdc_round_bf16(x.y), mdc_round_bf16(x.z), mdc_round_bf16(x.w)); }',
  },
  mdc_erf: {
    uses: [],
    // |x| < 0.5: Maclaurin series to x^11 (truncation < 1e-9 relative); else Abramowitz & Stegun 7.1.26
    // (absolute error 1.5e-7, relative below 3e-7 there). NaN stays NaN.
    code: `fn mdc_erf(x: f32) -> f32 {
  let a = abs(x);
  let x2 = x * x;
  let series = x * (1.1283791671f + x2 * (-0.3761263890f + x2 * (0.1128379167f + x2 * (-0.0268661706f + x2 * (0.0052239776f + x2 * (-0.0008548327f))))));
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  let tail = sign(x) * (1.0f - poly * exp(-a * a));
  return select(tail, series, a < 0.5f);
}`,
  },
  mdc_erf4: { uses: ['mdc_erf'], code: 'fn mdc_erf4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_erf(x.x), mdc_erf(x.y), mdc_erf(x.z), mdc_erf(x.w)); }' },
  mdc_tanh: {
    uses: [],
    // tanh built from exp overflows to inf / inf = NaN on some drivers for |x| > 44; tanh(15) is 1 in f32.
    code: `fn mdc_tanh(x: f32) -> f32 {
  let nan = (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
  return select(tanh(clamp(x, -15.0f, 15.0f)), x, nan);
}`,
  },
  mdc_tanh4: { uses: ['mdc_tanh'], code: 'fn mdc_tanh4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_tanh(x.x), mdc_tanh(x.y), mdc_tanh(x.z), mdc_tanh(x.w)); }' },
  mdc_sincos: {
    uses: [],
    // WGSL's sin / cos promise only 2^-11 absolute error on [-pi, pi] (SwiftShader is that far off: 1e-4 at 7
    // radians); the Kernel IR asks for f32 accuracy. Quadrant q = round(x * 2/pi); x - q * pi/2 with pi/2 in
    // three parts (Cody-Waite; q * C1 and q * C2 are exact for |q| < 2^12, |x| < 6400), fenced with the params'
    // zero so no compiler reassociates it; then the Cephes sinf / cosf polynomials on [-pi/4, pi/4] (about 1 ulp).
    // Returns (sin, cos) of x; NaN and infinities give NaN.
    code: `fn mdc_sincos(x: f32) -> vec2<f32> {
  let q = round(x * 0.6366197466850281f);
  let r1 = bitcast<f32>(bitcast<u32>(x - q * 1.5703125f) ^ mdc_p.mdc_zero);
  let r = (r1 - q * 0.0004837512969970703f) - q * 7.549790126404332e-8f;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1f + z * (8.3321608736e-3f + z * (-1.9515295891e-4f)));
  let c = 1.0f - 0.5f * z + z * z * (4.166664568298827e-2f + z * (-1.388731625493765e-3f + z * 2.443315711809948e-5f));
  let m = q - 4.0f * floor(q * 0.25f);
  let sn = select(select(select(-c, -s, m == 2.0f), c, m == 1.0f), s, m == 0.0f);
  let cs = select(select(select(s, -c, m == 2.0f), -s, m == 1.0f), c, m == 0.0f);
  return vec2<f32>(sn, cs);
}`,
  },
  mdc_sin: { uses: ['mdc_sincos'], code: 'fn mdc_sin(x: f32) -> f32 { return mdc_sincos(x).x; }' },
  mdc_cos: { uses: ['mdc_sincos'], code: 'fn mdc_cos(x: f32) -> f32 { return mdc_sincos(x).y; }' },
  mdc_sin4: { uses: ['mdc_sin'], code: 'fn mdc_sin4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_sin(x.x), mdc_sin(x.y), mdc_sin(x.z), mdc_sin(x.w)); }' },
  mdc_cos4: { uses: ['mdc_cos'], code: 'fn mdc_cos4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_cos(x.x), mdc_cos(x.y), mdc_cos(x.z), mdc_cos(x.w)); }' },
  // SwiftShader's exp(NaN) is +inf and its log of a negative number is log(|x|): NaN in, NaN out, and the domains
  // of log and sqrt, made explicit.
  mdc_exp: { uses: [], code: 'fn mdc_exp(x: f32) -> f32 { return select(exp(x), x, (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u); }' },
  mdc_exp4: {
    uses: [],
    code: 'fn mdc_exp4(x: vec4<f32>) -> vec4<f32> { return select(exp(x), x, (bitcast<vec4<u32>>(x) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u)); }',
  },
  mdc_log: {
    uses: [],
    code: 'fn mdc_log(x: f32) -> f32 { return select(log(x), bitcast<f32>(mdc_p.mdc_nan), x < 0.0f || (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u); }',
  },
  mdc_log4: { uses: ['mdc_log'], code: 'fn mdc_log4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_log(x.x), mdc_log(x.y), mdc_log(x.z), mdc_log(x.w)); }' },
  mdc_sqrt: {
    uses: [],
    code: 'fn mdc_sqrt(x: f32) -> f32 { return select(sqrt(x), bitcast<f32>(mdc_p.mdc_nan), x < 0.0f || (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u); }',
  },
  mdc_sqrt4: { uses: ['mdc_sqrt'], code: 'fn mdc_sqrt4(x: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_sqrt(x.x), mdc_sqrt(x.y), mdc_sqrt(x.z), mdc_sqrt(x.w)); }' },
  mdc_pow: {
    uses: [],
    // WGSL's pow is exp2(b * log2(a)): undefined for a < 0 and for 0^0. Kernel IR follows Math.pow.
    code: `fn mdc_pow(a: f32, b: f32) -> f32 {
  let r = pow(abs(a), b);
  let odd = abs(b - 2.0f * floor(b * 0.5f)) == 1.0f;
  let negBase = select(bitcast<f32>(mdc_p.mdc_nan), select(r, -r, odd), floor(b) == b);
  return select(select(r, negBase, a < 0.0f), 1.0f, b == 0.0f);
}`,
  },
  mdc_pow4: { uses: ['mdc_pow'], code: 'fn mdc_pow4(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> { return vec4<f32>(mdc_pow(a.x, b.x), mdc_pow(a.y, b.y), mdc_pow(a.z, b.z), mdc_pow(a.w, b.w)); }' },
};

/** The code of the used helpers and of every helper they call, each once, callees first. */
export function helperCode(used: ReadonlySet<HelperName>): string[] {
  const out: string[] = [];
  const done = new Set<HelperName>();
  const visit = (h: HelperName): void => {
    if (done.has(h)) return;
    done.add(h);
    for (const d of HELPERS[h].uses) visit(d);
    out.push(HELPERS[h].code);
  };
  for (const h of [...used].sort()) visit(h);
  return out;
}
