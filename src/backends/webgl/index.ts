/**
 * The WebGL backend (the fallback for browsers without WebGPU): Kernel IR in gather form -> gpu.js kernel source
 * (render.ts, helpers.ts), the Target from the WebGL2 context (target.ts), the Device over gpu.js (device.ts):
 * webgl2 mode in pages (browser.ts), cpu mode in Node (cpu.ts). gpu.js is loaded on demand (gpujs.ts).
 */
export { openWebGlDevice, probeWebGl, type WebGlOpenOptions } from './browser.js';
export { openCpuWebGlDevice } from './cpu.js';
export { type WebGlBuffer, type WebGlCompiled, WebGlDevice } from './device.js';
export { loadGpuJs, WebGlUnavailable } from './gpujs.js';
export { type RenderedKernel, renderGpuJs, WebGlRenderError } from './render.js';
export { MAX_EXACT_INT, WEBGL2_MINIMUMS, type WebGlLimits, webglTarget } from './target.js';
export { backendFromQuery, type BrowserBackend, chooseBackend, type ChooseOptions, type ChosenBackend, FALLBACK_ORDER } from './choose.js';
