/**
 * What the Wasm renderer and the devices that run its modules agree on, without binaryen (so a device that only
 * loads compiled modules, in a page, pulls in no compiler): the limits kernels are rendered within, and the layout
 * of the argument block a dispatch writes before calling a module's `run`.
 */
import type { Kernel } from '../../kernel/ir.js';
import type { DeviceLimits } from '../../kernel/renderer.js';

export const WASM_LIMITS = {
  /** Threads of a workgroup run as a loop, so any count works; this bounds scratch use. */
  maxThreadsPerWorkgroup: 1024,
  /** Scratch bytes per worker for shared arrays and spilled per-thread variables. */
  scratchBytes: 1 << 20,
  /** Workgroup memory lives in the worker's scratch, next to spilled per-thread variables. */
  sharedBytes: 1 << 20,
  maxBuffersPerKernel: 64,
  maxGridSize: 2 ** 31 - 1,
} as const satisfies DeviceLimits & { scratchBytes: number };

/** Byte layout of the argument block a dispatch writes before calling `run`. */
export function argBlockLayout(k: Kernel): { readonly bytes: number; readonly bufferOffset: (i: number) => number; readonly paramOffset: (i: number) => number } {
  return {
    bytes: 4 * (3 + k.buffers.length + k.params.length),
    bufferOffset: (i) => 4 * (3 + i),
    paramOffset: (i) => 4 * (3 + k.buffers.length + i),
  };
}

