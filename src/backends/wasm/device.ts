/**
 * The Wasm Device: buffers in one shared wasm32 memory, kernels compiled by binaryen into modules every worker
 * instantiates, dispatches run synchronously on the worker pool (the calling thread takes part). Reads and
 * flushes resolve at once, since every dispatch has completed when `dispatch` returns.
 */
import { availableParallelism } from 'node:os';
import type { Kernel } from '../../kernel/ir.js';
import type { MatmulTiling } from '../../kernel/builders/matmul.js';
import type { Target } from '../../kernel/target.js';
import { type Device, DeviceError } from '../../runtime/device.js';
import { relaxedSimdAvailable } from './features.js';
import { WasmHeap } from './memory.js';
import { type CompiledKernel, KernelCompiler } from './module.js';
import type { WasmKernelCache } from './kernel-cache.js';
import { WorkerPool } from './pool.js';
import { argBlockLayout, writeArgBlock } from './abi.js';
import { wasmTarget } from './target.js';

export interface WasmBuffer {
  readonly ptr: number;
  readonly bytes: number;
  readonly label: string;
  freed: boolean;
}

/** A compiled kernel's pool slot and tier: it starts in V8's baseline tier and moves up once it proves hot. */
interface KernelSlot {
  readonly compiled: CompiledKernel;
  id: number;
  /** Milliseconds spent in dispatches of this kernel before it was given the optimising tier. */
  baselineMs: number;
  optimized: boolean;
}

export interface WasmKernel {
  readonly kernel: Kernel;
  readonly slot: KernelSlot;
}

/**
 * A kernel whose dispatches took this long in total gets the optimising tier (a compile of a few ms): V8 usually
 * tiers hot kernels up by itself before that (between the chunk calls of a dispatch), and a kernel run a few
 * times on small data never pays the compile. At 4 ms, tiny-pmod's first run on a busy machine recompiled kernels
 * that were only waiting for a worker thread (76 ms of a 180 ms first run in a profile).
 */
const TIER_UP_MS = 20;

export interface WasmDeviceOptions {
  /** Threads (the calling thread + workers); default: the machine's available parallelism. */
  readonly threads?: number;
  /** Use relaxed-SIMD FMA when the runtime supports it (default true; probed). */
  readonly relaxedSimd?: boolean;
  readonly tiling?: MatmulTiling;
  /** Milliseconds per kernel name, accumulated over dispatches, when given. */
  readonly profile?: Map<string, number>;
  /**
   * Compile for another Target than the Wasm one (its limits must fit this device): how the GPU schedules are
   * tested on the CPU (the Wasm renderer runs a multi-thread workgroup as loops split at barriers).
   */
  readonly target?: Target;
  /** Where rendered kernels are kept between processes (a disk cache, an artifact's files). */
  readonly kernelCache?: WasmKernelCache;
  /**
   * 'adaptive' (default): kernels start in V8's baseline tier and hot ones are recompiled optimised;
   * 'optimized': every kernel is compiled with the optimising tier at once (MODC_WASM_TIER=optimized).
   */
  readonly tier?: 'adaptive' | 'optimized';
  /**
   * Start the worker threads now and wait for them (tests of the threaded path, benchmarks). By default the
   * first dispatch starts them and the calling thread runs alone until they have started: a cold `modc run`
   * of tiny-pmod reached its first logits in 363 [329-403] ms instead of 418 [363-526] when it waited for them.
   */
  readonly startWorkers?: boolean;
}

/** Argument blocks are 4 * (3 + buffers + params) bytes: one 4 KiB area serves every dispatch. */
const ARG_AREA = 4096;

export class WasmDevice implements Device<WasmBuffer, WasmKernel> {
  readonly target: Target;
  readonly threads: number;
  readonly relaxedFma: boolean;
  private readonly heap: WasmHeap;
  private readonly pool: WorkerPool;
  private readonly compiler: KernelCompiler;
  private readonly loaded = new Map<CompiledKernel, KernelSlot>();
  private readonly argPtr: number;
  private readonly profile: Map<string, number> | undefined;
  private readonly eager: boolean;
  /** Kernels rendered (found neither in memory nor in the kernel cache), for compile counts in tests. */
  get compiles(): number {
    return this.compiler.rendered;
  }
  /** Kernels recompiled with the optimising tier after they proved hot. */
  tierUps = 0;

