/**
 * The one program runner: executes any KernelProgram's steps on any Device. Loading a program checks the
 * checkpoint against the weight manifest and the device's memory before a single weight is read, compiles the
 * kernels, uploads weights once per device (shared by every program of the same weight store), and allocates
 * the slots of the memory plan once. A run writes the inputs, binds state tensors (the KV cache) in place,
 * dispatches, reads the status word and the outputs, and maps a kernel's status code to an error naming the node.
 */
import { bf16BitsToNumber, evalDim, ExecutionError, f16BitsToNumber, type HostTensor, makeTensor, type TensorStore } from '../ir/index.js';
import { elemBytes, type ElemType, kernelKey } from '../kernel/ir.js';
import { bufferBytes, type KernelProgram, weightLayoutKey } from '../kernel/program.js';
import type { Device } from './device.js';
import { planSlots, type SlotPlan } from './memory-plan.js';
import type { TensorMap } from './executor.js';
import { encodeElems, rawWeightChunks, UploadScratch, weightBytes, weightValueElem } from './weights.js';

export class DeviceMemoryError extends Error {
  override name = 'DeviceMemoryError';
}

const gib = (b: number): string => `${(b / 2 ** 30).toFixed(2)} GiB`;

/** What the runners of one device share: its resident weights (per weight store) and its memory account. */
export class DeviceResidency<B> {
  private readonly weights = new WeakMap<TensorStore, Map<string, B>>();
  /** Bytes allocated through runners on this device. */
  used = 0;

  constructor(readonly device: Device<B, unknown>) {}

  resident(store: TensorStore, key: string): B | undefined {
    return this.weights.get(store)?.get(key);
  }

  /** Allocates and accounts a buffer. */
  alloc(bytes: number, label: string): B {
    const b = this.device.alloc(bytes, label);
    this.used += bytes;
    return b;
  }

  release(b: B, bytes: number): void {
    this.device.free(b);
    this.used -= bytes;
  }

  keep(store: TensorStore, key: string, b: B): void {
    let m = this.weights.get(store);
    if (m === undefined) {
      m = new Map();
      this.weights.set(store, m);
    }
    m.set(key, b);
  }
}

export interface RunOptions<B> {
  /** Values of the program's dynamic symbols. */
  readonly symbols?: Readonly<Record<string, number>>;
  /** State tensors by name: inputs of these names read them, outputs of these names must update them in place. */
  readonly state?: ReadonlyMap<string, B>;
}

const arrayFor = (elem: ElemType, bytes: Uint8Array): Float32Array | Int32Array | Uint32Array => {
  const copy = bytes.slice();
  if (elem === 'f16' || elem === 'bf16') {
    const bits = new Uint16Array(copy.buffer, 0, copy.byteLength / 2);
    return Float32Array.from(bits, elem === 'f16' ? f16BitsToNumber : bf16BitsToNumber);
  }
  if (elem === 'u8') return Int32Array.from(copy);
  if (elem === 'f32') return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
  if (elem === 'u32') return new Uint32Array(copy.buffer, 0, copy.byteLength / 4);
  return new Int32Array(copy.buffer, 0, copy.byteLength / 4);
};

function padTo4(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.max(4, Math.ceil(b.byteLength / 4) * 4));
  out.set(b);
  return out;
}

export class ProgramRunner<B, K> {
  private disposed = false;

  private constructor(
    readonly program: KernelProgram,
    private readonly device: Device<B, K>,
    private readonly residency: DeviceResidency<B>,
    private readonly kernels: readonly K[],
    /** Program buffer id -> device buffer, for weights, constants and inputs. */
    private readonly bound: ReadonlyMap<number, B>,
    private readonly slots: readonly B[],
    readonly plan: SlotPlan,
    /** Buffers this runner allocated (constants, slots, inputs) and their sizes. */
    private readonly owned: readonly (readonly [B, number])[],
  ) {}

  /** Bytes a program needs on a device beyond what is already resident there for this store. */
  static requiredBytes<B>(program: KernelProgram, store: TensorStore, residency: DeviceResidency<B>): { weights: number; activations: number } {
    let weights = 0;
    for (const w of program.weights) {
      const b = program.buffers[w.buffer];
      if (b !== undefined && residency.resident(store, weightLayoutKey(w.name, w.layout, b.elem)) === undefined) weights += bufferBytes(b);
    }
    const plan = planSlots(program);
    const others = program.buffers.filter((b) => b.role === 'input' || b.role === 'const').reduce((a, b) => a + Math.max(4, bufferBytes(b)), 0);
    return { weights, activations: plan.slotBytes + others };
  }

