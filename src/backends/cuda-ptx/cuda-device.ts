/**
 * The CUDA Device: kernels rendered to PTX for the device's compute capability and the driver's newest PTX ISA,
 * JIT-compiled by cuModuleLoadDataEx (its error log surfaced in the error), buffers in device memory, copies
 * and launches queued on one stream, optional per-dispatch timing with events. Node-only (koffi -> libcuda.so.1).
 */
import type { Kernel } from '../../kernel/ir.js';
import type { Target } from '../../kernel/target.js';
import { type Device, DeviceError } from '../../runtime/device.js';
import { dispatchProblem } from './bindings.js';
import { ATTR, check, DEFAULT_LIBRARY, type Driver, type Handle, JIT, loadDriver } from './cuda/driver.js';
import { choosePtxTarget, jitErrorMessage, type PtxTargetChoice } from './isa.js';
import { type RenderedPtx, renderPtx } from './render.js';
import { type CudaDeviceLimits, ptxTarget } from './target.js';

export interface CudaBuffer {
  readonly ptr: number;
  readonly bytes: number;
  readonly label: string;
  freed: boolean;
}

export interface CudaKernel {
  readonly kernel: Kernel;
  readonly rendered: RenderedPtx;
  readonly module: Handle;
  readonly fn: Handle;
}

export interface CudaDeviceOptions {
  /** Device ordinal (default 0). */
  readonly ordinal?: number;
  /** The driver library (default libcuda.so.1). */
  readonly library?: string;
  /** --ptx-version / --sm overrides, checked against the driver and the device. */
  readonly isa?: string;
  readonly sm?: string;
  readonly approx?: boolean;
  /** Record an event pair around every dispatch; flush() then fills `timings` (ms per kernel name). */
  readonly profile?: boolean;
}

export interface CudaDeviceInfo extends CudaDeviceLimits {
  readonly ordinal: number;
  readonly driverVersion: number;
}

const JIT_LOG_BYTES = 16384;

export class CudaDevice implements Device<CudaBuffer, CudaKernel> {
  readonly target: Target;
  readonly choice: PtxTargetChoice;
  /** Milliseconds per kernel name, summed over profiled dispatches completed by the last flush. */
  readonly timings = new Map<string, number>();
  private readonly cache = new Map<Kernel, CudaKernel>();
  /** Host buffers of queued copies, kept alive until the stream has consumed them. */
  private pending: Buffer[] = [];
  private readonly events: { name: string; start: Handle; end: Handle }[] = [];
  private disposed = false;

  private constructor(
    private readonly d: Driver,
    readonly info: CudaDeviceInfo,
    private readonly ctx: Handle,
    private readonly stream: Handle,
    private readonly opts: CudaDeviceOptions,
  ) {
    this.choice = choosePtxTarget({
      driverVersion: info.driverVersion,
      computeCapability: info.computeCapability,
      ...(opts.isa !== undefined ? { isa: opts.isa } : {}),
      ...(opts.sm !== undefined ? { sm: opts.sm } : {}),
    });
    this.target = ptxTarget({ choice: this.choice, device: info });
  }

  /** Opens device `ordinal`: cuInit, its attributes, its primary context and a stream. */
  static async open(opts: CudaDeviceOptions = {}): Promise<CudaDevice> {
    const d = await loadDriver(opts.library ?? DEFAULT_LIBRARY);
    const ordinal = opts.ordinal ?? 0;
    check(d, d.cuInit(0), 'cuInit');
    const one = (f: (out: number[]) => number, call: string): number => {
      const out = [0];
      check(d, f(out), call);
      return out[0] ?? 0;
    };
    const driverVersion = one((o) => d.cuDriverGetVersion(o), 'cuDriverGetVersion');
    const count = one((o) => d.cuDeviceGetCount(o), 'cuDeviceGetCount');
    if (ordinal >= count) throw new DeviceError(`cuda: device ${ordinal} requested, the driver sees ${count}`);
    const dev = one((o) => d.cuDeviceGet(o, ordinal), `cuDeviceGet(${ordinal})`);
    const attr = (a: number, what: string): number => one((o) => d.cuDeviceGetAttribute(o, a, dev), `cuDeviceGetAttribute(${what})`);
    const nameBuf = Buffer.alloc(256);
    check(d, d.cuDeviceGetName(nameBuf, nameBuf.length, dev), 'cuDeviceGetName');
    const info: CudaDeviceInfo = {
      ordinal,
      driverVersion,
      name: nameBuf.toString('utf8', 0, Math.max(0, nameBuf.indexOf(0))),
      computeCapability: attr(ATTR.ccMajor, 'compute capability major') * 10 + attr(ATTR.ccMinor, 'compute capability minor'),
      maxThreadsPerBlock: attr(ATTR.maxThreadsPerBlock, 'max threads per block'),
      sharedBytesPerBlock: attr(ATTR.sharedPerBlock, 'shared memory per block'),
      maxGrid: [attr(ATTR.maxGridX, 'max grid x'), attr(ATTR.maxGridY, 'max grid y'), attr(ATTR.maxGridZ, 'max grid z')],
      multiprocessors: attr(ATTR.multiprocessors, 'multiprocessors'),
      totalMemoryBytes: one((o) => d.cuDeviceTotalMem_v2(o, dev), 'cuDeviceTotalMem_v2'),
    };
    const ctx: Handle[] = [null];
    check(d, d.cuDevicePrimaryCtxRetain(ctx, dev), 'cuDevicePrimaryCtxRetain');
    check(d, d.cuCtxSetCurrent(ctx[0]), 'cuCtxSetCurrent');
    const stream: Handle[] = [null];
    check(d, d.cuStreamCreate(stream, 1), 'cuStreamCreate');
    return new CudaDevice(d, info, ctx[0], stream[0], opts);
  }

