struct MdcParams {
  mdc_ngroups_x: i32, mdc_ngroups_y: i32, mdc_ngroups_z: i32, mdc_total: i32,
  mdc_nan: u32, mdc_inf: u32, mdc_ninf: u32, mdc_zero: u32,
  M: i32,
}
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> mdc_p: MdcParams;
var<workgroup> partial: array<f32, 16>;
fn mdc_f16_to_f32(h: u32) -> f32 {
  let em = h & 0x7fffu;
  let sign = (h & 0x8000u) << 16u;
  let normal = (em << 13u) + 0x38000000u;
  let sub = bitcast<u32>(f32(em) * 5.9604644775390625e-8f);
  let special = (em << 13u) | 0x7f800000u;
  return bitcast<f32>(sign | select(select(normal, sub, em < 0x400u), special, em >= 0x7c00u));
}
fn mdc_ld4_a(i: i32) -> vec4<f32> { return a[i >> 2u]; }
fn mdc_ld4_w(i: i32) -> vec4<f32> { return vec4<f32>(mdc_ld_w(i), mdc_ld_w(i + 1), mdc_ld_w(i + 2), mdc_ld_w(i + 3)); }
fn mdc_ld_w(i: i32) -> f32 { let h = (w[u32(i) >> 1u] >> ((u32(i) & 1u) * 16u)) & 0xffffu; return mdc_f16_to_f32(h); }
@compute @workgroup_size(8)
fn mdc_main(@builtin(workgroup_id) mdc_wid: vec3<u32>, @builtin(num_workgroups) mdc_nwg: vec3<u32>, @builtin(local_invocation_index) mdc_lidx: u32) {
  let mdc_lid = i32(mdc_lidx);
  let mdc_linear = mdc_wid.x + mdc_nwg.x * (mdc_wid.y + mdc_nwg.y * mdc_wid.z);
  if (mdc_linear >= u32(mdc_p.mdc_total)) { return; }
  let mdc_nx = u32(mdc_p.mdc_ngroups_x);
  let mdc_nxy = mdc_nx * u32(mdc_p.mdc_ngroups_y);
  let mdc_gid_x = i32(mdc_linear % mdc_nx);
  let mdc_gid_y = i32((mdc_linear % mdc_nxy) / mdc_nx);
  let mdc_gid_z = i32(mdc_linear / mdc_nxy);
  var ks: i32 = (mdc_lid % 4i);
  var col0: i32 = ((mdc_gid_x * 2i) + (mdc_lid / 4i));
  var pa0: i32 = (min((mdc_gid_y * 2i), (mdc_p.M - 1i)) * 64i);
  var pa1: i32 = (min(((mdc_gid_y * 2i) + 1i), (mdc_p.M - 1i)) * 64i);
  var pw0: i32 = (min(col0, 47i) * 64i);
  var acc0_0: vec4<f32> = vec4<f32>(0f);
  var acc1_0: vec4<f32> = vec4<f32>(0f);
  { let mdc_end0 = 64i;
  for (var kk: i32 = (ks * 4i); kk < mdc_end0; kk += 16i) {
    var av0: vec4<f32> = mdc_ld4_a((pa0 + kk));
    var av1: vec4<f32> = mdc_ld4_a((pa1 + kk));
    var wv0: vec4<f32> = mdc_ld4_w((pw0 + kk));
    acc0_0 = fma(av0, wv0, acc0_0);
    acc1_0 = fma(av1, wv0, acc1_0);
  } }
  var p0_0: f32 = (((acc0_0)[0] + (acc0_0)[1]) + ((acc0_0)[2] + (acc0_0)[3]));
  var p1_0: f32 = (((acc1_0)[0] + (acc1_0)[1]) + ((acc1_0)[2] + (acc1_0)[3]));
  partial[mdc_lid] = p0_0;
  partial[(8i + mdc_lid)] = p1_0;
  workgroupBarrier();
  if ((ks < 2i)) {
    partial[mdc_lid] = (partial[mdc_lid] + partial[(mdc_lid + 2i)]);
    partial[(8i + mdc_lid)] = (partial[(8i + mdc_lid)] + partial[((8i + mdc_lid) + 2i)]);
  }
  workgroupBarrier();
  if ((ks < 1i)) {
    partial[mdc_lid] = (partial[mdc_lid] + partial[(mdc_lid + 1i)]);
    partial[(8i + mdc_lid)] = (partial[(8i + mdc_lid)] + partial[((8i + mdc_lid) + 1i)]);
  }
  workgroupBarrier();
  p0_0 = partial[mdc_lid];
  p1_0 = partial[(8i + mdc_lid)];
  if ((((ks < 1i) & ((mdc_gid_y * 2i) < mdc_p.M)) & (col0 < 48i))) {
    var y0_0: f32 = p0_0;
    c[(((mdc_gid_y * 2i) * 48i) + col0)] = y0_0;
  }
  if ((((ks < 1i) & (((mdc_gid_y * 2i) + 1i) < mdc_p.M)) & (col0 < 48i))) {
    var y1_0: f32 = p1_0;
    c[((((mdc_gid_y * 2i) + 1i) * 48i) + col0)] = y1_0;
  }
}
