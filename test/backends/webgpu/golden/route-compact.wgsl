struct MdcParams {
  mdc_ngroups_x: i32, mdc_ngroups_y: i32, mdc_ngroups_z: i32, mdc_total: i32,
  mdc_nan: u32, mdc_inf: u32, mdc_ninf: u32, mdc_zero: u32,
  expected: i32,
  code: i32,
}
@group(0) @binding(0) var<storage, read> keep: array<i32>;
@group(0) @binding(1) var<storage, read> mask: array<i32>;
@group(0) @binding(2) var<storage, read> pos: array<i32>;
@group(0) @binding(3) var<storage, read_write> kept: array<i32>;
@group(0) @binding(4) var<storage, read_write> keptPos: array<i32>;
@group(0) @binding(5) var<storage, read_write> keptCand: array<i32>;
@group(0) @binding(6) var<storage, read_write> slot: array<i32>;
@group(0) @binding(7) var<storage, read_write> status: array<i32>;
@group(0) @binding(8) var<uniform> mdc_p: MdcParams;
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
  var j: i32 = 0i;
  var c: i32 = 0i;
  var nc: i32 = 0i;
  { let mdc_end0 = 12i;
  for (var t: i32 = 0i; t < mdc_end0; t += 1i) {
    if ((mask[t] != 0i)) {
      nc = (nc + 1i);
    }
    if ((keep[t] != 0i)) {
      kept[j] = t;
      keptPos[j] = pos[t];
      slot[t] = j;
      j = (j + 1i);
      if ((mask[t] != 0i)) {
        keptCand[c] = t;
        c = (c + 1i);
      }
    } else {
      slot[t] = (-1i);
    }
  } }
  if ((nc != mdc_p.expected)) {
    status[0i] = mdc_p.code;
  }
}
