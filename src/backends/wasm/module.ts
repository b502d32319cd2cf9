/** Compiles rendered kernels to WebAssembly.Module objects, cached by the kernel's structural key. */
import { type Kernel, kernelKey } from '../../kernel/ir.js';
import type { MathImport } from './math.js';
import { WA, type WasmModule } from './wasm-api.js';
import { useOptimizingTier } from './features.js';
import { renderKernel, type WasmRendererOptions } from './render.js';
import { type WasmKernelBinary, type WasmKernelCache, wasmKernelCacheKey } from './kernel-cache.js';

export interface CompiledKernel {
  readonly kernel: Kernel;
  readonly module: WasmModule;
  readonly imports: readonly MathImport[];
  readonly bytes: number;
}

export class KernelCompiler {
  private readonly cache = new Map<string, CompiledKernel>();
  /** Kernels rendered by binaryen (neither in memory nor in the store). */
  rendered = 0;
  constructor(
    readonly options: WasmRendererOptions,
    private readonly store?: WasmKernelCache,
  ) {
    useOptimizingTier();
  }

  compile(k: Kernel): CompiledKernel {
    const key = kernelKey(k);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const r = this.binary(k, key);
    const c: CompiledKernel = { kernel: k, module: new WA.Module(r.binary), imports: r.imports, bytes: r.binary.length };
    this.cache.set(key, c);
    return c;
  }

  private binary(k: Kernel, key: string): WasmKernelBinary {
    const id = this.store === undefined ? '' : wasmKernelCacheKey(k, this.options, key);
    const stored = this.store?.get(id, k);
    if (stored !== undefined) return stored;
    const r = renderKernel(k, this.options);
    this.rendered++;
    this.store?.put(id, k, r);
    return r;
  }

  get size(): number {
    return this.cache.size;
  }
}
