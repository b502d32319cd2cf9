/**
 * What every backend renderer states about its device: the limits lowering and kernel builders must respect
 * (threads per workgroup, workgroup memory, buffers per kernel, grid size), checked in one place for all.
 */
import type { Kernel } from './ir.js';

export interface DeviceLimits {
  readonly maxThreadsPerWorkgroup: number;
  /** Bytes of workgroup-shared memory a kernel may declare. */
  readonly sharedBytes: number;
  readonly maxBuffersPerKernel: number;
  /** Workgroups per grid axis. */
  readonly maxGridSize: number;
}

/** A renderer: Kernel IR to the backend's code (WGSL text, PTX text, a Wasm binary...). */
export interface KernelRenderer<Out> {
  readonly name: string;
  readonly limits: DeviceLimits;
  render(k: Kernel): Out;
}

/** Problems of a kernel (and optionally of a grid) against a device's limits; empty when it fits. */
export function limitProblems(k: Kernel, limits: DeviceLimits, grid?: readonly number[]): string[] {
  const out: string[] = [];
  if (k.threads > limits.maxThreadsPerWorkgroup) out.push(`${k.threads} threads per workgroup exceed ${limits.maxThreadsPerWorkgroup}`);
  const shared = k.shared.reduce((a, s) => a + 4 * s.length, 0);
  if (shared > limits.sharedBytes) out.push(`${shared} bytes of workgroup memory exceed ${limits.sharedBytes}`);
  if (k.buffers.length > limits.maxBuffersPerKernel) out.push(`${k.buffers.length} buffers exceed ${limits.maxBuffersPerKernel}`);
  grid?.forEach((g, axis) => {
    if (g > limits.maxGridSize) out.push(`grid axis ${axis} has ${g} workgroups, more than ${limits.maxGridSize}`);
  });
  return out.map((p) => `kernel '${k.name}': ${p}`);
}
