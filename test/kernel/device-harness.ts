/**
 * Kernel cases every Device runs (Wasm, Dawn WebGPU, the PTX interpreter, CUDA): single kernels with host
 * inputs, dispatched through the Device interface only, with the expected outputs computed by the Wasm
 * KernelRunner (the Wasm renderer is itself checked against the reference interpreter) or by a host formula.
 * A new device adds one line to its own test file: `runDeviceCases(name, () => makeDevice())`.
 */
import { KernelRunner, type HostArray } from '../../src/backends/wasm/kernel-runner.js';
import { elemBytes, type Kernel } from '../../src/kernel/ir.js';
import type { Device } from '../../src/runtime/device.js';

export interface KernelCase {
  readonly name: string;
  readonly kernel: Kernel;
  /** Initial contents of every buffer the kernel declares (outputs too: their initial values matter for partial writes). */
  readonly buffers: Readonly<Record<string, HostArray>>;
  readonly params: Readonly<Record<string, number>>;
  readonly grid: readonly [number, number, number];
  /** How outputs are compared: bit-exact, or floats within abs + rel * |want| (NaN equals NaN). */
  readonly compare: 'exact' | { readonly abs: number; readonly rel: number };
  /** Expected outputs by buffer name; when absent, the Wasm KernelRunner's results are expected. */
  readonly expect?: Readonly<Record<string, HostArray>>;
}

const copy = (a: HostArray): HostArray => a.slice() as HostArray;

/** Runs one case on a device through alloc / write / compile / dispatch / read; returns every written buffer. */
export async function runOnDevice<B, K>(device: Device<B, K>, c: KernelCase): Promise<Record<string, HostArray>> {
  const compiled = await device.compile(c.kernel);
  const handles: B[] = [];
  try {
    for (const b of c.kernel.buffers) {
      const host = c.buffers[b.name];
      if (host === undefined) throw new Error(`case '${c.name}': no data for buffer '${b.name}'`);
      if (host.byteLength !== host.length * elemBytes(b.elem)) throw new Error(`case '${c.name}': buffer '${b.name}' is ${b.elem} but its host array has ${host.BYTES_PER_ELEMENT}-byte elements`);
      const h = device.alloc(Math.max(4, host.byteLength), `${c.name}.${b.name}`);
      handles.push(h);
      device.write(h, host);
    }
    device.dispatch(compiled, handles, c.kernel.params.map((p) => c.params[p.name] ?? Number.NaN), c.grid, true);
    const out: Record<string, HostArray> = {};
    for (let i = 0; i < c.kernel.buffers.length; i++) {
      const b = c.kernel.buffers[i];
      const h = handles[i];
      const host = b === undefined ? undefined : c.buffers[b.name];
      if (b === undefined || h === undefined || host === undefined || b.access === 'read') continue;
      const bytes = await device.read(h, 0, host.byteLength);
      const ctor = host.constructor as { new (buf: ArrayBuffer): HostArray };
      out[b.name] = new ctor(bytes.slice().buffer);
    }
    return out;
  } finally {
    for (const h of handles) device.free(h);
  }
}

/** The expected outputs of a case: its own, or the Wasm KernelRunner's. */
export function expectedOutputs(c: KernelCase, runner: KernelRunner): Record<string, HostArray> {
  if (c.expect) return { ...c.expect };
  const bufs: Record<string, HostArray> = {};
  for (const [k, v] of Object.entries(c.buffers)) bufs[k] = copy(v);
  runner.run(c.kernel, bufs, c.params, c.grid);
  const out: Record<string, HostArray> = {};
  for (const b of c.kernel.buffers) if (b.access !== 'read' && bufs[b.name]) out[b.name] = bufs[b.name] as HostArray;
  return out;
}

/** The first difference between two outputs under a comparison rule, or undefined. */
export function outputMismatch(got: HostArray | undefined, want: HostArray, compare: KernelCase['compare']): string | undefined {
  if (got === undefined) return 'missing output';
  if (got.length !== want.length) return `length ${got.length} vs ${want.length}`;
  const floats = want instanceof Float32Array;
  for (let i = 0; i < want.length; i++) {
    const [a, b] = [got[i] ?? Number.NaN, want[i] ?? Number.NaN];
    if (floats && Number.isNaN(a) && Number.isNaN(b)) continue;
    if (a === b && (compare !== 'exact' || Object.is(a, b))) continue;
    if (compare === 'exact' || !floats) {
      if (!Object.is(a, b) && !(a === 0 && b === 0 && compare !== 'exact')) return `element ${i}: ${a} vs ${b}`;
      continue;
    }
    if (!(Math.abs(a - b) <= compare.abs + compare.rel * Math.abs(b))) return `element ${i}: ${a} vs ${b} (abs ${compare.abs}, rel ${compare.rel})`;
  }
  return undefined;
}
