/** Compiles rendered kernels to WebAssembly.Module objects, cached by the kernel's structural key. */
import { type Kernel, kernelKey } from '../../kernel/ir.js';
import type { MathImport } from './math.js';
import { WA, type WasmModule } from './wasm-api.js';
import { compileOptimized } from './features.js';
import { renderKernel, type WasmRendererOptions } from './render.js';
import { type WasmKernelBinary, type WasmKernelCache, wasmKernelCacheKey } from './kernel-cache.js';

export interface CompiledKernel {
  readonly kernel: Kernel;
  /** The module as V8 compiles it by default (baseline tier first, lazily). */
  readonly module: WasmModule;
  readonly imports: readonly MathImport[];
  readonly binary: Uint8Array;
  readonly bytes: number;
}

export class KernelCompiler {
  private readonly cache = new Map<string, CompiledKernel>();
  private readonly optimized = new WeakMap<CompiledKernel, WasmModule>();
  /** Kernels rendered (neither in memory nor in the store). */
  rendered = 0;
  constructor(
    readonly options: WasmRendererOptions,
    private readonly store?: WasmKernelCache,
  ) {}

  compile(k: Kernel): CompiledKernel {
    const key = kernelKey(k);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const r = this.binary(k, key);
    let module: WasmModule;
    try {
      module = new WA.Module(r.binary);
    } catch (e) {
      throw new Error(`kernel '${k.name}': the engine rejected its Wasm: ${(e as Error).message}`);
    }
    const c: CompiledKernel = { kernel: k, module, imports: r.imports, binary: r.binary, bytes: r.binary.length };
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

  /** The kernel compiled with the optimising tier (once). */
  optimize(c: CompiledKernel): WasmModule {
    let m = this.optimized.get(c);
    if (m === undefined) {
      m = compileOptimized(c.binary);
      this.optimized.set(c, m);
    }
    return m;
  }

  get size(): number {
    return this.cache.size;
  }
}
