/**
 * A Wasm Device for pages (and any runtime without worker_threads): kernels are compiled modules given by a
 * kernel cache (a compiled artifact's binaries; nothing is rendered, so binaryen is never loaded), instantiated on
 * the calling thread over one wasm32 memory, and every dispatch runs all its workgroups there. The modules are
 * the Node WasmDevice's, and a workgroup's results do not depend on which thread runs it, so outputs are
 * bit-identical to it. The memory is shared (the modules import a shared memory): a page must be cross-origin
 * isolated (COOP/COEP headers) to create it.
 */
import type { Kernel } from '../../kernel/ir.js';
import type { Target } from '../../kernel/target.js';
import { type Device, DeviceError } from '../../runtime/device.js';
import { argBlockLayout, writeArgBlock } from './abi.js';
import { type WasmKernelCache, wasmKernelCacheKey } from './kernel-cache.js';
import { mathImportObject } from './math.js';
import { WasmHeap } from './memory.js';
import { wasmTarget } from './target.js';
import { WA } from './wasm-api.js';

export interface PageBuffer {
  readonly ptr: number;
  readonly bytes: number;
  readonly label: string;
  freed: boolean;
}

export interface PageKernel {
  readonly kernel: Kernel;
  readonly run: (args: number, start: number, end: number, scratch: number) => void;
}

export interface PageWasmDeviceOptions {
  /** Where the compiled modules come from (artifactKernelCache of an artifact). */
  readonly kernels: WasmKernelCache;
  /** The renderer options the modules were made with (the artifact's renderer record). */
  readonly renderer: { readonly relaxedFma: boolean };
}

const ARG_AREA = 4096;

export class PageWasmDevice implements Device<PageBuffer, PageKernel> {
  readonly target: Target = { ...wasmTarget({ threads: 1 }), device: 'wasm32 SIMD128 on the calling thread' };
  private readonly heap: WasmHeap;
  private readonly argPtr: number;
  private readonly loaded = new Map<string, PageKernel['run']>();

  constructor(private readonly opts: PageWasmDeviceOptions) {
    try {
      this.heap = new WasmHeap(1);
    } catch (e) {
      throw new DeviceError(`wasm device: cannot create a shared WebAssembly.Memory (${(e as Error).message}); a page needs cross-origin isolation (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)`);
    }
    this.argPtr = this.heap.alloc(ARG_AREA, 'dispatch arguments');
  }

  alloc(bytes: number, label: string): PageBuffer {
    const ptr = this.heap.alloc(Math.max(4, bytes), label);
    this.heap.bytes(ptr, bytes).fill(0);
    return { ptr, bytes, label, freed: false };
  }

  free(b: PageBuffer): void {
    if (b.freed) throw new DeviceError(`wasm device: buffer '${b.label}' freed twice`);
    b.freed = true;
    this.heap.release(b.ptr);
  }

  private check(b: PageBuffer, off: number, bytes: number, what: string): void {
    if (b.freed) throw new DeviceError(`wasm device: ${what} of freed buffer '${b.label}'`);
    if (off < 0 || bytes < 0 || off + bytes > b.bytes) throw new DeviceError(`wasm device: ${what} of bytes [${off}, ${off + bytes}) outside buffer '${b.label}' of ${b.bytes} bytes`);
  }

  write(b: PageBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.check(b, byteOffset, data.byteLength, 'write');
    this.heap.bytes(b.ptr + byteOffset, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  read(b: PageBuffer, byteOffset = 0, bytes = b.bytes - byteOffset): Promise<Uint8Array> {
    try {
      this.check(b, byteOffset, bytes, 'read');
      return Promise.resolve(this.heap.bytes(b.ptr + byteOffset, bytes).slice());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  compile(kernel: Kernel): Promise<PageKernel> {
    try {
      if (argBlockLayout(kernel).bytes > ARG_AREA) throw new DeviceError(`wasm device: kernel '${kernel.name}' has too many buffers and params for one argument block`);
      const key = wasmKernelCacheKey(kernel, this.opts.renderer);
      let run = this.loaded.get(key);
      if (run === undefined) {
        const bin = this.opts.kernels.get(key, kernel);
        if (bin === undefined) throw new DeviceError(`wasm device: kernel '${kernel.name}' has no compiled module here (this device renders nothing)`);
        const inst = new WA.Instance(new WA.Module(bin.binary), { env: { memory: this.heap.memory }, math: mathImportObject(bin.imports) });
        const fn = inst.exports.run;
        if (typeof fn !== 'function') throw new DeviceError(`wasm device: kernel '${kernel.name}': its module exports no run function`);
        run = fn as PageKernel['run'];
        this.loaded.set(key, run);
      }
      return Promise.resolve({ kernel, run });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dispatch(k: PageKernel, buffers: readonly PageBuffer[], params: readonly number[], grid: readonly [number, number, number]): void {
    const kern = k.kernel;
    writeArgBlock(this.heap, this.argPtr, kern, buffers, params, grid, (m) => new DeviceError(m));
    k.run(this.argPtr, 0, grid[0] * grid[1] * grid[2], this.heap.scratch(0));
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  dispose(): Promise<void> {
    this.loaded.clear();
    return Promise.resolve();
  }
}
