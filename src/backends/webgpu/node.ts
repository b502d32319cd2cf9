/**
 * The WebGPU device in Node: Dawn from the `webgpu` npm package. Without a GPU, Dawn runs on Mesa llvmpipe
 * through OpenGL ES, which needs EGL_PLATFORM=surfaceless and a compatibility-level adapter. The object `create()`
 * returns is kept referenced by the device: if it is garbage-collected, the process dies within a few submits.
 */
import { openAdapterDevice, WebGpuUnavailable } from './adapter.js';
import type { WebGpuDevice, WebGpuDeviceOptions } from './device.js';

export interface DawnOptions extends WebGpuDeviceOptions {
  /** Dawn toggles for `create()`; default ['backend=opengles'] (Mesa's Vulkan driver is refused by Dawn on Debian 12). */
  readonly dawnFlags?: readonly string[];
  readonly featureLevel?: 'core' | 'compatibility';
}

/** Opens Dawn's adapter and a device with its limits; throws WebGpuUnavailable saying what is missing. */
export async function openDawnDevice(opts: DawnOptions = {}): Promise<WebGpuDevice> {
  process.env.EGL_PLATFORM ??= 'surfaceless';
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (e) {
    throw new WebGpuUnavailable(`the 'webgpu' npm package (Dawn) cannot be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const flags = opts.dawnFlags ?? ['backend=opengles'];
  const gpu = dawn.create([...flags]);
  const adapter = await gpu.requestAdapter({ featureLevel: opts.featureLevel ?? 'compatibility' });
  if (adapter === null)
    throw new WebGpuUnavailable(
      `Dawn (${flags.join(' ')}) found no adapter: without a GPU it needs Mesa llvmpipe (apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri) and EGL_PLATFORM=surfaceless in the environment the process started with (jest tests cannot set it)`,
    );
  return openAdapterDevice(adapter, `Dawn, ${flags.join(' ')}`, { ...opts, keepAlive: gpu });
}
