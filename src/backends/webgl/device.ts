/**
 * The Device over gpu.js: one float texture (webgl2 mode) or Float32Array (cpu mode) per buffer, one gpu.js
 * kernel per rendered kernel (./render.ts), reused for every dispatch with the dispatch's output size.
 *
 * A dispatch renders its one output into a NEW texture (gpu.js `immutable` pipeline kernels: WebGL cannot sample
 * the texture it renders into) and then swaps it into the output's handle, deleting the old texture. The handle
 * stays the same object, so the runner's state contract holds without copies: a KV cache whose program output
 * is the state input's buffer is updated "in place" at the handle level (the cache-write gather copies the old
 * rows and takes the new ones into the new texture).
 *
 * Integers travel as their float values in f32 texels, exact up to 2^24: a write of an integer beyond that is
 * refused when a kernel binds it as an integer buffer. Every buffer and every output is one texture of at most
 * MAX_TEXTURE_SIZE^2 and 2^24 elements (gpu.js's GLSL holds integer variables, indices included, as floats).
 */
import type { ElemType, Kernel } from '../../kernel/ir.js';
import type { Target } from '../../kernel/target.js';
import { type Device, DeviceError } from '../../runtime/device.js';
import { helperSet } from './helpers.js';
import { type RenderedKernel, renderGpuJs } from './render.js';
import { MAX_EXACT_INT, textureElements, textureShape, type WebGlLimits, webglTarget } from './target.js';

/** The parts of gpu.js this device uses (structural: gpu.js is an optional dependency loaded on demand). */
export interface GpuJsKernel {
  (...args: unknown[]): unknown;
  setOutput(output: number[]): unknown;
  destroy?(removeCanvasReferences?: boolean): void;
}
export interface GpuJsTexture {
  toArray(): ArrayLike<number>;
  delete(): void;
}
export interface GpuJs {
  createKernel(source: string, settings: Readonly<Record<string, unknown>>): GpuJsKernel;
  destroy(): unknown;
}

export interface WebGlBuffer {
  readonly id: number;
  readonly label: string;
  /** Elements the allocation holds (4 bytes each). */
  readonly elems: number;
  /** How reads interpret the texels: the type last written or computed into it. */
  elem: 'f32' | 'i32' | 'u32';
  /** The contents: a texture (webgl2), an array (cpu), or none yet (zeros). */
  data: GpuJsTexture | Float32Array | undefined;
  /**
   * Host bytes written and not yet uploaded: the device learns how to read them (f32 bits or integer values) only
   * when a kernel binds the buffer with its element type.
   */
  host: Uint8Array | undefined;
  freed: boolean;
}

export interface WebGlCompiled {
  readonly rendered: RenderedKernel;
  readonly kernel: GpuJsKernel;
}

const wordElem = (e: ElemType, where: string): 'f32' | 'i32' | 'u32' => {
  if (e === 'f32' || e === 'i32' || e === 'u32') return e;
  throw new DeviceError(`${where}: ${e} buffers are not bound on WebGL (lowering widens them)`);
};

export class WebGlDevice implements Device<WebGlBuffer, WebGlCompiled> {
  readonly target: Target;
  private nextId = 0;
  private readonly kernels = new Map<string, WebGlCompiled>();
  private upload: GpuJsKernel | undefined;
  private disposed = false;

  constructor(
    private readonly gpu: GpuJs,
    readonly mode: 'webgl2' | 'cpu',
    readonly limits: WebGlLimits,
  ) {
    this.target = webglTarget(limits, mode);
  }

  private get gl(): boolean {
    return this.mode === 'webgl2';
  }

  private settings(output: number, extra: Readonly<Record<string, unknown>>): Record<string, unknown> {
    return {
      output: [output],
      dynamicOutput: true,
      dynamicArguments: true,
      precision: 'single',
      tactic: 'precision',
      loopMaxIterations: 2 ** 30,
      returnType: 'Float',
      ...(this.gl ? { pipeline: true, immutable: true } : {}),
      ...extra,
    };
  }

  private live(b: WebGlBuffer, what: string): void {
    if (this.disposed) throw new DeviceError('webgl: the device is disposed');
    if (b.freed) throw new DeviceError(`webgl: ${what} of freed buffer '${b.label}'`);
  }

