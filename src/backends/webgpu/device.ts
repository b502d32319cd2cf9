/**
 * The WebGPU Device (src/runtime/device.ts) over a GPUDevice, the same code in Node (Dawn) and in browsers:
 * kernels rendered to WGSL and compiled into pipelines cached by WGSL hash (in-flight compiles shared), buffers
 * reused by size class, dispatches recorded into one command encoder until flush() or read() submits it, async
 * readback through staging buffers, and every WebGPU error turned into a DeviceError naming the kernel.
 * Limits are checked before anything is recorded, so a dispatch over the adapter's limits never reaches the GPU.
 */
/// <reference types="@webgpu/types" />
import { hashString } from '../../ir/hash.js';
import type { Kernel } from '../../kernel/ir.js';
import type { Schedules, Target } from '../../kernel/target.js';
import { type Device, DeviceError } from '../../runtime/device.js';
import { WgslError } from './legalize.js';
import { BufferPool, sizeClass, UniformArena } from './pool.js';
import { type RenderedWgsl, renderWgsl, SPECIAL_WORDS } from './render.js';
import { type AdapterDescription, maxGridTotal, webgpuTarget } from './target.js';

// GPUBufferUsage / GPUMapMode / GPUShaderStage values from the WebGPU spec (no globals needed in Node).
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const STORAGE = 0x80;
const MAP_MODE_READ = 0x1;
const STAGE_COMPUTE = 0x4;

export interface WebGpuBuffer {
  readonly gpu: GPUBuffer;
  /** Bytes requested; `size` bytes allocated (a size class, a multiple of 4). */
  readonly bytes: number;
  readonly size: number;
  readonly label: string;
  freed: boolean;
}

export interface WebGpuKernel {
  readonly kernel: Kernel;
  readonly wgsl: RenderedWgsl;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

export interface WebGpuDeviceOptions {
  /** Bytes of freed buffers kept for reuse (default 256 MiB). */
  readonly poolBytes?: number;
  /** An object that must stay alive as long as the device (Dawn's GPU instance in Node). */
  readonly keepAlive?: unknown;
  /** Schedules replacing the Target's own (tests, and families whose GPU builder lowering does not use yet). */
  readonly schedules?: Partial<Schedules>;
  /** Pre-rendered WGSL for a kernel (a compiled artifact's shaders), used instead of rendering it here. */
  readonly shaders?: (kernel: Kernel) => RenderedWgsl | undefined;
}

/** The pipeline cache key: a 64-bit hash of the WGSL and its length (hits also compare the text). */
export function wgslHash(s: string): string {
  return `${hashString(s)}.${s.length}`;
}

/** A WGSL compiler message with the Kernel IR statement of its line. */
export function compileErrorText(w: RenderedWgsl, messages: readonly GPUCompilationMessage[]): string {
  const lines = w.code.split('\n');
  const out = messages.map((m) => {
    const text = lines[m.lineNum - 1] ?? '';
    const node = w.lineNodes[m.lineNum - 1] ?? 'in the declarations and helper functions before the kernel body';
    return `  WGSL line ${m.lineNum}:${m.linePos}: ${m.message}\n    ${m.lineNum} | ${text.trim()}\n    Kernel IR ${node}`;
  });
  return `webgpu: kernel '${w.name}' failed WGSL validation:\n${out.join('\n')}`;
}

export class WebGpuDevice implements Device<WebGpuBuffer, WebGpuKernel> {
  readonly target: Target;
  /** Pipelines compiled (cache misses), for tests and reports. */
  compiles = 0;
  private readonly pipelines = new Map<string, { readonly code: string; readonly p: Promise<Omit<WebGpuKernel, 'kernel'>> }>();
  /** The same Kernel object compiles once without being rendered again. */
  private readonly compiled = new WeakMap<Kernel, Promise<WebGpuKernel>>();
  private readonly pool: BufferPool;
  private readonly staging = new BufferPool(64 << 20);
  private readonly uniforms: UniformArena;
  private enc: GPUCommandEncoder | undefined;
  private pass: GPUComputePassEncoder | undefined;
  /** Kernel names recorded into the open encoder, for errors of the whole command buffer. */
  private batch: string[] = [];
  /** Buffers to destroy once the commands that use them are submitted. */
  private doomed: GPUBuffer[] = [];
  private readonly errors: Promise<string | undefined>[] = [];
  private lostMessage: string | undefined;
  private disposed = false;

