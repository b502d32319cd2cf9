/** The WebGPU device in a browser page, on `navigator.gpu`. */
/// <reference types="@webgpu/types" />
import { openAdapterDevice, WebGpuUnavailable } from './adapter.js';
import type { WebGpuDevice, WebGpuDeviceOptions } from './device.js';

export async function openBrowserDevice(gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu, opts: WebGpuDeviceOptions = {}): Promise<WebGpuDevice> {
  if (gpu === undefined) throw new WebGpuUnavailable('this page has no navigator.gpu (WebGPU is off; Chromium needs --enable-unsafe-webgpu without a GPU)');
  const adapter = await gpu.requestAdapter();
  if (adapter === null) throw new WebGpuUnavailable('navigator.gpu.requestAdapter() returned no adapter');
  return openAdapterDevice(adapter, 'navigator.gpu', opts);
}
