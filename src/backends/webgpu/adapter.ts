/**
 * From a GPUAdapter to a WebGpuDevice, for Node and browsers alike: the adapter's description (limits, features,
 * whether it is a CPU emulation), a device requested with the adapter's own limits (a device requested without
 * them gets the compatibility defaults: 8 storage buffers, 128 invocations, 16 KiB workgroup memory) and the
 * features the renderer uses.
 */
/// <reference types="@webgpu/types" />
import { type AdapterDescription, readLimits, WEBGPU_LIMIT_NAMES } from './target.js';
import { WebGpuDevice, type WebGpuDeviceOptions } from './device.js';

/** No WebGPU adapter here: the message says what is missing. */
export class WebGpuUnavailable extends Error {
  override name = 'WebGpuUnavailable';
}

const EMULATED = /llvmpipe|lavapipe|softpipe|swiftshader/i;

export function describeAdapter(adapter: GPUAdapter, backend: string): AdapterDescription {
  const info = adapter.info;
  const names = [info.description, info.device, info.architecture, info.vendor].filter((s) => typeof s === 'string' && s.length > 0);
  const name = names.length ? names.join(' / ') : 'unnamed adapter';
  const emulated = EMULATED.test(names.join(' ')) || info.isFallbackAdapter === true;
  const limits = readLimits(adapter.limits as unknown as Readonly<Record<(typeof WEBGPU_LIMIT_NAMES)[number], number>>);
  const sub = info.subgroupMinSize !== undefined && info.subgroupMinSize === info.subgroupMaxSize ? info.subgroupMinSize : undefined;
  return {
    limits,
    features: new Set([...adapter.features].map(String)),
    device: `${name} (${backend})`,
    emulated,
    ...(sub !== undefined && sub > 0 ? { subgroupSize: sub } : {}),
  };
}

/** Every numeric limit the adapter reports, to request them all. */
function allLimits(adapter: GPUAdapter): Record<string, number> {
  const out: Record<string, number> = {};
  const l = adapter.limits as unknown as Record<string, unknown>;
  for (const key in l) {
    const v = l[key];
    if (typeof v === 'number') out[key] = v;
  }
  return out;
}

export async function openAdapterDevice(adapter: GPUAdapter, backend: string, opts: WebGpuDeviceOptions = {}): Promise<WebGpuDevice> {
  const description = describeAdapter(adapter, backend);
  const features = (['shader-f16', 'subgroups'] as const).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ requiredLimits: allLimits(adapter), requiredFeatures: features, label: 'modc' });
  return new WebGpuDevice(device, description, opts);
}
