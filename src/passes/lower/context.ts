/**
 * The state of lowering one graph to a kernel program: buffers (temporaries, inputs, resident weights and
 * constants) with their storage types, deduplicated kernels, dispatch steps checked against the Target, and the
 * status codes kernels report bad data with. After lowering, `finish` inserts a free step after each temporary's
 * last use (aliases such as reshape share buffers).
 */
import type { Dim, DType } from '../../ir/index.js';
import { type ElemType, elemBytes, type Kernel, kernelKey } from '../../kernel/ir.js';
import type { KernelProgram, ProgramBuffer, ProgramStep, ProgramTensor, ProgramWeight, WeightLayout } from '../../kernel/program.js';
import { weightLayoutKey } from '../../kernel/program.js';
import { packedLength } from '../../kernel/builders/matmul.js';
import { type Target, targetProblems } from '../../kernel/target.js';
import { checkKernel } from '../../kernel/verify.js';

/**
 * A lowered value: a buffer (or a weight not yet given a buffer), its concrete shape and dtype. `gather` makes it a
 * view of selected rows (logical row r is row gather[r] of the buffer: the kept tokens of a route, never copied);
 * `rows` is a dynamic row count (a prefix of shape[0] rows whose length is only known at run time).
 */
export interface LValue {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly ref: number | { readonly weight: string };
  readonly gather?: number;
  readonly rows?: Dim;
}

/** The storage type activations of a dtype take: 16-bit floats are computed and held as (rounded) f32. */
export const elemOf = (d: DType): ElemType => (d === 'i32' || d === 'bool' ? 'i32' : d === 'u32' ? 'u32' : 'f32');
export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export class LoweringError extends Error {
  override name = 'LoweringError';
}

/** What a route lowering leaves for the STRing combine that consumes its row map. */
export interface RouteFacts {
  /** The residual stream the route read. */
  readonly x: number;
  /** y [S, d] with the skipped rows already written (w * x), for the combine to complete. */
  readonly y: number;
  /** Per kept row: its TanhNorm weight if routable, else 1. */
  readonly keptGate: number;
}

export class LoweringContext {
  readonly kernels: Kernel[] = [];
  private readonly kernelIds = new Map<string, number>();
  readonly buffers: ProgramBuffer[] = [];
  readonly steps: ProgramStep[] = [];
  readonly weights: ProgramWeight[] = [];
  private readonly weightIds = new Map<string, number>();
  readonly constants: { buffer: number; data: readonly number[] }[] = [];
  readonly statusMessages: Record<number, string> = {};
  readonly status: number;
  readonly inputs: ProgramTensor[] = [];
  /** Memoised values (a normalised tensor used by several projections), by a key of their inputs. */
  readonly memo = new Map<string, LValue>();
  /** Route facts by the row-map buffer of the route. */
  readonly routes = new Map<number, RouteFacts>();

  constructor(
    readonly target: Target,
    readonly verifyKernels: boolean,
    /** Weight dtypes and shapes by name (from the graph's weight nodes). */
    readonly weightTypes: ReadonlyMap<string, { readonly dtype: DType; readonly shape: readonly number[] }>,
  ) {
    this.status = this.buffer(1, 'i32', 'const', 'status');
    this.constants.push({ buffer: this.status, data: [0] });
  }

  private buffer(elems: number, elem: ElemType, role: ProgramBuffer['role'], label: string): number {
    const bytes = elems * elemBytes(elem);
    if (bytes > this.target.limits.maxBufferBytes)
      throw new LoweringError(`${label}: ${bytes} bytes exceed the ${this.target.name} target's largest buffer (${this.target.limits.maxBufferBytes} bytes)`);
    const id = this.buffers.length;
    this.buffers.push({ id, elems, elem, role, label });
    return id;
  }

  elem(id: number): ElemType {
    const b = this.buffers[id];
    if (b === undefined) throw new LoweringError(`no buffer ${id}`);
    return b.elem;
  }

  temp(elems: number, elem: ElemType, label: string): number {
    const id = this.buffer(elems, elem, 'temp', label);
    this.steps.push({ op: 'alloc', buffer: id });
    return id;
  }

  input(name: string, dtype: DType, shape: readonly number[]): number {
    const id = this.buffer(numel(shape), elemOf(dtype), 'input', `input ${name}`);
    this.inputs.push({ name, buffer: id, dtype, shape });
    return id;
  }

  /** The storage type a weight of `dtype` is uploaded in on this target (its own where the target can bind it). */
  weightElem(dtype: DType): ElemType {
    const c = this.target.caps;
    if (dtype === 'f16') return c.f16Storage ? 'f16' : 'f32';
    if (dtype === 'bf16') return c.bf16Storage ? 'bf16' : 'f32';
    return elemOf(dtype);
  }