  alloc(bytes: number, label: string): WebGlBuffer {
    if (this.disposed) throw new DeviceError('webgl: the device is disposed');
    const elems = Math.max(1, Math.ceil(bytes / 4));
    if (elems > textureElements(this.limits))
      throw new DeviceError(`webgl: buffer '${label}' of ${bytes} bytes needs ${elems} texels; a buffer is one texture of at most ${textureElements(this.limits)} (MAX_TEXTURE_SIZE ${this.limits.maxTextureSize} squared, and 2^24 so that indices are exact)`);
    return { id: this.nextId++, label, elems, elem: 'f32', data: undefined, host: undefined, freed: false };
  }

  free(b: WebGlBuffer): void {
    if (b.freed) return;
    b.freed = true;
    this.release(b.data);
    b.data = undefined;
    b.host = undefined;
  }

  private release(d: GpuJsTexture | Float32Array | undefined): void {
    if (d !== undefined && !(d instanceof Float32Array)) d.delete();
  }

  /** The buffer's values as f32 texel values (zeros when never written). */
  private values(b: WebGlBuffer): Float32Array {
    const out = new Float32Array(b.elems);
    if (b.data === undefined) return out;
    const src = b.data instanceof Float32Array ? b.data : b.data.toArray();
    out.set(src.length > b.elems ? Array.prototype.slice.call(src, 0, b.elems) as number[] : src);
    return out;
  }

  /** Stores host texel values as the buffer's contents (a texture through a copy kernel in webgl2 mode). */
  private setValues(b: WebGlBuffer, v: Float32Array): void {
    if (!this.gl) {
      b.data = v;
      return;
    }
    this.upload ??= this.gpu.createKernel('function (a) { return a[this.thread.x]; }', this.settings(1, { argumentTypes: { a: 'Array' } }));
    this.upload.setOutput([v.length]);
    const tex = this.upload(v) as GpuJsTexture;
    this.release(b.data);
    b.data = tex;
  }

  /** The buffer as host words (4 bytes per element), in the element type its texels hold. */
  private words(b: WebGlBuffer): Uint8Array {
    if (b.host !== undefined) return b.host;
    const vals = this.values(b);
    const words = b.elem === 'f32' ? vals : b.elem === 'i32' ? Int32Array.from(vals, (x) => Math.max(-2147483648, Math.min(2147483647, x))) : Uint32Array.from(vals, (x) => Math.max(0, Math.min(4294967295, x)));
    return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  }

