/** The shared kernel cases on the WebGPU Device over Dawn (llvmpipe here); MODC_REQUIRE_WEBGPU=1 turns a missing adapter into a failure. */
import { describeDeviceCases } from '../../kernel/device-suite.js';
import { openDawnOrWhy } from './dawn.js';

/** CPU-schedule builders that accumulate in f64, which WGSL lacks (the f32 GPU schedules replace them on WebGPU). */
const F64 = 'accumulates in f64 (a CPU schedule); WGSL has no f64 and WebGPU lowering uses the f32 GPU schedules';
export const WEBGPU_SKIPS: Readonly<Record<string, string>> = {
  'builder: rmsnorm': F64,
  'builder: softmax over a strided axis': F64,
};

describeDeviceCases('webgpu', openDawnOrWhy, { requireFlag: 'MODC_REQUIRE_WEBGPU', skip: WEBGPU_SKIPS });
