/**
 * The functions a rendered gpu.js kernel calls for every operation: one name, one signature and two bodies, GLSL
 * ES 3.00 (webgl2 mode) and JavaScript (cpu mode), both with the Kernel IR's meaning (docs/kernel-ir.md). The
 * kernel source is the same in both modes; gpu.js learns each function's types from its native-function record,
 * and the bodies are injected whole (`injectedNative`), callees first. Routing every operation through a typed
 * function keeps gpu.js's type inference out of the arithmetic: its own integer and bitwise translations are
 * float emulations (wrong for negative numbers), and its cpu mode computes in f64.
 *
 * i32 and u32 values are both held as 32-bit signed integers (GLSL int, JS int32); the u32 operations reinterpret
 * them. Floats are f32: GLSL highp float, JS doubles rounded by Math.fround after every operation.
 */

export type GpuType = 'Float' | 'Integer' | 'Boolean';

interface Helper {
  readonly ret: GpuType;
  readonly args: readonly GpuType[];
  /** Helpers this one calls (emitted before it). */
  readonly uses?: readonly string[];
  /** GLSL body after `ret name(args) `, with parameters a, b, c. */
  readonly glsl: string;
  /** JavaScript body after `function name(a, b, c) `. */
  readonly js: string;
}

const F: GpuType = 'Float';
const I: GpuType = 'Integer';
const B: GpuType = 'Boolean';
const f1 = (glsl: string, js: string, uses?: string[]): Helper => ({ ret: F, args: [F], glsl: `{ return ${glsl}; }`, js: `{ return Math.fround(${js}); }`, ...(uses ? { uses } : {}) });
const f2 = (glsl: string, js: string, uses?: string[]): Helper => ({ ret: F, args: [F, F], glsl: `{ return ${glsl}; }`, js: `{ return Math.fround(${js}); }`, ...(uses ? { uses } : {}) });
const i2 = (glsl: string, js: string): Helper => ({ ret: I, args: [I, I], glsl: `{ return ${glsl}; }`, js: `{ return (${js}) | 0; }` });
const cmpF = (op: string, js: string): Helper => ({ ret: B, args: [F, F], glsl: `{ return ${op}; }`, js: `{ return ${js}; }` });
const cmpI = (op: string): Helper => ({ ret: B, args: [I, I], glsl: `{ return a ${op} b; }`, js: `{ return a ${op} b; }` });
const cmpU = (op: string): Helper => ({ ret: B, args: [I, I], glsl: `{ return uint(a) ${op} uint(b); }`, js: `{ return (a >>> 0) ${op} (b >>> 0); }` });