  static async load<B, K>(device: Device<B, K>, program: KernelProgram, store: TensorStore, residency: DeviceResidency<B>, stateInputs: ReadonlySet<string> = new Set()): Promise<ProgramRunner<B, K>> {
    // 1. The checkpoint against the manifest, from header data only.
    const problems: string[] = [];
    for (const w of program.weights) {
      if (!store.has(w.name)) problems.push(`missing '${w.name}'`);
      else if (store.describe) {
        const t = store.describe(w.name);
        if (t.shape.join(',') !== w.shape.join(',')) problems.push(`'${w.name}' has shape [${t.shape.join(', ')}], the model needs [${w.shape.join(', ')}]`);
      }
    }
    if (problems.length) throw new ExecutionError(`the weights do not match the model: ${problems.join('; ')}`);
    // 2. Device memory, before anything is read or allocated.
    const need = ProgramRunner.requiredBytes(program, store, residency);
    const limit = device.target.limits.memoryBytes;
    if (residency.used + need.weights + need.activations > limit)
      throw new DeviceMemoryError(
        `${device.target.name} backend (${device.target.device}): the model needs ${gib(need.weights)} of weights (in their stored dtypes) and ` +
          `${gib(need.activations)} of activations, ${gib(residency.used)} are in use, and the device holds ${gib(limit)}`,
      );
    // 3. Kernels (each distinct kernel once; devices cache across programs too).
    const byKey = new Map<string, Promise<K>>();
    const kernels = await Promise.all(
      program.kernels.map((k, i) => {
        const key = kernelKey(k);
        let p = byKey.get(key);
        if (p === undefined) {
          // A kernel the device refuses (a WGSL validation error, a PTX JIT error) is reported with the node using it.
          p = device.compile(k).catch((e: unknown) => {
            const step = program.steps.find((st) => st.op === 'dispatch' && st.kernel === i);
            const where = step?.op === 'dispatch' ? `${step.node}: ` : '';
            throw new ExecutionError(`${where}${e instanceof Error ? e.message : String(e)}`);
          });
          byKey.set(key, p);
        }
        return p;
      }),
    );
    // 4. Buffers: weights (resident, shared), constants, inputs, slots.
    const bound = new Map<number, B>();
    const owned: [B, number][] = [];
    const own = (bytes: number, label: string): B => {
      const b = residency.alloc(bytes, label);
      owned.push([b, bytes]);
      return b;
    };
    try {
      const scratch = new UploadScratch();
      for (const w of program.weights) {
        const pb = program.buffers[w.buffer];
        if (pb === undefined) continue;
        const key = weightLayoutKey(w.name, w.layout, pb.elem);
        let b = residency.resident(store, key);
        if (b === undefined) {
          // Stored bytes of the buffer's type go up as they are (a bf16 weight is not widened on the host), in whole
          // 4-byte words: devices copy words (an odd count of 16-bit elements gets a zero pad).
          const raw = store.raw !== undefined && store.describe?.(w.name).dtype === weightValueElem(w, pb.elem) ? store.raw(w.name) : undefined;
          const chunks = raw !== undefined ? rawWeightChunks(raw, w, pb.elem, scratch) : undefined;
          const target = residency.alloc(Math.max(4, Math.ceil(bufferBytes(pb) / 4) * 4), pb.label);
          b = target;
          const words = (x: Uint8Array): Uint8Array => (x.byteLength % 4 === 0 && x.byteLength > 0 ? x : padTo4(x));
          if (chunks !== undefined) for (const c of chunks) device.write(target, words(c.bytes), c.offset);
          else device.write(target, words(weightBytes(store.get(w.name), w, pb.elem)));
          residency.keep(store, key, b);
        }
        bound.set(w.buffer, b);
      }
      for (const c of program.constants) {
        const pb = program.buffers[c.buffer];
        if (pb === undefined) continue;
        const b = own(Math.max(4, bufferBytes(pb)), pb.label);
        device.write(b, encodeElems(c.data, pb.elem));
        bound.set(c.buffer, b);
      }
      for (const t of program.inputs) {
        if (stateInputs.has(t.name)) continue;
        const pb = program.buffers[t.buffer];
        if (pb !== undefined) bound.set(t.buffer, own(Math.max(4, bufferBytes(pb)), pb.label));
      }
      const plan = planSlots(program);
      const slots = plan.slots.map((bytes, i) => own(bytes, `activation slot ${i}`));
      return new ProgramRunner(program, device, residency, kernels, bound, slots, plan, owned);
    } catch (e) {
      for (const [b, bytes] of owned) residency.release(b, bytes);
      throw e;
    }
  }

