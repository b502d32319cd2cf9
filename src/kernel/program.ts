/**
 * A kernel program: what lowering produces for one graph at fixed symbol values, as plain data. Kernels, buffers
 * with sizes, a flat list of alloc / dispatch / free steps, the graph's inputs and outputs, and the weight
 * manifest (which checkpoint tensor goes into which resident buffer, in which layout). Backends execute it.
 */
import type { DType } from '../ir/index.js';
import type { ElemType, Kernel } from './ir.js';

/** How a weight is laid out in its resident buffer. */
export type WeightLayout =
  | { readonly kind: 'plain' }
  /** A Linear weight W [n, k] packed as B = W^T in panels of nr columns, rows optionally scaled by another weight. */
  | { readonly kind: 'packed'; readonly k: number; readonly n: number; readonly nr: number; readonly scaleK?: string };

export const weightLayoutKey = (name: string, l: WeightLayout): string =>
  l.kind === 'plain' ? `${name}|plain` : `${name}|packed:${l.k}x${l.n}/${l.nr}${l.scaleK ? `*${l.scaleK}` : ''}`;

export interface ProgramBuffer {
  readonly id: number;
  readonly elems: number;
  readonly elem: ElemType;
  /** temp: allocated and freed by steps; input/output: bound per run; weight/const: resident. */
  readonly role: 'temp' | 'input' | 'weight' | 'const';
  /** What it holds, for errors and dumps: 'layers.3.mlp.down_proj', 'input input_ids', ... */
  readonly label: string;
}

export type ProgramStep =
  | { readonly op: 'alloc'; readonly buffer: number }
  | { readonly op: 'free'; readonly buffer: number }
  | {
      readonly op: 'dispatch';
      readonly kernel: number;
      readonly buffers: Readonly<Record<string, number>>;
      readonly params: Readonly<Record<string, number>>;
      readonly grid: readonly [number, number, number];
      /** Worth splitting over threads (enough independent workgroups and work). */
      readonly parallel: boolean;
      /** The graph node this step implements, for errors and profiles. */
      readonly node: string;
    };

export interface ProgramTensor {
  readonly name: string;
  readonly buffer: number;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export interface KernelProgram {
  readonly kernels: readonly Kernel[];
  readonly buffers: readonly ProgramBuffer[];
  readonly steps: readonly ProgramStep[];
  readonly inputs: readonly ProgramTensor[];
  readonly outputs: readonly ProgramTensor[];
  readonly weights: readonly { readonly buffer: number; readonly name: string; readonly layout: WeightLayout }[];
  readonly constants: readonly { readonly buffer: number; readonly data: readonly number[] }[];
  /** An i32 buffer kernels set to a nonzero code when they meet bad data (an index out of range). */
  readonly status: number;
  /** status code -> message. */
  readonly statusMessages: Readonly<Record<number, string>>;
}

/** A one-line-per-step listing of a program (the memory plan and dispatch order as data you can read). */
export function programText(p: KernelProgram): string {
  const lines = p.steps.map((s) => {
    if (s.op !== 'dispatch') {
      const b = p.buffers[s.buffer];
      return `${s.op} b${s.buffer} ${b?.elem}[${b?.elems}] ${b?.label ?? ''}`;
    }
    const k = p.kernels[s.kernel];
    const bufs = Object.entries(s.buffers).map(([n, b]) => `${n}=b${b}`).join(' ');
    return `dispatch ${k?.name ?? s.kernel} grid=${s.grid.join('x')} ${bufs} ${JSON.stringify(s.params)}  # ${s.node}`;
  });
  return lines.join('\n');
}