  /** The device, or a sentence saying why there is none (for tests and `modc` to report in one line). */
  static async probe(opts: CudaDeviceOptions = {}): Promise<CudaDevice | string> {
    try {
      return await CudaDevice.open(opts);
    } catch (e) {
      if (e instanceof DeviceError) return e.message;
      throw e;
    }
  }

  alloc(bytes: number, label: string): CudaBuffer {
    const out = [0];
    const n = Math.max(4, bytes);
    check(this.d, this.d.cuMemAlloc_v2(out, n), `cuMemAlloc_v2 (${n} bytes for '${label}')`);
    const ptr = out[0] ?? 0;
    check(this.d, this.d.cuMemsetD8Async(ptr, 0, n, this.stream), `cuMemsetD8Async ('${label}')`);
    return { ptr, bytes, label, freed: false };
  }

  free(b: CudaBuffer): void {
    if (b.freed) throw new DeviceError(`cuda: buffer '${b.label}' freed twice`);
    b.freed = true;
    check(this.d, this.d.cuMemFree_v2(b.ptr), `cuMemFree_v2 ('${b.label}')`);
  }

  write(b: CudaBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.range(b, byteOffset, data.byteLength, 'write');
    const host = Buffer.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.pending.push(host);
    check(this.d, this.d.cuMemcpyHtoDAsync_v2(b.ptr + byteOffset, host, host.length, this.stream), `cuMemcpyHtoDAsync_v2 (${host.length} bytes into '${b.label}')`);
  }