  constructor(readonly gpu: GPUDevice, readonly adapter: AdapterDescription, private readonly opts: WebGpuDeviceOptions = {}) {
    const t = webgpuTarget(adapter);
    this.target = opts.schedules ? { ...t, schedules: { ...t.schedules, ...opts.schedules } } : t;
    this.pool = new BufferPool(opts.poolBytes ?? 256 << 20);
    this.uniforms = new UniformArena(gpu, Math.max(16, adapter.limits.minUniformBufferOffsetAlignment));
    void gpu.lost.then((info) => {
      if (!this.disposed) this.lostMessage = `webgpu: device lost (${info.reason}): ${info.message || 'no message'}; create a new device`;
    });
    gpu.onuncapturederror = (ev: GPUUncapturedErrorEvent): void => {
      this.errors.push(Promise.resolve(`webgpu: ${ev.error.message}`));
    };
  }

  /** The object kept alive with the device (Dawn's GPU instance). */
  get keepAlive(): unknown {
    return this.opts.keepAlive;
  }

  private live(what: string): void {
    if (this.lostMessage !== undefined) throw new DeviceError(`${this.lostMessage} (during ${what})`);
    if (this.disposed) throw new DeviceError(`webgpu: ${what} on a disposed device`);
  }

  /** The open encoder, with the compute pass ended (copies and clears go between passes). */
  private encoder(): GPUCommandEncoder {
    this.pass?.end();
    this.pass = undefined;
    if (this.enc === undefined) this.enc = this.gpu.createCommandEncoder({ label: 'modc' });
    return this.enc;
  }

  private scoped<T>(filter: GPUErrorFilter, what: string, f: () => T): T {
    this.gpu.pushErrorScope(filter);
    try {
      return f();
    } finally {
      this.errors.push(this.gpu.popErrorScope().then((e) => (e ? `webgpu: ${what}: ${e.message}` : undefined)));
    }
  }

  alloc(bytes: number, label: string): WebGpuBuffer {
    this.live(`alloc '${label}'`);
    const max = this.adapter.limits.maxBufferSize;
    if (bytes > max) throw new DeviceError(`webgpu: buffer '${label}' of ${bytes} bytes exceeds the adapter's maxBufferSize of ${max}`);
    // Sizes are multiples of 16: vec4 views of a buffer (alignment.ts) then cover every element.
    const size = Math.min(sizeClass(bytes), Math.floor(max / 16) * 16);
    const reused = this.pool.take(size);
    if (reused !== undefined) {
      // A fresh GPUBuffer is zero-filled; a reused one is cleared in command order.
      this.encoder().clearBuffer(reused, 0, size);
      return { gpu: reused, bytes, size, label, freed: false };
    }
    const gpu = this.scoped('out-of-memory', `alloc of '${label}' (${size} bytes)`, () =>
      this.gpu.createBuffer({ size, usage: STORAGE | COPY_SRC | COPY_DST, label }),
    );
    return { gpu, bytes, size, label, freed: false };
  }

  free(b: WebGpuBuffer): void {
    if (b.freed) throw new DeviceError(`webgpu: buffer '${b.label}' freed twice`);
    b.freed = true;
    if (!this.pool.give(b.size, b.gpu)) this.doomed.push(b.gpu);
  }

