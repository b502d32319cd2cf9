/**
 * The WebGPU backend: Kernel IR -> WGSL (render.ts, with the legalisation rules of legalize.ts), the Target from
 * the adapter (target.ts) and the Device on a GPUDevice (device.ts). Node's Dawn entry is node.ts, the browser's
 * browser.ts; this index stays free of Node modules so pages can import it.
 */
export { describeAdapter, openAdapterDevice, WebGpuUnavailable } from './adapter.js';
export { openBrowserDevice } from './browser.js';
export { compileErrorText, type WebGpuBuffer, WebGpuDevice, type WebGpuDeviceOptions, type WebGpuKernel, wgslHash } from './device.js';
export { legalizeForWgsl, WGSL_RULES, WgslError } from './legalize.js';
export { type RenderedWgsl, renderWgsl } from './render.js';
export { type AdapterDescription, gpuSchedules, webgpuKernelProblems, webgpuTarget, type WebGpuLimits } from './target.js';
