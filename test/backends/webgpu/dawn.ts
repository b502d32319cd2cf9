/** Opens the Dawn device for tests, or says in one line what is missing (WebGpuUnavailable only). */
import { WebGpuUnavailable } from '../../../src/backends/webgpu/adapter.js';
import type { WebGpuDevice } from '../../../src/backends/webgpu/device.js';
import { openDawnDevice } from '../../../src/backends/webgpu/node.js';

export async function openDawnOrWhy(): Promise<WebGpuDevice | string> {
  try {
    return await openDawnDevice();
  } catch (e) {
    if (e instanceof WebGpuUnavailable) return e.message;
    throw e;
  }
}