  private check(b: WebGpuBuffer, off: number, bytes: number, what: string): void {
    this.live(`${what} of '${b.label}'`);
    if (b.freed) throw new DeviceError(`webgpu: ${what} of freed buffer '${b.label}'`);
    if (off < 0 || bytes < 0 || off + bytes > b.bytes) throw new DeviceError(`webgpu: ${what} of bytes [${off}, ${off + bytes}) outside buffer '${b.label}' of ${b.bytes} bytes`);
  }

  write(b: WebGpuBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.check(b, byteOffset, data.byteLength, 'write');
    if (byteOffset % 4 !== 0) throw new DeviceError(`webgpu: write into '${b.label}' at byte offset ${byteOffset}: WebGPU copies need offsets that are multiples of 4`);
    let src = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (src.byteLength % 4 !== 0) {
      // A ragged tail (an odd number of 16-bit elements) is padded into the allocation's spare bytes.
      if (byteOffset + src.byteLength !== b.bytes) throw new DeviceError(`webgpu: write of ${src.byteLength} bytes into '${b.label}' at ${byteOffset}: WebGPU copies need sizes that are multiples of 4 except at the buffer's end`);
      const padded = new Uint8Array(Math.ceil(src.byteLength / 4) * 4);
      padded.set(src);
      src = padded;
    }
    if (src.byteLength === 0) return;
    if (this.enc === undefined) {
      // Nothing recorded yet: the queue write lands before the next submit, in order.
      this.gpu.queue.writeBuffer(b.gpu, byteOffset, src.buffer, src.byteOffset, src.byteLength);
      return;
    }
    // Recorded work must see the old contents: copy from a staging buffer in command order.
    const staging = this.gpu.createBuffer({ size: src.byteLength, usage: COPY_SRC | 0x2, mappedAtCreation: true, label: `modc write ${b.label}` });
    new Uint8Array(staging.getMappedRange()).set(src);
    staging.unmap();
    this.encoder().copyBufferToBuffer(staging, 0, b.gpu, byteOffset, src.byteLength);
    this.doomed.push(staging);
  }

