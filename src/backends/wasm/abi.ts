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


/** The views of a Wasm memory the argument block is written through. */
export interface ArgMemory {
  i32(ptr: number, n: number): Int32Array;
  f32(ptr: number, n: number): Float32Array;
}

/**
 * Writes a dispatch's argument block at `argPtr` (grid, buffer pointers, params as argBlockLayout places them),
 * refusing a wrong buffer count and a freed buffer. Every Wasm device (Node workers, a page's thread) does this.
 */
export function writeArgBlock(
  mem: ArgMemory,
  argPtr: number,
  kern: Kernel,
  buffers: readonly { readonly ptr: number; readonly freed: boolean; readonly label: string }[],
  params: readonly number[],
  grid: readonly [number, number, number],
  fail: (msg: string) => Error,
): void {
  if (buffers.length !== kern.buffers.length) throw fail(`wasm device: kernel '${kern.name}' takes ${kern.buffers.length} buffers, got ${buffers.length}`);
  const layout = argBlockLayout(kern);
  const words = mem.i32(argPtr, layout.bytes / 4);
  const floats = mem.f32(argPtr, layout.bytes / 4);
  words.set(grid, 0);
  buffers.forEach((b, i) => {
    if (b.freed) throw fail(`wasm device: kernel '${kern.name}' binds freed buffer '${b.label}'`);
    words[layout.bufferOffset(i) / 4] = b.ptr;
  });
  kern.params.forEach((p, i) => {
    const v = params[i] ?? 0;
    if (p.type === 'f32') floats[layout.paramOffset(i) / 4] = v;
    else words[layout.paramOffset(i) / 4] = v;
  });
}
