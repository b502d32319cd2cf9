/** Compiles rendered kernels to WebAssembly.Module objects, cached by the kernel's structural key. */
import { type Kernel, kernelKey } from '../../kernel/ir.js';
import type { MathImport } from './math.js';
import { WA, type WasmModule } from './wasm-api.js';
import { useOptimizingTier } from './features.js';
import { renderKernel, type WasmRendererOptions } from './render.js';

export interface CompiledKernel {
  readonly kernel: Kernel;
  readonly module: WasmModule;
  readonly imports: readonly MathImport[];
  readonly bytes: number;
}

export class KernelCompiler {
  private readonly cache = new Map<string, CompiledKernel>();
  constructor(readonly options: WasmRendererOptions) {
    useOptimizingTier();
  }

  compile(k: Kernel): CompiledKernel {
    const key = kernelKey(k);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const r = renderKernel(k, this.options);
    const c: CompiledKernel = { kernel: k, module: new WA.Module(r.binary), imports: r.imports, bytes: r.binary.length };
    this.cache.set(key, c);
    return c;
  }

  get size(): number {
    return this.cache.size;
  }
}