  async run(inputs: TensorMap, opts: RunOptions<B> = {}): Promise<Record<string, HostTensor>> {
    if (this.disposed) throw new ExecutionError('run of a disposed program');
    const p = this.program;
    const state = opts.state ?? new Map<string, B>();
    const buffers = new Map<number, B>(this.bound);
    for (const t of p.inputs) {
      const s = state.get(t.name);
      if (s !== undefined) {
        buffers.set(t.buffer, s);
        continue;
      }
      const host = inputs[t.name];
      const b = this.bound.get(t.buffer);
      const pb = p.buffers[t.buffer];
      if (host === undefined) throw new ExecutionError(`missing input '${t.name}'`);
      if (b === undefined || pb === undefined) throw new ExecutionError(`input '${t.name}' has no buffer`);
      if (host.data.length !== pb.elems) throw new ExecutionError(`input '${t.name}' has ${host.data.length} elements, the program expects ${pb.elems}`);
      this.device.write(b, encodeElems(host.data, pb.elem));
    }
    for (const [id, slot] of this.plan.slotOf) {
      const b = this.slots[slot];
      if (b !== undefined) buffers.set(id, b);
    }
    const status = buffers.get(p.status);
    if (status === undefined) throw new ExecutionError('the program has no status buffer');
    this.device.write(status, new Int32Array(1));
    const symbols = opts.symbols ?? {};
    for (const s of p.dynamic) if (symbols[s] === undefined) throw new ExecutionError(`dynamic symbol '${s}' needs a value for this run`);
    for (const step of p.steps) {
      if (step.op !== 'dispatch') continue;
      const k = p.kernels[step.kernel];
      const compiled = this.kernels[step.kernel];
      if (k === undefined || compiled === undefined) throw new ExecutionError(`${step.node}: bad kernel index ${step.kernel}`);
      const binds = k.buffers.map((decl) => {
        const id = step.buffers[decl.name];
        const b = id === undefined ? undefined : buffers.get(id);
        if (b === undefined) throw new ExecutionError(`${step.node}: buffer '${decl.name}' of kernel '${k.name}' is not bound`);
        return b;
      });
      const params = k.params.map((q) => {
        const d = step.params[q.name];
        if (d === undefined) throw new ExecutionError(`${step.node}: param '${q.name}' of kernel '${k.name}' has no value`);
        return typeof d === 'number' ? d : evalDim(d, symbols);
      });
      try {
        this.device.dispatch(compiled, binds, params, step.grid, step.parallel);
      } catch (e) {
        throw new ExecutionError(`${step.node}: kernel '${k.name}': ${(e as Error).message}`);
      }
    }
    const code = new Int32Array((await this.device.read(status, 0, 4)).slice().buffer)[0] ?? 0;
    if (code !== 0) throw new ExecutionError(p.statusMessages[code] ?? `kernel status ${code}`);
    const out: Record<string, HostTensor> = {};
    for (const o of p.outputs) {
      const s = state.get(o.name);
      if (s !== undefined) {
        const inp = p.inputs.find((t) => t.name === o.name);
        if (inp === undefined || inp.buffer !== o.buffer) throw new ExecutionError(`state output '${o.name}' is not written in place (the program copies it)`);
        continue;
      }
      const b = buffers.get(o.buffer);
      const pb = p.buffers[o.buffer];
      if (b === undefined || pb === undefined) throw new ExecutionError(`output '${o.name}' has no buffer`);
      const n = o.shape.reduce((a, c) => a * c, 1);
      const bytes = await this.device.read(b, 0, n * elemBytes(pb.elem));
      out[o.name] = makeTensor(o.dtype, o.shape, arrayFor(pb.elem, bytes));
    }
    return out;
  }

  /** Releases the runner's own buffers (weights stay resident for other programs of the store). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const [b, bytes] of this.owned) this.residency.release(b, bytes);
  }
}