  constructor(opts: WasmDeviceOptions = {}) {
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
    this.relaxedFma = (opts.relaxedSimd ?? true) && relaxedSimdAvailable();
    this.heap = new WasmHeap(this.threads);
    this.pool = new WorkerPool(this.heap, this.threads);
    if (opts.startWorkers === true) this.pool.start();
    this.compiler = new KernelCompiler({ relaxedFma: this.relaxedFma }, opts.kernelCache);
    this.target = opts.target ?? wasmTarget({ threads: this.threads, ...(opts.tiling ? { tiling: opts.tiling } : {}) });
    this.argPtr = this.heap.alloc(ARG_AREA, 'dispatch arguments');
    this.profile = opts.profile;
    this.eager = (opts.tier ?? (process.env.MODC_WASM_TIER === 'optimized' ? 'optimized' : 'adaptive')) === 'optimized';
  }

  alloc(bytes: number, label: string): WasmBuffer {
    const ptr = this.heap.alloc(Math.max(4, bytes), label);
    this.heap.bytes(ptr, bytes).fill(0);
    return { ptr, bytes, label, freed: false };
  }

  free(b: WasmBuffer): void {
    if (b.freed) throw new DeviceError(`wasm device: buffer '${b.label}' freed twice`);
    b.freed = true;
    this.heap.release(b.ptr);
  }

  write(b: WasmBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.check(b, byteOffset, data.byteLength, 'write');
    this.heap.bytes(b.ptr + byteOffset, data.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  read(b: WasmBuffer, byteOffset = 0, bytes = b.bytes - byteOffset): Promise<Uint8Array> {
    this.check(b, byteOffset, bytes, 'read');
    return Promise.resolve(this.heap.bytes(b.ptr + byteOffset, bytes).slice());
  }

  /** A view of a buffer's bytes in wasm memory (valid until the memory grows): zero-copy access for the runner. */
  view(b: WasmBuffer, byteOffset = 0, bytes = b.bytes - byteOffset): Uint8Array {
    this.check(b, byteOffset, bytes, 'view');
    return this.heap.bytes(b.ptr + byteOffset, bytes);
  }

  compile(kernel: Kernel): Promise<WasmKernel> {
    try {
      const c = this.compiler.compile(kernel);
      let slot = this.loaded.get(c);
      if (slot === undefined) {
        slot = this.eager
          ? { compiled: c, id: this.pool.load(this.compiler.optimize(c), c.imports), baselineMs: 0, optimized: true }
          : { compiled: c, id: this.pool.load(c.module, c.imports), baselineMs: 0, optimized: false };
        this.loaded.set(c, slot);
      }
      if (argBlockLayout(kernel).bytes > ARG_AREA) throw new DeviceError(`wasm device: kernel '${kernel.name}' has too many buffers and params for one argument block`);
      return Promise.resolve({ kernel, slot });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dispatch(k: WasmKernel, buffers: readonly WasmBuffer[], params: readonly number[], grid: readonly [number, number, number], parallel = true): void {
    const kern = k.kernel;
    writeArgBlock(this.heap, this.argPtr, kern, buffers, params, grid, (m) => new DeviceError(m));
    const slot = k.slot;
    const t0 = this.profile || !slot.optimized ? performance.now() : 0;
    const groups = grid[0] * grid[1] * grid[2];
    this.pool.dispatch(slot.id, this.argPtr, groups, parallel && groups >= 2 ? this.threads : 1);
    const ms = t0 ? performance.now() - t0 : 0;
    if (this.profile) this.profile.set(kern.name, (this.profile.get(kern.name) ?? 0) + ms);
    if (!slot.optimized && (slot.baselineMs += ms) >= TIER_UP_MS) this.tierUp(slot);
  }

  /** Gives a hot kernel the optimising tier: compiled now, loaded on every thread, used from the next dispatch. */
  private tierUp(slot: KernelSlot): void {
    slot.optimized = true;
    slot.id = this.pool.load(this.compiler.optimize(slot.compiled), slot.compiled.imports);
    this.tierUps++;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  get bytesInUse(): number {
    return this.heap.bytesInUse;
  }

  get peakBytesInUse(): number {
    return this.heap.peakBytesInUse;
  }

  dispose(): Promise<void> {
    return this.pool.dispose();
  }

  private check(b: WasmBuffer, off: number, bytes: number, what: string): void {
    if (b.freed) throw new DeviceError(`wasm device: ${what} of freed buffer '${b.label}'`);
    if (off < 0 || bytes < 0 || off + bytes > b.bytes) throw new DeviceError(`wasm device: ${what} of bytes [${off}, ${off + bytes}) outside buffer '${b.label}' of ${b.bytes} bytes`);
  }
}