const HELPERS: Readonly<Record<string, Helper>> = {
  // ---- constants and conversions ----
  mdc_fc: { ret: F, args: [F], glsl: '{ return a; }', js: '{ return Math.fround(a); }' },
  mdc_ic: { ret: I, args: [I], glsl: '{ return a; }', js: '{ return a | 0; }' },
  /** (hi << 16) | lo: 32-bit integer constants that GLSL literals cannot spell (2^31) or a float texel could not hold. */
  mdc_icat: { ret: I, args: [I, I], glsl: '{ return (a << 16) | b; }', js: '{ return ((a << 16) | b) | 0; }' },
  mdc_fbits: { ret: F, args: [I], glsl: '{ return intBitsToFloat(a); }', js: '{ mdc_i32[0] = a; return mdc_f32[0]; }' },
  mdc_bitsf: { ret: I, args: [F], glsl: '{ return floatBitsToInt(a); }', js: '{ mdc_f32[0] = a; return mdc_i32[0]; }' },
  mdc_isnan: { ret: B, args: [F], glsl: '{ return (floatBitsToInt(a) & 0x7fffffff) > 0x7f800000; }', js: '{ return a !== a; }' },
  /** An element of an i32 / u32 buffer: the texel holds the integer's value (exact below 2^24). */
  mdc_ld_i: { ret: I, args: [F], glsl: '{ return int(a); }', js: '{ return a | 0; }' },
  /** The texel value an i32 result is stored as. */
  mdc_st_i: { ret: F, args: [I], glsl: '{ return float(a); }', js: '{ return Math.fround(a); }' },
  mdc_st_u: { ret: F, args: [I], glsl: '{ return float(uint(a)); }', js: '{ return Math.fround(a >>> 0); }' },
  mdc_st_b: { ret: F, args: [B], glsl: '{ return a ? 1.0 : 0.0; }', js: '{ return a ? 1 : 0; }' },
  mdc_param_i: { ret: I, args: [F], glsl: '{ return int(a); }', js: '{ return a | 0; }' },
  mdc_cast_if: { ret: F, args: [I], glsl: '{ return float(a); }', js: '{ return Math.fround(a); }' },
  mdc_cast_uf: { ret: F, args: [I], glsl: '{ return float(uint(a)); }', js: '{ return Math.fround(a >>> 0); }' },
  // Truncation toward zero, saturating at the range ends, NaN -> 0 (the numerics policy).
  mdc_cast_fi: {
    ret: I, args: [F], uses: ['mdc_isnan'],
    glsl: '{ if (mdc_isnan(a)) return 0; if (a >= 2147483647.0) return 2147483647; if (a <= -2147483648.0) return -2147483647 - 1; return int(a); }',
    js: '{ if (a !== a) return 0; if (a >= 2147483647) return 2147483647; if (a <= -2147483648) return -2147483648; return Math.trunc(a) | 0; }',
  },
  mdc_cast_fu: {
    ret: I, args: [F], uses: ['mdc_isnan'],
    glsl: '{ if (mdc_isnan(a) || a <= 0.0) return 0; if (a >= 4294967295.0) return -1; return int(uint(a)); }',
    js: '{ if (a !== a || a <= 0) return 0; if (a >= 4294967295) return -1; return Math.trunc(a) | 0; }',
  },
  mdc_cast_bi: { ret: I, args: [B], glsl: '{ return a ? 1 : 0; }', js: '{ return a ? 1 : 0; }' },
  mdc_cast_bf: { ret: F, args: [B], glsl: '{ return a ? 1.0 : 0.0; }', js: '{ return a ? 1 : 0; }' },
  mdc_cast_ib: { ret: B, args: [I], glsl: '{ return a != 0; }', js: '{ return a !== 0; }' },
  mdc_cast_fb: { ret: B, args: [F], glsl: '{ return !(a == 0.0); }', js: '{ return !(a === 0); }' },
  // ---- f32 ----
  mdc_fadd: f2('a + b', 'a + b'),
  mdc_fsub: f2('a - b', 'a - b'),
  mdc_fmul: f2('a * b', 'a * b'),
  mdc_fdiv: f2('a / b', 'a / b'),
  mdc_frem: f2('a - b * trunc(a / b)', 'a % b'),
  mdc_fmax: f2('(mdc_isnan(a) || mdc_isnan(b)) ? intBitsToFloat(0x7fc00000) : max(a, b)', '(a !== a || b !== b) ? NaN : Math.max(a, b)', ['mdc_isnan']),
  mdc_fmin: f2('(mdc_isnan(a) || mdc_isnan(b)) ? intBitsToFloat(0x7fc00000) : min(a, b)', '(a !== a || b !== b) ? NaN : Math.min(a, b)', ['mdc_isnan']),
  // Math.pow's meaning: negative bases with integral exponents, 0^0 = 1.
  mdc_fpow: {
    ret: F, args: [F, F],
    glsl: `{
  if (b == 0.0) return 1.0;
  float r = pow(abs(a), b);
  if (a < 0.0) {
    if (floor(b) != b) return intBitsToFloat(0x7fc00000);
    return abs(b - 2.0 * floor(b * 0.5)) == 1.0 ? -r : r;
  }
  return r;
}`,
    js: '{ return Math.fround(Math.pow(a, b)); }',
  },
  mdc_fneg: f1('-a', '-a'),
  mdc_fabs: f1('abs(a)', 'Math.abs(a)'),
  mdc_ffloor: f1('floor(a)', 'Math.floor(a)'),
  mdc_frecip: f1('1.0 / a', '1 / a'),
  // NaN in, NaN out, and the domains of sqrt / log made explicit (SwiftShader's exp(NaN) is +inf).
  mdc_fsqrt: f1('(a < 0.0 || mdc_isnan(a)) ? intBitsToFloat(0x7fc00000) : sqrt(a)', 'Math.sqrt(a)', ['mdc_isnan']),
  mdc_fexp: f1('mdc_isnan(a) ? a : exp(a)', 'Math.exp(a)', ['mdc_isnan']),
  mdc_flog: f1('(a < 0.0 || mdc_isnan(a)) ? intBitsToFloat(0x7fc00000) : log(a)', 'Math.log(a)', ['mdc_isnan']),
  // tanh from exp overflows on some drivers; tanh(15) is 1 in f32. Small |x| by its series (exp cancels there).
  mdc_ftanh: f1('mdc_isnan(a) ? a : (abs(a) < 0.0625 ? a * (1.0 + a * a * (-0.3333333333 + a * a * (0.1333333333 - a * a * 0.0539682540))) : tanh(clamp(a, -15.0, 15.0)))', 'Math.tanh(a)', ['mdc_isnan']),
  // |x| < 0.5: Maclaurin series; else Abramowitz & Stegun 7.1.26 (absolute error 1.5e-7).
  mdc_ferf: {
    ret: F, args: [F],
    glsl: `{
  float x = a;
  float ax = abs(x);
  float x2 = x * x;
  if (ax < 0.5) return x * (1.1283791671 + x2 * (-0.3761263890 + x2 * (0.1128379167 + x2 * (-0.0268661706 + x2 * (0.0052239776 + x2 * (-0.0008548327))))));
  float t = 1.0 / (1.0 + 0.3275911 * ax);
  float poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(x) * (1.0 - poly * exp(-ax * ax));
}`,
    js: `{
  const x = a; const ax = Math.abs(x); const x2 = x * x;
  if (x !== x) return NaN;
  if (ax < 0.5) return Math.fround(x * (1.1283791671 + x2 * (-0.3761263890 + x2 * (0.1128379167 + x2 * (-0.0268661706 + x2 * (0.0052239776 + x2 * (-0.0008548327)))))));
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return Math.fround(Math.sign(x) * (1 - poly * Math.exp(-ax * ax)));
}`,
  },
  // GLSL's sin / cos are not f32-accurate for large arguments: a Cody-Waite reduction by pi/2 (fenced by the
  // runtime one `o` so no compiler reassociates it) and the Cephes sinf / cosf polynomials (about 1 ulp).
  mdc_fsincos: {
    ret: F, args: [F, F, I],
    glsl: `{
  float q = floor(a * 0.6366197466850281 + 0.5);
  float r = ((a - q * 1.5703125) * b - q * 0.0004837512969970703) - q * 7.549790126404332e-8;
  float z = r * r;
  float s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * (-1.9515295891e-4)));
  float cc = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  float m = q - 4.0 * floor(q * 0.25) + float(c);
  m = m - 4.0 * floor(m * 0.25);
  if (m == 0.0) return s;
  if (m == 1.0) return cc;
  if (m == 2.0) return -s;
  return -cc;
}`,
    js: '{ return Math.fround(c === 0 ? Math.sin(a) : Math.cos(a)); }',
  },
  mdc_fopaque: { ret: F, args: [F, F], glsl: '{ return a * b; }', js: '{ return a; }' },
  mdc_round_f16: {
    ret: F, args: [F],
    // f32 -> f16 bits (nearest even, overflow to inf, NaN kept), then back exactly (subnormals as m * 2^-24).
    glsl: `{
  uint u = floatBitsToUint(a);
  uint ax = u & 0x7fffffffu;
  uint sgn = u & 0x80000000u;
  uint mag;
  if (ax > 0x7f800000u) return a;
  if (ax >= 0x477ff000u) mag = 0x7c00u;
  else if (ax < 0x38800000u) mag = uint(round(uintBitsToFloat(ax) * 16777216.0));
  else mag = (ax - 0x38000000u + 0xfffu + ((ax >> 13u) & 1u)) >> 13u;
  float v;
  if (mag >= 0x7c00u) v = uintBitsToFloat(0x7f800000u);
  else if (mag < 0x400u) v = float(mag) * 5.9604644775390625e-8;
  else v = uintBitsToFloat((mag << 13u) + 0x38000000u);
  return uintBitsToFloat(floatBitsToUint(v) | sgn);
}`,
    js: `{
  mdc_f32[0] = a; const u = mdc_i32[0] >>> 0; const ax = u & 0x7fffffff; const sgn = u & 0x80000000;
  if (ax > 0x7f800000) return a;
  let mag;
  if (ax >= 0x477ff000) mag = 0x7c00;
  else if (ax < 0x38800000) { mdc_i32[0] = ax; const t = mdc_f32[0] * 16777216; const fl = Math.floor(t); mag = t - fl > 0.5 || (t - fl === 0.5 && fl % 2 === 1) ? fl + 1 : fl; }
  else mag = (ax - 0x38000000 + 0xfff + ((ax >>> 13) & 1)) >>> 13;
  let v;
  if (mag >= 0x7c00) v = Infinity; else if (mag < 0x400) v = mag * 5.9604644775390625e-8; else { mdc_i32[0] = (mag << 13) + 0x38000000; v = mdc_f32[0]; }
  return sgn ? -v : v;
}`,
  },
  mdc_round_bf16: {
    ret: F, args: [F],
    glsl: `{
  uint u = floatBitsToUint(a);
  if ((u & 0x7fffffffu) > 0x7f800000u) return a;
  return uintBitsToFloat(((u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u) << 16u);
}`,
    js: `{
  if (a !== a) return a;
  mdc_f32[0] = a; const u = mdc_i32[0] >>> 0;
  mdc_i32[0] = ((((u + 0x7fff + ((u >>> 16) & 1)) >>> 0) >>> 16) << 16);
  return mdc_f32[0];
}`,
  },
  // ---- i32 (u32 shares the representation) ----
  mdc_iadd: i2('a + b', 'a + b'),
  mdc_isub: i2('a - b', 'a - b'),
  mdc_imul: i2('a * b', 'Math.imul(a, b)'),
  // Truncating; x / 0 = 0, INT_MIN / -1 = INT_MIN (the numerics policy), computed on magnitudes as uint.
  mdc_idiv: {
    ret: I, args: [I, I],
    glsl: '{ if (b == 0) return 0; uint q = uint(abs(a)) / uint(abs(b)); int r = int(q); return ((a < 0) != (b < 0)) ? -r : r; }',
    js: '{ if (b === 0) return 0; return (a / b) | 0; }',
  },
  mdc_irem: {
    ret: I, args: [I, I], uses: ['mdc_idiv'],
    glsl: '{ if (b == 0) return 0; return a - mdc_idiv(a, b) * b; }',
    js: '{ if (b === 0) return 0; return (a % b) | 0; }',
  },
  mdc_iand: i2('a & b', 'a & b'),
  mdc_ior: i2('a | b', 'a | b'),
  mdc_ixor: i2('a ^ b', 'a ^ b'),
  mdc_ishl: i2('a << (b & 31)', 'a << (b & 31)'),
  mdc_ishr: i2('a >> (b & 31)', 'a >> (b & 31)'),
  mdc_imax: i2('max(a, b)', 'Math.max(a, b)'),
  mdc_imin: i2('min(a, b)', 'Math.min(a, b)'),
  mdc_ineg: { ret: I, args: [I], glsl: '{ return -a; }', js: '{ return (-a) | 0; }' },
  mdc_iabs: { ret: I, args: [I], glsl: '{ return a < 0 ? -a : a; }', js: '{ return (a < 0 ? -a : a) | 0; }' },
  mdc_inot: { ret: I, args: [I], glsl: '{ return ~a; }', js: '{ return ~a; }' },
  mdc_udiv: { ret: I, args: [I, I], glsl: '{ if (b == 0) return 0; return int(uint(a) / uint(b)); }', js: '{ if (b === 0) return 0; return Math.trunc((a >>> 0) / (b >>> 0)) | 0; }' },
  mdc_urem: { ret: I, args: [I, I], glsl: '{ if (b == 0) return 0; return int(uint(a) % uint(b)); }', js: '{ if (b === 0) return 0; return ((a >>> 0) % (b >>> 0)) | 0; }' },
  mdc_ushr: { ret: I, args: [I, I], glsl: '{ return int(uint(a) >> uint(b & 31)); }', js: '{ return (a >>> (b & 31)) | 0; }' },
  mdc_umax: { ret: I, args: [I, I], glsl: '{ return int(max(uint(a), uint(b))); }', js: '{ return ((a >>> 0) > (b >>> 0) ? a : b) | 0; }' },
  mdc_umin: { ret: I, args: [I, I], glsl: '{ return int(min(uint(a), uint(b))); }', js: '{ return ((a >>> 0) < (b >>> 0) ? a : b) | 0; }' },
  // ---- comparisons (IEEE for floats: every comparison with NaN is false except ne) ----
  mdc_flt: cmpF('a < b', 'a < b'),
  mdc_fle: cmpF('a <= b', 'a <= b'),
  mdc_fgt: cmpF('a > b', 'a > b'),
  mdc_fge: cmpF('a >= b', 'a >= b'),
  mdc_feq: cmpF('a == b', 'a === b'),
  mdc_fne: cmpF('!(a == b)', '!(a === b)'),
  mdc_ilt: cmpI('<'),
  mdc_ile: cmpI('<='),
  mdc_igt: cmpI('>'),
  mdc_ige: cmpI('>='),
  mdc_ieq: { ret: B, args: [I, I], glsl: '{ return a == b; }', js: '{ return a === b; }' },
  mdc_ine: { ret: B, args: [I, I], glsl: '{ return a != b; }', js: '{ return a !== b; }' },
  mdc_ult: cmpU('<'),
  mdc_ule: cmpU('<='),
  mdc_ugt: cmpU('>'),
  mdc_uge: cmpU('>='),
  // ---- select (a typed call: gpu.js mistypes some ternaries) ----
  mdc_self: { ret: F, args: [B, F, F], glsl: '{ return a ? b : c; }', js: '{ return a ? b : c; }' },
  mdc_seli: { ret: I, args: [B, I, I], glsl: '{ return a ? b : c; }', js: '{ return a ? b : c; }' },
  mdc_selb: { ret: B, args: [B, B, B], glsl: '{ return a ? b : c; }', js: '{ return a ? b : c; }' },
  // ---- bool ----
  mdc_band: { ret: B, args: [B, B], glsl: '{ return a && b; }', js: '{ return a && b; }' },
  mdc_bor: { ret: B, args: [B, B], glsl: '{ return a || b; }', js: '{ return a || b; }' },
  mdc_bxor: { ret: B, args: [B, B], glsl: '{ return a != b; }', js: '{ return a !== b; }' },
  mdc_bnot: { ret: B, args: [B], glsl: '{ return !a; }', js: '{ return !a; }' },
  mdc_beq: { ret: B, args: [B, B], glsl: '{ return a == b; }', js: '{ return a === b; }' },
  mdc_bne: { ret: B, args: [B, B], glsl: '{ return a != b; }', js: '{ return a !== b; }' },
};