  /** The resident buffer of a weight in a layout (one per name, layout and storage type). */
  weight(name: string, layout: WeightLayout): number {
    const t = this.weightTypes.get(name);
    if (t === undefined) throw new LoweringError(`weight '${name}' is not declared by the graph`);
    // Interleaved bf16 pairs are bound as u32 words of two values.
    const pairs = layout.kind === 'packed' && layout.pairs === true;
    const stored = this.weightElem(t.dtype);
    if (pairs && stored !== 'bf16') throw new LoweringError(`weight '${name}': interleaved pairs need bf16 storage, not ${stored}`);
    const elem = pairs ? 'u32' : stored;
    const key = weightLayoutKey(name, layout, elem);
    const hit = this.weightIds.get(key);
    if (hit !== undefined) return hit;
    const rows = t.shape[0] ?? 1;
    const width = numel(t.shape.slice(1));
    let elems: number;
    if (layout.kind === 'plain') elems = (layout.rows ? layout.rows.count : rows) * width;
    else elems = packedLength(layout) / (pairs ? 2 : 1);
    const window = layout.kind === 'plain' && layout.rows ? ` rows ${layout.rows.start}+${layout.rows.count}` : layout.kind === 'packed' && layout.rowStart ? ` rows ${layout.rowStart}+${layout.n}` : '';
    const id = this.buffer(elems, elem, 'weight', `weight ${name}${layout.kind === 'packed' ? (pairs ? ' (packed bf16 pairs)' : ' (packed)') : ''}${window}`);
    this.weightIds.set(key, id);
    this.weights.push({ buffer: id, name, layout, shape: t.shape, dtype: t.dtype });
    return id;
  }

  constant(data: readonly number[], elem: ElemType, label: string): number {
    const id = this.buffer(data.length, elem, 'const', label);
    this.constants.push({ buffer: id, data });
    return id;
  }

  /** The buffer of a value, giving a weight its plain resident buffer on first use. Gathered views are refused. */
  buf(v: LValue): number {
    if (v.gather !== undefined) throw new LoweringError('internal: a gathered view used as a plain buffer (materialise it first)');
    if (typeof v.ref === 'number') return v.ref;
    return this.weight(v.ref.weight, { kind: 'plain' });
  }

  statusCode(message: string): number {
    const code = Object.keys(this.statusMessages).length + 1;
    this.statusMessages[code] = message;
    return code;
  }

  dispatch(kernel: Kernel, buffers: Readonly<Record<string, number>>, params: Readonly<Record<string, Dim>>, grid: readonly [number, number, number], node: string): void {
    const key = kernelKey(kernel);
    let id = this.kernelIds.get(key);
    if (id === undefined) {
      if (this.verifyKernels) checkKernel(kernel);
      id = this.kernels.length;
      this.kernels.push(kernel);
      this.kernelIds.set(key, id);
    }
    const problems = targetProblems(kernel, this.target, grid);
    const limits = this.target.limits;
    const written = new Set<number>();
    const bound = new Map<number, string>();
    for (const b of kernel.buffers) {
      const id2 = buffers[b.name];
      if (id2 === undefined) throw new LoweringError(`${node}: kernel '${kernel.name}' needs buffer '${b.name}'`);
      const pb = this.buffers[id2];
      if (pb === undefined) throw new LoweringError(`${node}: kernel '${kernel.name}' binds unknown buffer ${id2}`);
      if (pb.elem !== b.elem) throw new LoweringError(`${node}: kernel '${kernel.name}' declares '${b.name}' as ${b.elem} but binds ${pb.label} of ${pb.elem}`);
      const bytes = pb.elems * elemBytes(pb.elem);
      if (bytes > limits.maxBindingBytes) problems.push(`binding '${b.name}' (${pb.label}) is ${bytes} bytes, more than the ${limits.maxBindingBytes} one binding may cover`);
      const other = bound.get(id2);
      if (other !== undefined && !this.target.caps.aliasedBindings && (b.access !== 'read' || written.has(id2)))
        problems.push(`${pb.label} is bound as '${other}' and '${b.name}' with one of them written, which the ${this.target.name} target forbids`);
      bound.set(id2, b.name);
      if (b.access !== 'read') written.add(id2);
    }
    // A binding the kernel does not declare is a lowering slip (a plan reader refuses it too).
    for (const name of Object.keys(buffers)) if (!kernel.buffers.some((b) => b.name === name)) throw new LoweringError(`${node}: kernel '${kernel.name}' has no buffer '${name}' to bind`);
    if (problems.length) throw new LoweringError(`${node}: ${problems.join('; ')}`);
    for (const p of kernel.params) if (params[p.name] === undefined) throw new LoweringError(`${node}: kernel '${kernel.name}' needs param '${p.name}'`);
    const groups = grid[0] * grid[1] * grid[2];
    this.steps.push({ op: 'dispatch', kernel: id, buffers, params, grid, parallel: groups >= 2, node });
  }

  /** Inserts frees after last uses (outputs are kept) and returns the program. */
  finish(outputs: readonly ProgramTensor[], dynamic: readonly string[]): KernelProgram {
    const keep = new Set(outputs.map((o) => o.buffer));
    const last = new Map<number, number>();
    this.steps.forEach((s, i) => {
      if (s.op === 'dispatch') for (const b of Object.values(s.buffers)) last.set(b, i);
      else if (s.op === 'alloc' && !last.has(s.buffer)) last.set(s.buffer, i);
    });
    const steps: ProgramStep[] = [];
    const frees = new Map<number, number[]>();
    for (const [b, i] of last) {
      if (keep.has(b) || this.buffers[b]?.role !== 'temp') continue;
      frees.set(i, [...(frees.get(i) ?? []), b]);
    }
    this.steps.forEach((s, i) => {
      steps.push(s);
      for (const b of frees.get(i) ?? []) steps.push({ op: 'free', buffer: b });
    });
    return {
      kernels: this.kernels,
      buffers: this.buffers,
      steps,
      inputs: this.inputs,
      outputs,
      weights: this.weights,
      constants: this.constants,
      dynamic,
      status: this.status,
      statusMessages: this.statusMessages,
    };
  }
}
