/**
 * `ptx-emu`: a Device that renders every kernel to PTX and runs the PTX text on the CPU with the PTX
 * interpreter (emu/), so the emitted PTX itself is tested where no GPU is. Dispatches run synchronously;
 * buffers live in the interpreter's device memory. The Target is the PTX Target (sm_80 defaults).
 */
import type { Kernel } from '../../kernel/ir.js';
import type { Schedules, Target } from '../../kernel/target.js';
import { type Device, DeviceError } from '../../runtime/device.js';
import { dispatchProblem } from './bindings.js';
import type { DecodedEntry } from './emu/decode.js';
import { PtxMachine } from './emu/machine.js';
import { choosePtxTarget, type PtxTargetChoice } from './isa.js';
import { type RenderedPtx, renderPtx } from './render.js';
import { ptxTarget } from './target.js';

export interface EmuBuffer {
  readonly addr: number;
  readonly bytes: number;
  readonly label: string;
  freed: boolean;
}

export interface EmuKernel {
  readonly kernel: Kernel;
  readonly rendered: RenderedPtx;
  readonly entry: DecodedEntry;
}

export interface PtxEmuOptions {
  readonly choice?: PtxTargetChoice;
  /** f32 transcendentals through .approx instructions (modelled exactly by the interpreter). */
  readonly approx?: boolean;
  /**
   * The Target's schedules (default: the PTX GPU schedules). Lowering in this build has builders for the CPU
   * schedules only, so running whole models on the interpreter today takes CPU schedules (one thread per
   * workgroup): the kernels are then still rendered to PTX and interpreted.
   */
  readonly schedules?: Schedules;
}

export class PtxEmuDevice implements Device<EmuBuffer, EmuKernel> {
  readonly target: Target;
  readonly machine = new PtxMachine();
  private readonly choice: PtxTargetChoice;
  private readonly cache = new Map<Kernel, EmuKernel>();
  /** Wall time of dispatches (ms) and instructions they executed, for instructions/s. */
  dispatchMs = 0;

  constructor(private readonly opts: PtxEmuOptions = {}) {
    this.choice = opts.choice ?? choosePtxTarget();
    const t = ptxTarget({ choice: this.choice });
    this.target = opts.schedules ? { ...t, device: `${t.device} (schedules overridden)`, schedules: opts.schedules } : t;
  }

  alloc(bytes: number, label: string): EmuBuffer {
    return { addr: this.machine.memory.alloc(Math.max(4, bytes), label), bytes, label, freed: false };
  }

  free(b: EmuBuffer): void {
    if (b.freed) throw new DeviceError(`ptx-emu: buffer '${b.label}' freed twice`);
    b.freed = true;
    this.machine.memory.release(b.addr);
  }

  write(b: EmuBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.check(b, byteOffset, data.byteLength, 'write');
    this.machine.write(b.addr + byteOffset, data);
  }

  read(b: EmuBuffer, byteOffset = 0, bytes = b.bytes - byteOffset): Promise<Uint8Array> {
    try {
      this.check(b, byteOffset, bytes, 'read');
      return Promise.resolve(this.machine.read(b.addr + byteOffset, bytes));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  compile(kernel: Kernel): Promise<EmuKernel> {
    try {
      let k = this.cache.get(kernel);
      if (k === undefined) {
        const rendered = renderPtx(kernel, { target: this.choice, ...(this.opts.approx ? { approx: true } : {}) });
        const entry = this.machine.load(rendered.ptx).entries.get(rendered.entry);
        if (entry === undefined) throw new DeviceError(`ptx-emu: kernel '${kernel.name}': entry '${rendered.entry}' missing from its PTX`);
        k = { kernel, rendered, entry };
        this.cache.set(kernel, k);
      }
      return Promise.resolve(k);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  dispatch(k: EmuKernel, buffers: readonly EmuBuffer[], params: readonly number[], grid: readonly [number, number, number]): void {
    const kern = k.kernel;
    const problem = dispatchProblem(kern, this.target, buffers, params, grid);
    if (problem) throw new DeviceError(`ptx-emu: ${problem}`);
    const t0 = performance.now();
    this.machine.launch(k.entry, grid, [kern.threads, 1, 1], [...buffers.map((b) => b.addr), ...params]);
    this.dispatchMs += performance.now() - t0;
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  dispose(): Promise<void> {
    this.cache.clear();
    return Promise.resolve();
  }

  private check(b: EmuBuffer, off: number, bytes: number, what: string): void {
    if (b.freed) throw new DeviceError(`ptx-emu: ${what} of freed buffer '${b.label}'`);
    if (off < 0 || bytes < 0 || off + bytes > b.bytes) throw new DeviceError(`ptx-emu: ${what} of bytes [${off}, ${off + bytes}) outside buffer '${b.label}' of ${b.bytes} bytes`);
  }
}
