/**
 * A compiled artifact's WGSL shaders as the WebGPU device's `shaders` option: every kernel's pipeline is built
 * from the artifact's code, never rendered here. A kernel without a shader in the artifact is an error. The
 * artifact was lowered for its own Target: its kernels must fit the device's limits (the plan loader checks) and
 * may need no feature the device lacks (checked here). Browser-safe.
 */
import type { Kernel } from '../../kernel/ir.js';
import { kernelKey } from '../../kernel/ir.js';
import type { Target } from '../../kernel/target.js';
import type { ArtifactWithCode } from '../../runtime/artifact.js';
import { DeviceError } from '../../runtime/device.js';
import type { RenderedWgsl } from './render.js';
import type { BufferStorage } from './storage.js';

/** Features the artifact's shaders use that a device lacks (empty: it can run them). */
export function missingFeatures(artifact: Target, device: Target): string[] {
  const out: string[] = [];
  if (artifact.caps.f16Math && !device.caps.f16Math) out.push('shader-f16');
  if (artifact.caps.subgroups && !device.caps.subgroups) out.push('subgroups');
  return out;
}

export function artifactShaders(a: ArtifactWithCode): (kernel: Kernel) => RenderedWgsl {
  if (a.artifact.renderer.kind !== 'wgsl') throw new DeviceError(`the artifact holds ${a.artifact.renderer.kind} kernels, not WGSL`);
  const byKey = new Map<string, RenderedWgsl>();
  const text = new TextDecoder();
  for (const k of a.artifact.kernels) {
    const code = a.code.get(k.code.path);
    const layout = k.wgsl;
    if (code === undefined || layout === undefined) throw new DeviceError(`artifact kernel '${k.kernel.name}': no WGSL shader or no binding layout`);
    byKey.set(kernelKey(k.kernel), {
      name: k.kernel.name,
      code: text.decode(code),
      bindings: layout.bindings.map((b, i) => {
        const decl = k.kernel.buffers[i];
        if (decl === undefined) throw new DeviceError(`artifact kernel '${k.kernel.name}': binding ${i} has no buffer`);
        // The storage record was written by the WGSL renderer (src/backends/webgpu/storage.ts) and read back checked.
        return { name: b.name, decl, storage: b.storage as BufferStorage };
      }),
      paramOffsets: layout.paramOffsets,
      uniformBytes: layout.uniformBytes,
      threads: k.kernel.threads,
      // Validation errors then name the WGSL line only (the line -> Kernel IR map is not stored).
      lineNodes: [],
      applied: {},
    });
  }
  return (kernel) => {
    const hit = byKey.get(kernelKey(kernel));
    if (hit === undefined) throw new DeviceError(`kernel '${kernel.name}': the artifact has no WGSL shader for it`);
    return hit;
  };
}
