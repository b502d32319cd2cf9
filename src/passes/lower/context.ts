/**
 * The state of lowering one graph to a kernel program: buffers (temporaries, inputs, resident weights and
 * constants), deduplicated kernels, dispatch steps, and the status codes kernels report bad data with. After
 * lowering, `finish` inserts a free step after each temporary's last use (aliases such as reshape share buffers).
 */
import type { DType } from '../../ir/index.js';
import type { ElemType, Kernel } from '../../kernel/ir.js';
import { kernelKey } from '../../kernel/ir.js';
import type { KernelProgram, ProgramBuffer, ProgramStep, ProgramTensor, WeightLayout } from '../../kernel/program.js';
import { weightLayoutKey } from '../../kernel/program.js';
import { checkKernel } from '../../kernel/verify.js';
import { type DeviceLimits, limitProblems } from '../../kernel/renderer.js';

/** A lowered value: a buffer (or a weight not yet given a plain buffer), its concrete shape and dtype. */
export interface LValue {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly ref: number | { readonly weight: string };
}

export const elemOf = (d: DType): ElemType => (d === 'i32' || d === 'bool' ? 'i32' : d === 'u32' ? 'u32' : 'f32');
export const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export class LoweringError extends Error {
  override name = 'LoweringError';
}

export class LoweringContext {
  readonly kernels: Kernel[] = [];
  private readonly kernelIds = new Map<string, number>();
  readonly buffers: ProgramBuffer[] = [];
  readonly steps: ProgramStep[] = [];
  readonly weights: { buffer: number; name: string; layout: WeightLayout }[] = [];
  private readonly weightIds = new Map<string, number>();
  readonly constants: { buffer: number; data: readonly number[] }[] = [];
  readonly statusMessages: Record<number, string> = {};
  readonly status: number;
  readonly inputs: ProgramTensor[] = [];

  constructor(readonly verifyKernels: boolean, readonly limits?: DeviceLimits) {
    this.status = this.buffer(1, 'i32', 'const', 'status');
    this.constants.push({ buffer: this.status, data: [0] });
  }

  private buffer(elems: number, elem: ElemType, role: ProgramBuffer['role'], label: string): number {
    const id = this.buffers.length;
    this.buffers.push({ id, elems, elem, role, label });
    return id;
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

  weight(name: string, elems: number, layout: WeightLayout): number {
    const key = weightLayoutKey(name, layout);
    const hit = this.weightIds.get(key);
    if (hit !== undefined) return hit;
    const id = this.buffer(elems, 'f32', 'weight', `weight ${name}${layout.kind === 'packed' ? ' (packed)' : ''}`);
    this.weightIds.set(key, id);
    this.weights.push({ buffer: id, name, layout });
    return id;
  }

  constant(data: readonly number[], elem: ElemType, label: string): number {
    const id = this.buffer(data.length, elem, 'const', label);
    this.constants.push({ buffer: id, data });
    return id;
  }

  /** The buffer of a value, giving a weight its plain resident buffer on first use. */
  buf(v: LValue): number {
    if (typeof v.ref === 'number') return v.ref;
    return this.weight(v.ref.weight, numel(v.shape), { kind: 'plain' });
  }

  statusCode(message: string): number {
    const code = Object.keys(this.statusMessages).length + 1;
    this.statusMessages[code] = message;
    return code;
  }

  dispatch(kernel: Kernel, buffers: Readonly<Record<string, number>>, params: Readonly<Record<string, number>>, grid: readonly [number, number, number], node: string): void {
    const key = kernelKey(kernel);
    let id = this.kernelIds.get(key);
    if (id === undefined) {
      if (this.verifyKernels) checkKernel(kernel);
      id = this.kernels.length;
      this.kernels.push(kernel);
      this.kernelIds.set(key, id);
    }
    if (this.limits) {
      const problems = limitProblems(kernel, this.limits, grid);
      if (problems.length) throw new LoweringError(`${node}: ${problems.join('; ')}`);
    }
    for (const b of kernel.buffers) if (buffers[b.name] === undefined) throw new LoweringError(`${node}: kernel '${kernel.name}' needs buffer '${b.name}'`);
    for (const p of kernel.params) if (params[p.name] === undefined) throw new LoweringError(`${node}: kernel '${kernel.name}' needs param '${p.name}'`);
    const groups = grid[0] * grid[1] * grid[2];
    this.steps.push({ op: 'dispatch', kernel: id, buffers, params, grid, parallel: groups >= 2, node });
  }

  /** Inserts frees after last uses (outputs are kept) and returns the program. */
  finish(outputs: readonly ProgramTensor[]): KernelProgram {
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
      status: this.status,
      statusMessages: this.statusMessages,
    };
  }
}
