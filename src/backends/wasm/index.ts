/**
 * The WebAssembly CPU backend: a Target (CPU schedules), a renderer (Kernel IR -> binaryen -> Wasm SIMD128) and a
 * Device (a shared-memory worker pool). Graphs run through the shared runtime (compile + runner).
 */
import { DeviceExecutor, type DeviceExecutorOptions } from '../../runtime/device-executor.js';
import { WasmDevice, type WasmDeviceOptions } from './device.js';

export { WasmDevice, type WasmBuffer, type WasmDeviceOptions, type WasmKernel } from './device.js';
export { wasmTarget, type WasmTargetOptions } from './target.js';
export { renderKernel, renderKernelText, WASM_LIMITS, wasmRenderer, type WasmRendererOptions } from './render.js';
export { relaxedSimdAvailable } from './features.js';
export { WasmGemm } from './gemm.js';
export { WasmMemoryError } from './memory.js';

export type WasmExecutor = DeviceExecutor<import('./device.js').WasmBuffer, import('./device.js').WasmKernel> & { readonly device: WasmDevice };

/** The Wasm backend as an Executor (graphs compiled for the Wasm Target, run on a WasmDevice). */
export function wasmExecutor(opts: WasmDeviceOptions & DeviceExecutorOptions = {}): WasmExecutor {
  return new DeviceExecutor('wasm', new WasmDevice(opts), opts) as WasmExecutor;
}