export const HELPER_NAMES: ReadonlySet<string> = new Set(Object.keys(HELPERS));

const PARAM_NAMES = ['a', 'b', 'c'];
const GLSL_TYPE: Record<GpuType, string> = { Float: 'float', Integer: 'int', Boolean: 'bool' };

/** A JavaScript body with Math, NaN and Infinity read from the prelude's constants. */
const jsLocals = (js: string): string => js.replace(/\bMath\./g, 'mdc_M.').replace(/\bNaN\b/g, 'mdc_nan').replace(/\bInfinity\b/g, 'mdc_inf');

/** The used helpers and every helper they call, callees first. */
function closure(used: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (h: string): void => {
    if (done.has(h)) return;
    const def = HELPERS[h];
    if (def === undefined) throw new Error(`webgl renderer: no helper '${h}'`);
    done.add(h);
    for (const u of def.uses ?? []) visit(u);
    out.push(h);
  };
  for (const h of [...used].sort()) visit(h);
  return out;
}

export interface HelperSet {
  /** Code injected before the kernel (every helper body, callees first). */
  readonly injected: string;
  /** gpu.js native-function records: the types of each name (bodies are in `injected`). */
  readonly records: readonly { readonly name: string; readonly source: string; readonly returnType: GpuType; readonly argumentTypes: Readonly<Record<string, GpuType>> }[];
}

