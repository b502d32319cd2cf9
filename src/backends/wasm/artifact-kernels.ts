/**
 * A compiled artifact's Wasm binaries as the Wasm device's kernel cache: the device then loads every kernel from
 * the artifact instead of rendering it (binaryen is never called). A kernel the artifact has no binary for under
 * the device's renderer options (another relaxed-SIMD choice) is an error, never a silent re-render with other
 * numerics. Browser-safe.
 */
import type { ArtifactWithCode } from '../../runtime/artifact.js';
import { DeviceError } from '../../runtime/device.js';
import { type WasmKernelBinary, type WasmKernelCache, wasmKernelCacheKey } from './kernel-cache.js';
import { MATH_IMPORTS, type MathImport } from './math.js';

const isMathImport = (s: string): s is MathImport => Object.prototype.hasOwnProperty.call(MATH_IMPORTS, s);

export function artifactKernelCache(a: ArtifactWithCode): WasmKernelCache {
  const r = a.artifact.renderer;
  if (r.kind !== 'wasm') throw new DeviceError(`the artifact holds ${r.kind} kernels, not Wasm`);
  const byKey = new Map<string, WasmKernelBinary>();
  for (const k of a.artifact.kernels) {
    const binary = a.code.get(k.code.path);
    if (binary === undefined) throw new DeviceError(`artifact kernel '${k.kernel.name}': no code file ${k.code.path}`);
    const imports = (k.imports ?? []).map((name) => {
      if (!isMathImport(name)) throw new DeviceError(`artifact kernel '${k.kernel.name}' imports '${name}', which the Wasm device does not provide`);
      return name;
    });
    byKey.set(wasmKernelCacheKey(k.kernel, r), { binary, imports });
  }
  return {
    get(key, kernel) {
      const hit = byKey.get(key);
      if (hit === undefined)
        throw new DeviceError(`kernel '${kernel.name}': the artifact has no Wasm binary for this device's renderer options (it was rendered with relaxed-SIMD FMA ${r.relaxedFma ? 'on' : 'off'})`);
      return hit;
    },
    put() {
      // Never reached: get answers every kernel or fails.
    },
  };
}