  read(b: CudaBuffer, byteOffset = 0, bytes = b.bytes - byteOffset): Promise<Uint8Array> {
    try {
      this.range(b, byteOffset, bytes, 'read');
      const host = Buffer.alloc(bytes);
      check(this.d, this.d.cuMemcpyDtoHAsync_v2(host, b.ptr + byteOffset, bytes, this.stream), `cuMemcpyDtoHAsync_v2 (${bytes} bytes from '${b.label}')`);
      this.sync();
      return Promise.resolve(new Uint8Array(host.buffer, host.byteOffset, host.length).slice());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  compile(kernel: Kernel): Promise<CudaKernel> {
    try {
      let k = this.cache.get(kernel);
      if (k === undefined) {
        const rendered = renderPtx(kernel, { target: this.choice, ...(this.opts.approx ? { approx: true } : {}) });
        const image = Buffer.from(`${rendered.ptx}\0`, 'utf8');
        const errLog = Buffer.alloc(JIT_LOG_BYTES);
        const infoLog = Buffer.alloc(JIT_LOG_BYTES);
        const options = Int32Array.from([JIT.errorLog, JIT.errorLogSize, JIT.infoLog, JIT.infoLogSize]);
        const values = BigUint64Array.from([this.d.address(errLog), BigInt(JIT_LOG_BYTES), this.d.address(infoLog), BigInt(JIT_LOG_BYTES)]);
        const mod: Handle[] = [null];
        const r = this.d.cuModuleLoadDataEx(mod, image, options.length, options, values);
        if (r !== 0) {
          const log = errLog.toString('utf8', 0, Math.max(0, errLog.indexOf(0)));
          throw new DeviceError(jitErrorMessage(kernel.name, log || `CUresult ${r}`, this.choice, this.info.driverVersion));
        }
        const fn: Handle[] = [null];
        check(this.d, this.d.cuModuleGetFunction(fn, mod[0], rendered.entry), `cuModuleGetFunction('${rendered.entry}') for kernel '${kernel.name}'`);
        k = { kernel, rendered, module: mod[0], fn: fn[0] };
        this.cache.set(kernel, k);
      }
      return Promise.resolve(k);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dispatch(k: CudaKernel, buffers: readonly CudaBuffer[], params: readonly number[], grid: readonly [number, number, number]): void {
    const kern = k.kernel;
    const problem = dispatchProblem(kern, this.target, buffers, params, grid);
    if (problem) throw new DeviceError(`cuda: refused before launch: ${problem}`);
    // Every argument in an 8-byte slot; kernelParams[i] points at slot i.
    const args = Buffer.alloc(8 * Math.max(1, k.rendered.params.length));
    k.rendered.params.forEach((p, i) => {
      if (p.kind === 'buffer') {
        const b = buffers[i];
        if (b === undefined) throw new DeviceError(`cuda: kernel '${kern.name}' has no buffer for '${p.name}'`);
        args.writeBigUInt64LE(BigInt(b.ptr), 8 * i);
      } else if (p.kind === 'f32') args.writeFloatLE(params[i - kern.buffers.length] ?? 0, 8 * i);
      else args.writeInt32LE((params[i - kern.buffers.length] ?? 0) | 0, 8 * i);
    });
    const base = this.d.address(args);
    const ptrs = BigUint64Array.from(k.rendered.params, (_, i) => base + BigInt(8 * i));
    let ev: { name: string; start: Handle; end: Handle } | undefined;
    if (this.opts.profile) {
      const [s, e]: [Handle[], Handle[]] = [[null], [null]];
      check(this.d, this.d.cuEventCreate(s, 0), 'cuEventCreate');
      check(this.d, this.d.cuEventCreate(e, 0), 'cuEventCreate');
      ev = { name: kern.name, start: s[0], end: e[0] };
      check(this.d, this.d.cuEventRecord(ev.start, this.stream), 'cuEventRecord');
    }
    const [gx, gy, gz] = grid;
    check(this.d, this.d.cuLaunchKernel(k.fn, gx, gy, gz, kern.threads, 1, 1, 0, this.stream, ptrs, null), `cuLaunchKernel('${kern.name}', grid ${grid.join('x')}, ${kern.threads} threads)`);
    if (ev) {
      check(this.d, this.d.cuEventRecord(ev.end, this.stream), 'cuEventRecord');
      this.events.push(ev);
    }
  }

  flush(): Promise<void> {
    try {
      this.sync();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dispose(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.disposed = true;
    check(this.d, this.d.cuCtxSetCurrent(this.ctx), 'cuCtxSetCurrent');
    this.sync();
    for (const k of this.cache.values()) check(this.d, this.d.cuModuleUnload(k.module), `cuModuleUnload('${k.kernel.name}')`);
    this.cache.clear();
    check(this.d, this.d.cuStreamDestroy_v2(this.stream), 'cuStreamDestroy_v2');
    check(this.d, this.d.cuDevicePrimaryCtxRelease_v2(this.info.ordinal), 'cuDevicePrimaryCtxRelease_v2');
    return Promise.resolve();
  }

  /** Waits for the stream, releases staged host copies and collects event timings. */
  private sync(): void {
    check(this.d, this.d.cuStreamSynchronize(this.stream), 'cuStreamSynchronize');
    this.pending = [];
    for (const ev of this.events.splice(0)) {
      check(this.d, this.d.cuEventSynchronize(ev.end), 'cuEventSynchronize');
      const ms = [0];
      check(this.d, this.d.cuEventElapsedTime(ms, ev.start, ev.end), 'cuEventElapsedTime');
      this.timings.set(ev.name, (this.timings.get(ev.name) ?? 0) + (ms[0] ?? 0));
      check(this.d, this.d.cuEventDestroy_v2(ev.start), 'cuEventDestroy_v2');
      check(this.d, this.d.cuEventDestroy_v2(ev.end), 'cuEventDestroy_v2');
    }
  }

  private range(b: CudaBuffer, off: number, bytes: number, what: string): void {
    if (b.freed) throw new DeviceError(`cuda: ${what} of freed buffer '${b.label}'`);
    if (off < 0 || bytes < 0 || off + bytes > b.bytes) throw new DeviceError(`cuda: ${what} of bytes [${off}, ${off + bytes}) outside buffer '${b.label}' of ${b.bytes} bytes`);
  }
}
