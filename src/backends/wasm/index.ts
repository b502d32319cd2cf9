/** The WebAssembly CPU backend: Kernel IR -> binaryen -> Wasm SIMD128, run on a shared-memory worker pool. */
export { WasmExecutor, wasmExecutor, type WasmExecutorOptions } from './executor.js';
export { renderKernel, renderKernelText, WASM_LIMITS, wasmRenderer, type WasmRendererOptions } from './render.js';
export { relaxedSimdAvailable } from './features.js';
export { WasmGemm } from './gemm.js';
export { WasmMemoryError } from './memory.js';