/** The helpers a kernel uses, for one mode. */
export function helperSet(used: ReadonlySet<string>, mode: 'glsl' | 'js'): HelperSet {
  const names = closure(used);
  const code = names.map((n) => {
    const h = HELPERS[n] as Helper;
    const params = h.args.map((t, i) => (mode === 'glsl' ? `${GLSL_TYPE[t]} ${PARAM_NAMES[i]}` : PARAM_NAMES[i])).join(', ');
    return mode === 'glsl' ? `${GLSL_TYPE[h.ret]} ${n}(${params}) ${h.glsl}` : `function ${n}(${params}) ${jsLocals(h.js)}`;
  });
  // Globals read once into closure constants: a global lookup per operation is slow where the kernel runs in a
  // vm context (jest), about 30x here.
  const prelude = mode === 'js'
    ? ['const mdc_M = Math;', 'const mdc_nan = NaN;', 'const mdc_inf = Infinity;', 'const mdc_f32 = new Float32Array(1);', 'const mdc_i32 = new Int32Array(mdc_f32.buffer);']
    : [];
  return {
    injected: [...prelude, ...code].join('\n'),
    records: names.map((n) => {
      const h = HELPERS[n] as Helper;
      return { name: n, source: '', returnType: h.ret, argumentTypes: Object.fromEntries(h.args.map((t, i) => [PARAM_NAMES[i] as string, t])) };
    }),
  };
}

export const helperType = (name: string): GpuType => {
  const h = HELPERS[name];
  if (h === undefined) throw new Error(`webgl renderer: no helper '${name}'`);
  return h.ret;
};
