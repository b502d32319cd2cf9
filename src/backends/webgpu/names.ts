/**
 * Identifiers in generated WGSL: the words WGSL reserves (keywords, reserved words, predeclared types and
 * builtin functions a kernel name could shadow) and the renderer's own prefix `mdc_`, which kernel names never get.
 */

/** WGSL keywords and reserved words (WGSL spec, "Keyword and reserved word summary"), plus predeclared names. */
const RESERVED = new Set(
  `alias break case const const_assert continue continuing default diagnostic discard else enable false fn for if let
loop override requires return struct switch true var while
NULL Self abstract active alignas alignof as asm asm_fragment async attribute auto await become binding_array cast
catch class co_await co_return co_yield coherent column_major common compile compile_fragment concept const_cast
consteval constexpr constinit crate debugger decltype delete demote demote_to_helper do dynamic_cast enum explicit
export extends extern external fallthrough filter final finally friend from fxgroup get goto groupshared highp impl
implements import inline instanceof interface layout lowp macro macro_rules match mediump meta mod module move mut
mutable namespace new nil noexcept noinline nointerpolation non_coherent noncoherent noperspective null nullptr of
operator package packoffset partition pass patch pixelfragment precise precision premerge priv protected pub public
readonly ref regardless register reinterpret_cast require resource restrict self set shared sizeof smooth snorm
static static_assert static_cast std subroutine super target template this thread_local throw trait try type typedef
typeid typename typeof union unless unorm unsafe unsized use using varying virtual volatile wgsl where with writeonly
yield
bool f16 f32 f64 i32 u32 i64 u64 vec2 vec3 vec4 mat2x2 mat3x3 mat4x4 array atomic ptr sampler texture_2d
abs acos all any asin atan atan2 ceil clamp cos cosh cross degrees determinant distance dot exp exp2 floor fma fract
frexp inverseSqrt ldexp length log log2 max min mix modf normalize pow radians reflect refract round saturate sign sin
sinh smoothstep sqrt step tan tanh trunc select bitcast workgroupBarrier storageBarrier workgroupUniformLoad
atomicLoad atomicStore atomicAdd atomicAnd atomicOr arrayLength main`.split(/\s+/),
);

/** The prefix of every name the renderer itself introduces. */
export const INTERNAL_PREFIX = 'mdc_';

/** Whether a kernel-chosen name must be renamed before it can appear in WGSL. */
export function needsRename(name: string): boolean {
  return RESERVED.has(name) || name.startsWith(INTERNAL_PREFIX) || name.startsWith('__') || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * A renaming for every name of a kernel that WGSL cannot take as it is: `name` becomes `name_k` (then `name_k2`,
 * ...) avoiding every other name the kernel uses; characters WGSL identifiers cannot hold become `_`.
 */
export function renameMap(names: Iterable<string>): Map<string, string> {
  const all = new Set(names);
  const out = new Map<string, string>();
  for (const n of all) {
    if (!needsRename(n)) continue;
    let base = n.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=[0-9])/, 'k').replace(/^_+/, 'k_');
    if (base.startsWith(INTERNAL_PREFIX)) base = `k${base}`;
    let cand = `${base}_k`;
    for (let i = 2; all.has(cand) || RESERVED.has(cand); i++) cand = `${base}_k${i}`;
    all.add(cand);
    out.set(n, cand);
  }
  return out;
}