  async read(b: WebGpuBuffer, byteOffset = 0, bytes = b.bytes - byteOffset): Promise<Uint8Array> {
    this.check(b, byteOffset, bytes, 'read');
    const start = Math.floor(byteOffset / 4) * 4;
    const end = Math.min(b.size, Math.ceil((byteOffset + bytes) / 4) * 4);
    const span = end - start;
    if (span === 0) return new Uint8Array(0);
    const size = sizeClass(span);
    const staging = this.staging.take(size) ?? this.gpu.createBuffer({ size, usage: MAP_READ | COPY_DST, label: 'modc readback' });
    this.encoder().copyBufferToBuffer(b.gpu, start, staging, 0, span);
    this.submit();
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, span);
    } catch (e) {
      await this.raise();
      throw new DeviceError(`webgpu: reading '${b.label}' failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const out = new Uint8Array(staging.getMappedRange(0, span)).slice(byteOffset - start, byteOffset - start + bytes);
    staging.unmap();
    if (!this.staging.give(size, staging)) staging.destroy();
    await this.raise();
    return out;
  }

  compile(kernel: Kernel): Promise<WebGpuKernel> {
    const known = this.compiled.get(kernel);
    if (known !== undefined) return known;
    const p = this.compileUncached(kernel);
    this.compiled.set(kernel, p);
    p.catch(() => this.compiled.delete(kernel));
    return p;
  }

  private compileUncached(kernel: Kernel): Promise<WebGpuKernel> {
    try {
      this.live(`compile '${kernel.name}'`);
      const wgsl = this.opts.shaders?.(kernel) ?? renderWgsl(kernel, this.target);
      const key = wgslHash(wgsl.code);
      let hit = this.pipelines.get(key);
      if (hit === undefined || hit.code !== wgsl.code) {
        hit = { code: wgsl.code, p: this.build(wgsl) };
        this.pipelines.set(key, hit);
        hit.p.catch(() => this.pipelines.delete(key));
      }
      return hit.p.then((c) => ({ ...c, kernel }));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private async build(wgsl: RenderedWgsl): Promise<Omit<WebGpuKernel, 'kernel'>> {
    this.compiles++;
    const gpu = this.gpu;
    gpu.pushErrorScope('validation');
    const module = gpu.createShaderModule({ code: wgsl.code, label: wgsl.name });
    const moduleError = gpu.popErrorScope();
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    await moduleError;
    if (errors.length) throw new WgslError(compileErrorText(wgsl, errors));
    const entries: GPUBindGroupLayoutEntry[] = wgsl.bindings.map((b, i) => ({
      binding: i,
      visibility: STAGE_COMPUTE,
      buffer: { type: b.decl.access === 'read' ? 'read-only-storage' : 'storage' },
    }));
    entries.push({ binding: wgsl.bindings.length, visibility: STAGE_COMPUTE, buffer: { type: 'uniform' } });
    gpu.pushErrorScope('validation');
    const layout = gpu.createBindGroupLayout({ entries, label: wgsl.name });
    const pipelineLayout = gpu.createPipelineLayout({ bindGroupLayouts: [layout], label: wgsl.name });
    const layoutError = await gpu.popErrorScope();
    if (layoutError) throw new DeviceError(`webgpu: kernel '${wgsl.name}': bind group layout: ${layoutError.message}`);
    try {
      const pipeline = await gpu.createComputePipelineAsync({ layout: pipelineLayout, compute: { module, entryPoint: 'mdc_main' }, label: wgsl.name });
      return { wgsl, pipeline, layout };
    } catch (e) {
      throw new WgslError(`webgpu: kernel '${wgsl.name}': pipeline creation failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  dispatch(k: WebGpuKernel, buffers: readonly WebGpuBuffer[], params: readonly number[], grid: readonly [number, number, number]): void {
    const kern = k.kernel;
    const name = kern.name;
    this.live(`dispatch of '${name}'`);
    if (buffers.length !== kern.buffers.length) throw new DeviceError(`webgpu: kernel '${name}' takes ${kern.buffers.length} buffers, got ${buffers.length}`);
    if (params.length !== kern.params.length) throw new DeviceError(`webgpu: kernel '${name}' takes ${kern.params.length} params, got ${params.length}`);
    const lim = this.adapter.limits;
    buffers.forEach((b, i) => {
      const d = kern.buffers[i];
      if (b.freed) throw new DeviceError(`webgpu: kernel '${name}' binds freed buffer '${b.label}' as '${d?.name}'`);
      if (b.size > lim.maxStorageBufferBindingSize)
        throw new DeviceError(`webgpu: kernel '${name}': buffer '${b.label}' (${b.size} bytes) bound as '${d?.name}' exceeds the adapter's maxStorageBufferBindingSize of ${lim.maxStorageBufferBindingSize}`);
      for (let j = 0; j < i; j++) {
        const o = kern.buffers[j];
        if (buffers[j] === b && (d?.access !== 'read' || o?.access !== 'read'))
          throw new DeviceError(`webgpu: kernel '${name}' binds buffer '${b.label}' as both '${o?.name}' and '${d?.name}', one of them writable: WebGPU forbids that (caps.aliasedBindings = false)`);
      }
    });
    if (!grid.every((g) => Number.isInteger(g) && g >= 0)) throw new DeviceError(`webgpu: kernel '${name}': grid ${grid.join('x')} is not of non-negative integers`);
    const total = grid[0] * grid[1] * grid[2];
    if (total === 0) return;
    const perDim = lim.maxComputeWorkgroupsPerDimension;
    if (total > maxGridTotal(lim))
      throw new DeviceError(`webgpu: kernel '${name}': grid ${grid.join('x')} has ${total} workgroups, more than ${maxGridTotal(lim)} (maxComputeWorkgroupsPerDimension ${perDim} cubed, and a u32 linear index)`);
    // Fold into as few dimensions as the per-dimension limit allows (the shader recovers the logical id).
    let phys: [number, number, number];
    if (grid.every((g) => g <= perDim)) phys = [grid[0], grid[1], grid[2]];
    else if (total <= perDim * perDim) phys = [perDim, Math.ceil(total / perDim), 1];
    else phys = [perDim, perDim, Math.ceil(total / (perDim * perDim))];

    const w = k.wgsl;
    const slot = this.uniforms.slot(w.uniformBytes);
    grid.forEach((g, i) => slot.view.setInt32(4 * i, g, true));
    slot.view.setUint32(12, total, true);
    SPECIAL_WORDS.forEach((bits, i) => slot.view.setUint32(16 + 4 * i, bits, true));
    kern.params.forEach((p, i) => {
      const off = w.paramOffsets[i] ?? 0;
      const v = params[i] ?? 0;
      if (p.type === 'f32') slot.view.setFloat32(off, v, true);
      else slot.view.setInt32(off, v, true);
    });
    const entries: GPUBindGroupEntry[] = buffers.map((b, i) => ({ binding: i, resource: { buffer: b.gpu, offset: 0, size: b.size } }));
    entries.push({ binding: buffers.length, resource: { buffer: slot.buffer, offset: slot.offset, size: w.uniformBytes } });
    const group = this.scoped('validation', `kernel '${name}': bind group`, () => this.gpu.createBindGroup({ layout: k.layout, entries, label: name }));
    if (this.pass === undefined) this.pass = (this.enc ??= this.gpu.createCommandEncoder({ label: 'modc' })).beginComputePass({ label: 'modc' });
    this.pass.setPipeline(k.pipeline);
    this.pass.setBindGroup(0, group);
    this.pass.dispatchWorkgroups(phys[0], phys[1], phys[2]);
    this.batch.push(name);
  }

  /** Submits the open encoder (if any) with the uniform blocks its dispatches read. */
  private submit(): void {
    if (this.enc === undefined) return;
    this.pass?.end();
    this.pass = undefined;
    const enc = this.enc;
    this.enc = undefined;
    const kernels = [...new Set(this.batch)];
    this.batch = [];
    const what = kernels.length ? `command buffer with kernels ${kernels.map((n) => `'${n}'`).join(', ')}` : 'command buffer';
    this.gpu.pushErrorScope('validation');
    this.gpu.pushErrorScope('out-of-memory');
    this.uniforms.upload(this.gpu.queue);
    this.gpu.queue.submit([enc.finish()]);
    const oom = this.gpu.popErrorScope();
    const val = this.gpu.popErrorScope();
    this.errors.push(oom.then((e) => (e ? `webgpu: ${what}: out of memory: ${e.message}` : undefined)));
    this.errors.push(val.then((e) => (e ? `webgpu: ${what}: ${e.message}` : undefined)));
    for (const b of this.doomed) b.destroy();
    this.doomed = [];
  }

  /** Throws the first WebGPU error reported since the last check. */
  private async raise(): Promise<void> {
    const pending = this.errors.splice(0);
    const msgs = (await Promise.all(pending)).filter((m): m is string => m !== undefined);
    if (this.lostMessage !== undefined) throw new DeviceError(this.lostMessage);
    if (msgs.length) throw new DeviceError(msgs.slice(0, 5).join('\n') + (msgs.length > 5 ? `\n... ${msgs.length - 5} more` : ''));
  }

  async flush(): Promise<void> {
    this.live('flush');
    this.submit();
    await this.gpu.queue.onSubmittedWorkDone();
    await this.raise();
  }

  /** Bytes held by freed buffers waiting for reuse. */
  get pooledBytes(): number {
    return this.pool.bytes;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    try {
      if (this.lostMessage === undefined) {
        this.submit();
        await this.gpu.queue.onSubmittedWorkDone();
      }
    } finally {
      this.disposed = true;
      for (const b of this.doomed) b.destroy();
      this.doomed = [];
      this.pool.destroyAll();
      this.staging.destroyAll();
      this.uniforms.destroy();
      this.gpu.destroy();
    }
  }
}
