struct MdcParams {
  mdc_ngroups_x: i32, mdc_ngroups_y: i32, mdc_ngroups_z: i32, mdc_total: i32,
  mdc_nan: u32, mdc_inf: u32, mdc_ninf: u32, mdc_zero: u32,
  M: i32,
}
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> aRows: array<i32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<uniform> mdc_p: MdcParams;
fn mdc_erf(x: f32) -> f32 {
  let a = abs(x);
  let x2 = x * x;
  let series = x * (1.1283791671f + x2 * (-0.3761263890f + x2 * (0.1128379167f + x2 * (-0.0268661706f + x2 * (0.0052239776f + x2 * (-0.0008548327f))))));
  let t = 1.0f / (1.0f + 0.3275911f * a);
  let poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  let tail = sign(x) * (1.0f - poly * exp(-a * a));
  return select(tail, series, a < 0.5f);
}
fn mdc_ld4_a(i: i32) -> vec4<f32> { return a[i >> 2u]; }
fn mdc_ld4_w(i: i32) -> vec4<f32> { return vec4<f32>(mdc_ld_w(i), mdc_ld_w(i + 1), mdc_ld_w(i + 2), mdc_ld_w(i + 3)); }
fn mdc_ld_w(i: i32) -> f32 { let h = (w[u32(i) >> 1u] >> ((u32(i) & 1u) * 16u)) & 0xffffu; return bitcast<f32>(h << 16u); }
@compute @workgroup_size(4)
fn mdc_main(@builtin(workgroup_id) mdc_wid: vec3<u32>, @builtin(num_workgroups) mdc_nwg: vec3<u32>, @builtin(local_invocation_index) mdc_lidx: u32) {
  let mdc_lid = i32(mdc_lidx);
  let mdc_linear = mdc_wid.x + mdc_nwg.x * (mdc_wid.y + mdc_nwg.y * mdc_wid.z);
  if (mdc_linear >= u32(mdc_p.mdc_total)) { return; }
  let mdc_nx = u32(mdc_p.mdc_ngroups_x);
  let mdc_nxy = mdc_nx * u32(mdc_p.mdc_ngroups_y);
  let mdc_gid_x = i32(mdc_linear % mdc_nx);
  let mdc_gid_y = i32((mdc_linear % mdc_nxy) / mdc_nx);
  let mdc_gid_z = i32(mdc_linear / mdc_nxy);
  var tr: i32 = (mdc_lid / 2i);
  var tc: i32 = (mdc_lid % 2i);
  var pa0: i32 = (aRows[min(((mdc_gid_y * 8i) + tr), (mdc_p.M - 1i))] * 64i);
  var pa1: i32 = (aRows[min((((mdc_gid_y * 8i) + tr) + 2i), (mdc_p.M - 1i))] * 64i);
  var pa2: i32 = (aRows[min((((mdc_gid_y * 8i) + tr) + 4i), (mdc_p.M - 1i))] * 64i);
  var pa3: i32 = (aRows[min((((mdc_gid_y * 8i) + tr) + 6i), (mdc_p.M - 1i))] * 64i);
  var pw0: i32 = (min(((mdc_gid_x * 8i) + tc), 47i) * 64i);
  var pw1: i32 = (min((((mdc_gid_x * 8i) + tc) + 2i), 47i) * 64i);
  var pw2: i32 = (min((((mdc_gid_x * 8i) + tc) + 4i), 47i) * 64i);
  var pw3: i32 = (min((((mdc_gid_x * 8i) + tc) + 6i), 47i) * 64i);
  var s0_0: f32 = 0f;
  var s0_1: f32 = 0f;
  var s0_2: f32 = 0f;
  var s0_3: f32 = 0f;
  var s1_0: f32 = 0f;
  var s1_1: f32 = 0f;
  var s1_2: f32 = 0f;
  var s1_3: f32 = 0f;
  var s2_0: f32 = 0f;
  var s2_1: f32 = 0f;
  var s2_2: f32 = 0f;
  var s2_3: f32 = 0f;
  var s3_0: f32 = 0f;
  var s3_1: f32 = 0f;
  var s3_2: f32 = 0f;
  var s3_3: f32 = 0f;
  { let mdc_end0 = 64i;
  for (var kk: i32 = 0i; kk < mdc_end0; kk += 8i) {
    var av0_0: vec4<f32> = mdc_ld4_a((pa0 + kk));
    var av1_0: vec4<f32> = mdc_ld4_a((pa1 + kk));
    var av2_0: vec4<f32> = mdc_ld4_a((pa2 + kk));
    var av3_0: vec4<f32> = mdc_ld4_a((pa3 + kk));
    var wv0_0: vec4<f32> = mdc_ld4_w((pw0 + kk));
    var wv1_0: vec4<f32> = mdc_ld4_w((pw1 + kk));
    var wv2_0: vec4<f32> = mdc_ld4_w((pw2 + kk));
    var wv3_0: vec4<f32> = mdc_ld4_w((pw3 + kk));
    s0_0 = fma((av0_0)[0], (wv0_0)[0], s0_0);
    s0_1 = fma((av0_0)[0], (wv1_0)[0], s0_1);
    s0_2 = fma((av0_0)[0], (wv2_0)[0], s0_2);
    s0_3 = fma((av0_0)[0], (wv3_0)[0], s0_3);
    s1_0 = fma((av1_0)[0], (wv0_0)[0], s1_0);
    s1_1 = fma((av1_0)[0], (wv1_0)[0], s1_1);
    s1_2 = fma((av1_0)[0], (wv2_0)[0], s1_2);
    s1_3 = fma((av1_0)[0], (wv3_0)[0], s1_3);
    s2_0 = fma((av2_0)[0], (wv0_0)[0], s2_0);
    s2_1 = fma((av2_0)[0], (wv1_0)[0], s2_1);
    s2_2 = fma((av2_0)[0], (wv2_0)[0], s2_2);
    s2_3 = fma((av2_0)[0], (wv3_0)[0], s2_3);
    s3_0 = fma((av3_0)[0], (wv0_0)[0], s3_0);
    s3_1 = fma((av3_0)[0], (wv1_0)[0], s3_1);
    s3_2 = fma((av3_0)[0], (wv2_0)[0], s3_2);
    s3_3 = fma((av3_0)[0], (wv3_0)[0], s3_3);
    s0_0 = fma((av0_0)[1], (wv0_0)[1], s0_0);
    s0_1 = fma((av0_0)[1], (wv1_0)[1], s0_1);
    s0_2 = fma((av0_0)[1], (wv2_0)[1], s0_2);
    s0_3 = fma((av0_0)[1], (wv3_0)[1], s0_3);
    s1_0 = fma((av1_0)[1], (wv0_0)[1], s1_0);
    s1_1 = fma((av1_0)[1], (wv1_0)[1], s1_1);
    s1_2 = fma((av1_0)[1], (wv2_0)[1], s1_2);
    s1_3 = fma((av1_0)[1], (wv3_0)[1], s1_3);
    s2_0 = fma((av2_0)[1], (wv0_0)[1], s2_0);
    s2_1 = fma((av2_0)[1], (wv1_0)[1], s2_1);
    s2_2 = fma((av2_0)[1], (wv2_0)[1], s2_2);
    s2_3 = fma((av2_0)[1], (wv3_0)[1], s2_3);
    s3_0 = fma((av3_0)[1], (wv0_0)[1], s3_0);
    s3_1 = fma((av3_0)[1], (wv1_0)[1], s3_1);
    s3_2 = fma((av3_0)[1], (wv2_0)[1], s3_2);
    s3_3 = fma((av3_0)[1], (wv3_0)[1], s3_3);
    s0_0 = fma((av0_0)[2], (wv0_0)[2], s0_0);
    s0_1 = fma((av0_0)[2], (wv1_0)[2], s0_1);
    s0_2 = fma((av0_0)[2], (wv2_0)[2], s0_2);
    s0_3 = fma((av0_0)[2], (wv3_0)[2], s0_3);
    s1_0 = fma((av1_0)[2], (wv0_0)[2], s1_0);
    s1_1 = fma((av1_0)[2], (wv1_0)[2], s1_1);
    s1_2 = fma((av1_0)[2], (wv2_0)[2], s1_2);
    s1_3 = fma((av1_0)[2], (wv3_0)[2], s1_3);
    s2_0 = fma((av2_0)[2], (wv0_0)[2], s2_0);
    s2_1 = fma((av2_0)[2], (wv1_0)[2], s2_1);
    s2_2 = fma((av2_0)[2], (wv2_0)[2], s2_2);
    s2_3 = fma((av2_0)[2], (wv3_0)[2], s2_3);
    s3_0 = fma((av3_0)[2], (wv0_0)[2], s3_0);
    s3_1 = fma((av3_0)[2], (wv1_0)[2], s3_1);
    s3_2 = fma((av3_0)[2], (wv2_0)[2], s3_2);
    s3_3 = fma((av3_0)[2], (wv3_0)[2], s3_3);
    s0_0 = fma((av0_0)[3], (wv0_0)[3], s0_0);
    s0_1 = fma((av0_0)[3], (wv1_0)[3], s0_1);
    s0_2 = fma((av0_0)[3], (wv2_0)[3], s0_2);
    s0_3 = fma((av0_0)[3], (wv3_0)[3], s0_3);
    s1_0 = fma((av1_0)[3], (wv0_0)[3], s1_0);
    s1_1 = fma((av1_0)[3], (wv1_0)[3], s1_1);
    s1_2 = fma((av1_0)[3], (wv2_0)[3], s1_2);
    s1_3 = fma((av1_0)[3], (wv3_0)[3], s1_3);
    s2_0 = fma((av2_0)[3], (wv0_0)[3], s2_0);
    s2_1 = fma((av2_0)[3], (wv1_0)[3], s2_1);
    s2_2 = fma((av2_0)[3], (wv2_0)[3], s2_2);
    s2_3 = fma((av2_0)[3], (wv3_0)[3], s2_3);
    s3_0 = fma((av3_0)[3], (wv0_0)[3], s3_0);
    s3_1 = fma((av3_0)[3], (wv1_0)[3], s3_1);
    s3_2 = fma((av3_0)[3], (wv2_0)[3], s3_2);
    s3_3 = fma((av3_0)[3], (wv3_0)[3], s3_3);
    var av0_1: vec4<f32> = mdc_ld4_a((pa0 + (kk + 4i)));
    var av1_1: vec4<f32> = mdc_ld4_a((pa1 + (kk + 4i)));
    var av2_1: vec4<f32> = mdc_ld4_a((pa2 + (kk + 4i)));
    var av3_1: vec4<f32> = mdc_ld4_a((pa3 + (kk + 4i)));
    var wv0_1: vec4<f32> = mdc_ld4_w((pw0 + (kk + 4i)));
    var wv1_1: vec4<f32> = mdc_ld4_w((pw1 + (kk + 4i)));
    var wv2_1: vec4<f32> = mdc_ld4_w((pw2 + (kk + 4i)));
    var wv3_1: vec4<f32> = mdc_ld4_w((pw3 + (kk + 4i)));
    s0_0 = fma((av0_1)[0], (wv0_1)[0], s0_0);
    s0_1 = fma((av0_1)[0], (wv1_1)[0], s0_1);
    s0_2 = fma((av0_1)[0], (wv2_1)[0], s0_2);
    s0_3 = fma((av0_1)[0], (wv3_1)[0], s0_3);
    s1_0 = fma((av1_1)[0], (wv0_1)[0], s1_0);
    s1_1 = fma((av1_1)[0], (wv1_1)[0], s1_1);
    s1_2 = fma((av1_1)[0], (wv2_1)[0], s1_2);
    s1_3 = fma((av1_1)[0], (wv3_1)[0], s1_3);
    s2_0 = fma((av2_1)[0], (wv0_1)[0], s2_0);
    s2_1 = fma((av2_1)[0], (wv1_1)[0], s2_1);
    s2_2 = fma((av2_1)[0], (wv2_1)[0], s2_2);
    s2_3 = fma((av2_1)[0], (wv3_1)[0], s2_3);
    s3_0 = fma((av3_1)[0], (wv0_1)[0], s3_0);
    s3_1 = fma((av3_1)[0], (wv1_1)[0], s3_1);
    s3_2 = fma((av3_1)[0], (wv2_1)[0], s3_2);
    s3_3 = fma((av3_1)[0], (wv3_1)[0], s3_3);
    s0_0 = fma((av0_1)[1], (wv0_1)[1], s0_0);
    s0_1 = fma((av0_1)[1], (wv1_1)[1], s0_1);
    s0_2 = fma((av0_1)[1], (wv2_1)[1], s0_2);
    s0_3 = fma((av0_1)[1], (wv3_1)[1], s0_3);
    s1_0 = fma((av1_1)[1], (wv0_1)[1], s1_0);
    s1_1 = fma((av1_1)[1], (wv1_1)[1], s1_1);
    s1_2 = fma((av1_1)[1], (wv2_1)[1], s1_2);
    s1_3 = fma((av1_1)[1], (wv3_1)[1], s1_3);
    s2_0 = fma((av2_1)[1], (wv0_1)[1], s2_0);
    s2_1 = fma((av2_1)[1], (wv1_1)[1], s2_1);
    s2_2 = fma((av2_1)[1], (wv2_1)[1], s2_2);
    s2_3 = fma((av2_1)[1], (wv3_1)[1], s2_3);
    s3_0 = fma((av3_1)[1], (wv0_1)[1], s3_0);
    s3_1 = fma((av3_1)[1], (wv1_1)[1], s3_1);
    s3_2 = fma((av3_1)[1], (wv2_1)[1], s3_2);
    s3_3 = fma((av3_1)[1], (wv3_1)[1], s3_3);
    s0_0 = fma((av0_1)[2], (wv0_1)[2], s0_0);
    s0_1 = fma((av0_1)[2], (wv1_1)[2], s0_1);
    s0_2 = fma((av0_1)[2], (wv2_1)[2], s0_2);
    s0_3 = fma((av0_1)[2], (wv3_1)[2], s0_3);
    s1_0 = fma((av1_1)[2], (wv0_1)[2], s1_0);
    s1_1 = fma((av1_1)[2], (wv1_1)[2], s1_1);
    s1_2 = fma((av1_1)[2], (wv2_1)[2], s1_2);
    s1_3 = fma((av1_1)[2], (wv3_1)[2], s1_3);
    s2_0 = fma((av2_1)[2], (wv0_1)[2], s2_0);
    s2_1 = fma((av2_1)[2], (wv1_1)[2], s2_1);
    s2_2 = fma((av2_1)[2], (wv2_1)[2], s2_2);
    s2_3 = fma((av2_1)[2], (wv3_1)[2], s2_3);
    s3_0 = fma((av3_1)[2], (wv0_1)[2], s3_0);
    s3_1 = fma((av3_1)[2], (wv1_1)[2], s3_1);
    s3_2 = fma((av3_1)[2], (wv2_1)[2], s3_2);
    s3_3 = fma((av3_1)[2], (wv3_1)[2], s3_3);
    s0_0 = fma((av0_1)[3], (wv0_1)[3], s0_0);
    s0_1 = fma((av0_1)[3], (wv1_1)[3], s0_1);
    s0_2 = fma((av0_1)[3], (wv2_1)[3], s0_2);
    s0_3 = fma((av0_1)[3], (wv3_1)[3], s0_3);
    s1_0 = fma((av1_1)[3], (wv0_1)[3], s1_0);
    s1_1 = fma((av1_1)[3], (wv1_1)[3], s1_1);
    s1_2 = fma((av1_1)[3], (wv2_1)[3], s1_2);
    s1_3 = fma((av1_1)[3], (wv3_1)[3], s1_3);
    s2_0 = fma((av2_1)[3], (wv0_1)[3], s2_0);
    s2_1 = fma((av2_1)[3], (wv1_1)[3], s2_1);
    s2_2 = fma((av2_1)[3], (wv2_1)[3], s2_2);
    s2_3 = fma((av2_1)[3], (wv3_1)[3], s2_3);
    s3_0 = fma((av3_1)[3], (wv0_1)[3], s3_0);
    s3_1 = fma((av3_1)[3], (wv1_1)[3], s3_1);
    s3_2 = fma((av3_1)[3], (wv2_1)[3], s3_2);
    s3_3 = fma((av3_1)[3], (wv3_1)[3], s3_3);
  } }
  if (((((mdc_gid_y * 8i) + tr) < mdc_p.M) & (((mdc_gid_x * 8i) + tc) < 48i))) {
    var y0_0: f32 = mdc_erf((s0_0 + bias[((mdc_gid_x * 8i) + tc)]));
    c[((((mdc_gid_y * 8i) + tr) * 48i) + ((mdc_gid_x * 8i) + tc))] = y0_0;
  }
  if (((((mdc_gid_y * 8i) + tr) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 2i) < 48i))) {
    var y0_1: f32 = mdc_erf((s0_1 + bias[(((mdc_gid_x * 8i) + tc) + 2i)]));
    c[((((mdc_gid_y * 8i) + tr) * 48i) + (((mdc_gid_x * 8i) + tc) + 2i))] = y0_1;
  }
  if (((((mdc_gid_y * 8i) + tr) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 4i) < 48i))) {
    var y0_2: f32 = mdc_erf((s0_2 + bias[(((mdc_gid_x * 8i) + tc) + 4i)]));
    c[((((mdc_gid_y * 8i) + tr) * 48i) + (((mdc_gid_x * 8i) + tc) + 4i))] = y0_2;
  }
  if (((((mdc_gid_y * 8i) + tr) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 6i) < 48i))) {
    var y0_3: f32 = mdc_erf((s0_3 + bias[(((mdc_gid_x * 8i) + tc) + 6i)]));
    c[((((mdc_gid_y * 8i) + tr) * 48i) + (((mdc_gid_x * 8i) + tc) + 6i))] = y0_3;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 2i) < mdc_p.M) & (((mdc_gid_x * 8i) + tc) < 48i))) {
    var y1_0: f32 = mdc_erf((s1_0 + bias[((mdc_gid_x * 8i) + tc)]));
    c[(((((mdc_gid_y * 8i) + tr) + 2i) * 48i) + ((mdc_gid_x * 8i) + tc))] = y1_0;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 2i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 2i) < 48i))) {
    var y1_1: f32 = mdc_erf((s1_1 + bias[(((mdc_gid_x * 8i) + tc) + 2i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 2i) * 48i) + (((mdc_gid_x * 8i) + tc) + 2i))] = y1_1;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 2i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 4i) < 48i))) {
    var y1_2: f32 = mdc_erf((s1_2 + bias[(((mdc_gid_x * 8i) + tc) + 4i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 2i) * 48i) + (((mdc_gid_x * 8i) + tc) + 4i))] = y1_2;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 2i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 6i) < 48i))) {
    var y1_3: f32 = mdc_erf((s1_3 + bias[(((mdc_gid_x * 8i) + tc) + 6i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 2i) * 48i) + (((mdc_gid_x * 8i) + tc) + 6i))] = y1_3;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 4i) < mdc_p.M) & (((mdc_gid_x * 8i) + tc) < 48i))) {
    var y2_0: f32 = mdc_erf((s2_0 + bias[((mdc_gid_x * 8i) + tc)]));
    c[(((((mdc_gid_y * 8i) + tr) + 4i) * 48i) + ((mdc_gid_x * 8i) + tc))] = y2_0;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 4i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 2i) < 48i))) {
    var y2_1: f32 = mdc_erf((s2_1 + bias[(((mdc_gid_x * 8i) + tc) + 2i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 4i) * 48i) + (((mdc_gid_x * 8i) + tc) + 2i))] = y2_1;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 4i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 4i) < 48i))) {
    var y2_2: f32 = mdc_erf((s2_2 + bias[(((mdc_gid_x * 8i) + tc) + 4i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 4i) * 48i) + (((mdc_gid_x * 8i) + tc) + 4i))] = y2_2;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 4i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 6i) < 48i))) {
    var y2_3: f32 = mdc_erf((s2_3 + bias[(((mdc_gid_x * 8i) + tc) + 6i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 4i) * 48i) + (((mdc_gid_x * 8i) + tc) + 6i))] = y2_3;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 6i) < mdc_p.M) & (((mdc_gid_x * 8i) + tc) < 48i))) {
    var y3_0: f32 = mdc_erf((s3_0 + bias[((mdc_gid_x * 8i) + tc)]));
    c[(((((mdc_gid_y * 8i) + tr) + 6i) * 48i) + ((mdc_gid_x * 8i) + tc))] = y3_0;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 6i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 2i) < 48i))) {
    var y3_1: f32 = mdc_erf((s3_1 + bias[(((mdc_gid_x * 8i) + tc) + 2i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 6i) * 48i) + (((mdc_gid_x * 8i) + tc) + 2i))] = y3_1;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 6i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 4i) < 48i))) {
    var y3_2: f32 = mdc_erf((s3_2 + bias[(((mdc_gid_x * 8i) + tc) + 4i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 6i) * 48i) + (((mdc_gid_x * 8i) + tc) + 4i))] = y3_2;
  }
  if ((((((mdc_gid_y * 8i) + tr) + 6i) < mdc_p.M) & ((((mdc_gid_x * 8i) + tc) + 6i) < 48i))) {
    var y3_3: f32 = mdc_erf((s3_3 + bias[(((mdc_gid_x * 8i) + tc) + 6i)]));
    c[(((((mdc_gid_y * 8i) + tr) + 6i) * 48i) + (((mdc_gid_x * 8i) + tc) + 6i))] = y3_3;
  }
}
