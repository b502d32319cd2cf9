/**
 * The WebGL device on gpu.js's cpu mode: the same rendered kernel source run as JavaScript (every f32 operation
 * rounded by Math.fround), for Node, where there is no WebGL context. It checks the renderer and the device
 * against the reference on any machine; it is slow (an interpreter-like loop per kernel) and uses the WebGL2
 * minimum limits.
 */
import { WebGlDevice } from './device.js';
import { loadGpuJs } from './gpujs.js';
import { WEBGL2_MINIMUMS, type WebGlLimits } from './target.js';

export async function openCpuWebGlDevice(limits: Partial<WebGlLimits> = {}): Promise<WebGlDevice> {
  const { GPU } = await loadGpuJs();
  return new WebGlDevice(new GPU({ mode: 'cpu' }), 'cpu', { ...WEBGL2_MINIMUMS, renderer: 'gpu.js cpu mode', ...limits });
}
