/** Kernel cases WebGPU does not run, with the reason (shared by the Dawn and the Chromium suites). */
const F64 = 'accumulates in f64 (a CPU schedule); WGSL has no f64 and WebGPU lowering uses the f32 GPU schedules';
export const WEBGPU_SKIPS: Readonly<Record<string, string>> = {
  'builder: rmsnorm': F64,
  'builder: softmax over a strided axis': F64,
};
