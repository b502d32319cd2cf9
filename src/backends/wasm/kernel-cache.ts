/**
 * The hook through which the Wasm backend keeps rendered kernels between processes: a store of module binaries
 * keyed by what determines them (the kernel's code and the renderer's options). The store is injected (a disk
 * cache in Node, the files of a compiled artifact, an in-memory map in a page), so this file stays browser-safe;
 * the store verifies its entries, and anything it cannot vouch for reads as a miss and is rendered again.
 */
import { type Kernel, kernelKey } from '../../kernel/ir.js';
import type { MathImport } from './math.js';
import type { WasmRendererOptions } from './render.js';

/** A rendered kernel: the module binary and the host math functions it imports. */
export interface WasmKernelBinary {
  readonly binary: Uint8Array;
  readonly imports: readonly MathImport[];
}

export interface WasmKernelCache {
  /** The binary stored for `key`, or undefined (absent, or failing the store's checks). */
  get(key: string, kernel: Kernel): WasmKernelBinary | undefined;
  /** Stores a binary just rendered for `key`. */
  put(key: string, kernel: Kernel, entry: WasmKernelBinary): void;
}

/**
 * Everything a kernel's binary depends on besides the compiler's own version (which the store adds): the
 * kernel's structural key (kernelKey, computed by the caller when it has it) and the renderer's options.
 */
export function wasmKernelCacheKey(k: Kernel, opts: WasmRendererOptions, key: string = kernelKey(k)): string {
  return `wasm|relaxedFma=${opts.relaxedFma ? 1 : 0}|${key}`;
}
