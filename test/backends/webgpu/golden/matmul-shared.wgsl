struct MdcParams {
  mdc_ngroups_x: i32, mdc_ngroups_y: i32, mdc_ngroups_z: i32, mdc_total: i32,
  mdc_nan: u32, mdc_inf: u32, mdc_ninf: u32, mdc_zero: u32,
  M: i32,
}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> mdc_p: MdcParams;
var<workgroup> aTile: array<f32, 128>;
var<workgroup> wTile: array<f32, 128>;
@compute @workgroup_size(16)
fn mdc_main(@builtin(workgroup_id) mdc_wid: vec3<u32>, @builtin(num_workgroups) mdc_nwg: vec3<u32>, @builtin(local_invocation_index) mdc_lidx: u32) {
  let mdc_lid = i32(mdc_lidx);
  let mdc_linear = mdc_wid.x + mdc_nwg.x * (mdc_wid.y + mdc_nwg.y * mdc_wid.z);
  if (mdc_linear >= u32(mdc_p.mdc_total)) { return; }
  let mdc_nx = u32(mdc_p.mdc_ngroups_x);
  let mdc_nxy = mdc_nx * u32(mdc_p.mdc_ngroups_y);
  let mdc_gid_x = i32(mdc_linear % mdc_nx);
  let mdc_gid_y = i32((mdc_linear % mdc_nxy) / mdc_nx);
  let mdc_gid_z = i32(mdc_linear / mdc_nxy);
  var tr: i32 = (mdc_lid / 4i);
  var tc: i32 = (mdc_lid % 4i);
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
  { let mdc_end0 = 40i;
  for (var k0: i32 = 0i; k0 < mdc_end0; k0 += 8i) {
    { let mdc_end1 = 128i;
    for (var e: i32 = mdc_lid; e < mdc_end1; e += 16i) {
      var er: i32 = (e / 8i);
      var ek: i32 = (k0 + (e % 8i));
      var ev: f32 = a[((min(((mdc_gid_y * 16i) + er), (mdc_p.M - 1i)) * 40i) + min(ek, 39i))];
      aTile[e] = select(0f, ev, (ek < 40i));
    } }
    { let mdc_end2 = 128i;
    for (var e: i32 = mdc_lid; e < mdc_end2; e += 16i) {
      var er: i32 = (e / 8i);
      var ek: i32 = (k0 + (e % 8i));
      var ev: f32 = w[((min(((mdc_gid_x * 16i) + er), 23i) * 40i) + min(ek, 39i))];
      wTile[e] = select(0f, ev, (ek < 40i));
    } }
    workgroupBarrier();
    { let mdc_end3 = 8i;
    for (var kk: i32 = 0i; kk < mdc_end3; kk += 1i) {
      var at0: f32 = aTile[((tr * 8i) + kk)];
      var at1: f32 = aTile[(((tr + 4i) * 8i) + kk)];
      var at2: f32 = aTile[(((tr + 8i) * 8i) + kk)];
      var at3: f32 = aTile[(((tr + 12i) * 8i) + kk)];
      var wt0: f32 = wTile[((tc * 8i) + kk)];
      var wt1: f32 = wTile[(((tc + 4i) * 8i) + kk)];
      var wt2: f32 = wTile[(((tc + 8i) * 8i) + kk)];
      var wt3: f32 = wTile[(((tc + 12i) * 8i) + kk)];
      s0_0 = fma(at0, wt0, s0_0);
      s0_1 = fma(at0, wt1, s0_1);
      s0_2 = fma(at0, wt2, s0_2);
      s0_3 = fma(at0, wt3, s0_3);
      s1_0 = fma(at1, wt0, s1_0);
      s1_1 = fma(at1, wt1, s1_1);
      s1_2 = fma(at1, wt2, s1_2);
      s1_3 = fma(at1, wt3, s1_3);
      s2_0 = fma(at2, wt0, s2_0);
      s2_1 = fma(at2, wt1, s2_1);
      s2_2 = fma(at2, wt2, s2_2);
      s2_3 = fma(at2, wt3, s2_3);
      s3_0 = fma(at3, wt0, s3_0);
      s3_1 = fma(at3, wt1, s3_1);
      s3_2 = fma(at3, wt2, s3_2);
      s3_3 = fma(at3, wt3, s3_3);
    } }
    workgroupBarrier();
  } }
  if (((((mdc_gid_y * 16i) + tr) < mdc_p.M) & (((mdc_gid_x * 16i) + tc) < 24i))) {
    var y0_0: f32 = s0_0;
    c[((((mdc_gid_y * 16i) + tr) * 24i) + ((mdc_gid_x * 16i) + tc))] = y0_0;
  }
  if (((((mdc_gid_y * 16i) + tr) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 4i) < 24i))) {
    var y0_1: f32 = s0_1;
    c[((((mdc_gid_y * 16i) + tr) * 24i) + (((mdc_gid_x * 16i) + tc) + 4i))] = y0_1;
  }
  if (((((mdc_gid_y * 16i) + tr) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 8i) < 24i))) {
    var y0_2: f32 = s0_2;
    c[((((mdc_gid_y * 16i) + tr) * 24i) + (((mdc_gid_x * 16i) + tc) + 8i))] = y0_2;
  }
  if (((((mdc_gid_y * 16i) + tr) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 12i) < 24i))) {
    var y0_3: f32 = s0_3;
    c[((((mdc_gid_y * 16i) + tr) * 24i) + (((mdc_gid_x * 16i) + tc) + 12i))] = y0_3;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 4i) < mdc_p.M) & (((mdc_gid_x * 16i) + tc) < 24i))) {
    var y1_0: f32 = s1_0;
    c[(((((mdc_gid_y * 16i) + tr) + 4i) * 24i) + ((mdc_gid_x * 16i) + tc))] = y1_0;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 4i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 4i) < 24i))) {
    var y1_1: f32 = s1_1;
    c[(((((mdc_gid_y * 16i) + tr) + 4i) * 24i) + (((mdc_gid_x * 16i) + tc) + 4i))] = y1_1;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 4i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 8i) < 24i))) {
    var y1_2: f32 = s1_2;
    c[(((((mdc_gid_y * 16i) + tr) + 4i) * 24i) + (((mdc_gid_x * 16i) + tc) + 8i))] = y1_2;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 4i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 12i) < 24i))) {
    var y1_3: f32 = s1_3;
    c[(((((mdc_gid_y * 16i) + tr) + 4i) * 24i) + (((mdc_gid_x * 16i) + tc) + 12i))] = y1_3;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 8i) < mdc_p.M) & (((mdc_gid_x * 16i) + tc) < 24i))) {
    var y2_0: f32 = s2_0;
    c[(((((mdc_gid_y * 16i) + tr) + 8i) * 24i) + ((mdc_gid_x * 16i) + tc))] = y2_0;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 8i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 4i) < 24i))) {
    var y2_1: f32 = s2_1;
    c[(((((mdc_gid_y * 16i) + tr) + 8i) * 24i) + (((mdc_gid_x * 16i) + tc) + 4i))] = y2_1;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 8i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 8i) < 24i))) {
    var y2_2: f32 = s2_2;
    c[(((((mdc_gid_y * 16i) + tr) + 8i) * 24i) + (((mdc_gid_x * 16i) + tc) + 8i))] = y2_2;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 8i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 12i) < 24i))) {
    var y2_3: f32 = s2_3;
    c[(((((mdc_gid_y * 16i) + tr) + 8i) * 24i) + (((mdc_gid_x * 16i) + tc) + 12i))] = y2_3;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 12i) < mdc_p.M) & (((mdc_gid_x * 16i) + tc) < 24i))) {
    var y3_0: f32 = s3_0;
    c[(((((mdc_gid_y * 16i) + tr) + 12i) * 24i) + ((mdc_gid_x * 16i) + tc))] = y3_0;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 12i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 4i) < 24i))) {
    var y3_1: f32 = s3_1;
    c[(((((mdc_gid_y * 16i) + tr) + 12i) * 24i) + (((mdc_gid_x * 16i) + tc) + 4i))] = y3_1;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 12i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 8i) < 24i))) {
    var y3_2: f32 = s3_2;
    c[(((((mdc_gid_y * 16i) + tr) + 12i) * 24i) + (((mdc_gid_x * 16i) + tc) + 8i))] = y3_2;
  }
  if ((((((mdc_gid_y * 16i) + tr) + 12i) < mdc_p.M) & ((((mdc_gid_x * 16i) + tc) + 12i) < 24i))) {
    var y3_3: f32 = s3_3;
    c[(((((mdc_gid_y * 16i) + tr) + 12i) * 24i) + (((mdc_gid_x * 16i) + tc) + 12i))] = y3_3;
  }
}
