struct MdcParams {
  mdc_ngroups_x: i32, mdc_ngroups_y: i32, mdc_ngroups_z: i32, mdc_total: i32,
  mdc_nan: u32, mdc_inf: u32, mdc_ninf: u32, mdc_zero: u32,
  S: i32,
  k: i32,
}
@group(0) @binding(0) var<storage, read> scores: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<i32>;
@group(0) @binding(2) var<storage, read_write> keep: array<i32>;
@group(0) @binding(3) var<storage, read_write> rank: array<i32>;
@group(0) @binding(4) var<uniform> mdc_p: MdcParams;
@compute @workgroup_size(1)
fn mdc_main(@builtin(workgroup_id) mdc_wid: vec3<u32>, @builtin(num_workgroups) mdc_nwg: vec3<u32>, @builtin(local_invocation_index) mdc_lidx: u32) {
  let mdc_lid = i32(mdc_lidx);
  let mdc_linear = mdc_wid.x + mdc_nwg.x * (mdc_wid.y + mdc_nwg.y * mdc_wid.z);
  if (mdc_linear >= u32(mdc_p.mdc_total)) { return; }
  let mdc_nx = u32(mdc_p.mdc_ngroups_x);
  let mdc_nxy = mdc_nx * u32(mdc_p.mdc_ngroups_y);
  let mdc_gid_x = i32(mdc_linear % mdc_nx);
  let mdc_gid_y = i32((mdc_linear % mdc_nxy) / mdc_nx);
  let mdc_gid_z = i32(mdc_linear / mdc_nxy);
  { let mdc_end0 = min(((mdc_gid_x * 16i) + 16i), mdc_p.S);
  for (var t: i32 = (mdc_gid_x * 16i); t < mdc_end0; t += 1i) {
    var st: f32 = scores[t];
    var r: i32 = 0i;
    if ((mask[t] != 0i)) {
      { let mdc_end1 = 12i;
      for (var u: i32 = 0i; u < mdc_end1; u += 1i) {
        if (((mask[u] != 0i) & select(select(((scores[u] > st) | ((scores[u] == st) & (u < t))), (u < t), (((bitcast<u32>(scores[u]) & 2147483647u) > 2139095040u) & ((bitcast<u32>(st) & 2147483647u) > 2139095040u))), (!((bitcast<u32>(scores[u]) & 2147483647u) > 2139095040u)), (i32(((bitcast<u32>(scores[u]) & 2147483647u) > 2139095040u)) != i32(((bitcast<u32>(st) & 2147483647u) > 2139095040u)))))) {
          r = (r + 1i);
        }
      } }
      keep[t] = i32((r < mdc_p.k));
      rank[t] = r;
    } else {
      keep[t] = 1i;
      rank[t] = (-1i);
    }
  } }
}