  write(b: WebGlBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.live(b, 'write');
    if (byteOffset % 4 !== 0 || data.byteLength % 4 !== 0) throw new DeviceError(`webgl: write of ${data.byteLength} bytes at byte ${byteOffset} into '${b.label}': WebGL buffers hold 4-byte elements`);
    if (byteOffset + data.byteLength > 4 * b.elems) throw new DeviceError(`webgl: write of ${data.byteLength} bytes at byte ${byteOffset} overflows '${b.label}' (${4 * b.elems} bytes)`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const all = byteOffset === 0 && data.byteLength === 4 * b.elems ? new Uint8Array(bytes.length) : this.words(b).slice();
    all.set(bytes, byteOffset);
    this.release(b.data);
    b.data = undefined;
    b.host = all;
  }

  /** Uploads pending host words as texels of `elem` (integers as their values, refused beyond 2^24). */
  private resolve(b: WebGlBuffer, elem: 'f32' | 'i32' | 'u32'): void {
    const host = b.host;
    if (host === undefined) return;
    const buf = host.buffer.slice(host.byteOffset, host.byteOffset + host.byteLength);
    let vals: Float32Array;
    if (elem === 'f32') vals = new Float32Array(buf);
    else {
      const ints = elem === 'i32' ? new Int32Array(buf) : new Uint32Array(buf);
      for (let i = 0; i < ints.length; i++) {
        const x = ints[i] ?? 0;
        if (x > MAX_EXACT_INT || x < -MAX_EXACT_INT)
          throw new DeviceError(`webgl: '${b.label}' element ${i} is the integer ${x}: integers travel as float32 texel values, exact only up to 2^24 = ${MAX_EXACT_INT}`);
      }
      vals = Float32Array.from(ints);
    }
    b.host = undefined;
    b.elem = elem;
    this.setValues(b, vals);
  }

  read(b: WebGlBuffer, byteOffset = 0, bytes?: number): Promise<Uint8Array> {
    try {
      this.live(b, 'read');
      const all = this.words(b);
      const end = bytes === undefined ? all.length : byteOffset + bytes;
      if (end > all.length) throw new DeviceError(`webgl: read of bytes [${byteOffset}, ${end}) of '${b.label}' (${all.length} bytes)`);
      return Promise.resolve(all.slice(byteOffset, end));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  compile(kernel: Kernel): Promise<WebGlCompiled> {
    try {
      const rendered = renderGpuJs(kernel);
      const hit = this.kernels.get(rendered.source);
      if (hit !== undefined) return Promise.resolve(hit);
      const h = helperSet(rendered.helpers, this.gl ? 'glsl' : 'js');
      const argumentTypes = Object.fromEntries(rendered.args.map((a, i) => [rendered.argNames[i] as string, a.kind === 'buffer' || a.kind === 'old' ? (this.gl ? 'NumberTexture' : 'Array') : 'Float']));
      const k = this.gpu.createKernel(rendered.source, this.settings(1, { argumentTypes, nativeFunctions: h.records, injectedNative: h.injected }));
      const c = { rendered, kernel: k };
      this.kernels.set(rendered.source, c);
      return Promise.resolve(c);
    } catch (e) {
      return Promise.reject(e instanceof DeviceError ? e : new DeviceError(`webgl: kernel '${kernel.name}': ${(e as Error).message}`));
    }
  }

  dispatch(c: WebGlCompiled, buffers: readonly WebGlBuffer[], params: readonly number[], grid: readonly [number, number, number]): void {
    const r = c.rendered;
    const where = `webgl: kernel '${r.name}'`;
    if (grid[1] !== 1 || grid[2] !== 1) throw new DeviceError(`${where}: grid [${grid.join(', ')}]: WebGL dispatches are one-dimensional`);
    const n = grid[0] * r.threads;
    if (n > textureElements(this.limits)) throw new DeviceError(`${where}: ${n} outputs exceed one texture of ${textureElements(this.limits)} (MAX_TEXTURE_SIZE ${this.limits.maxTextureSize} squared, and 2^24 so that indices are exact)`);
    const [rows, cols] = textureShape(n);
    if (rows > this.limits.maxTextureSize || cols > this.limits.maxTextureSize) throw new DeviceError(`${where}: an output texture of ${rows} x ${cols} exceeds MAX_TEXTURE_SIZE ${this.limits.maxTextureSize}`);
    const decls = r.buffers;
    if (buffers.length !== decls.length) throw new DeviceError(`${where}: ${buffers.length} buffers bound, the kernel declares ${decls.length}`);
    const byName = new Map<string, WebGlBuffer>();
    decls.forEach((d, i) => {
      const b = buffers[i] as WebGlBuffer;
      this.live(b, `binding '${d.name}'`);
      byName.set(d.name, b);
    });
    const out = byName.get(r.output.name) as WebGlBuffer;
    if (n > out.elems && r.readsOld) throw new DeviceError(`${where}: ${n} outputs into '${out.label}' of ${out.elems} elements`);
    const elemOf = new Map<WebGlBuffer, 'f32' | 'i32' | 'u32'>();
    decls.forEach((d, i) => elemOf.set(buffers[i] as WebGlBuffer, wordElem(d.elem, where)));
    const texelsOf = (b: WebGlBuffer): GpuJsTexture | Float32Array => {
      this.resolve(b, elemOf.get(b) ?? 'f32');
      if (b.data === undefined) this.setValues(b, new Float32Array(b.elems));
      return b.data as GpuJsTexture | Float32Array;
    };
    const args = r.args.map((a) => {
      switch (a.kind) {
        case 'buffer':
          return texelsOf(byName.get(a.name) as WebGlBuffer);
        case 'old':
          return texelsOf(out);
        case 'param': {
          const i = r.params.indexOf(a.name);
          const v = params[i];
          if (v === undefined) throw new DeviceError(`${where}: param '${a.name}' has no value`);
          if (a.type === 'i32' && Math.abs(v) > MAX_EXACT_INT) throw new DeviceError(`${where}: param '${a.name}' = ${v} is beyond 2^24, which float uniforms hold exactly`);
          return v;
        }
        case 'ngroups':
          return grid[0];
        case 'one':
          return 1;
      }
    });
    c.kernel.setOutput([n]);
    let result: unknown;
    try {
      result = c.kernel(...args);
    } catch (e) {
      throw new DeviceError(`${where}: ${(e as Error).message}`);
    }
    const previous = out.data;
    out.data = this.gl ? (result as GpuJsTexture) : Float32Array.from(result as ArrayLike<number>);
    out.elem = wordElem(r.output.elem, where);
    if (previous !== out.data) this.release(previous);
  }

  flush(): Promise<void> {
    return Promise.resolve();
  }

  dispose(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.disposed = true;
    for (const c of this.kernels.values()) c.kernel.destroy?.();
    this.upload?.destroy?.();
    this.gpu.destroy();
    return Promise.resolve();
  }
}
