/**
 * A kernel program: what lowering produces for one graph at fixed symbol values, as plain data. Kernels, buffers
 * with sizes and storage types, a flat list of alloc / dispatch / free steps, the graph's inputs and outputs, and
 * the weight manifest (which checkpoint tensor goes into which resident buffer, in which layout and storage type).
 * Dispatch params are numbers, or symbolic dims over the program's dynamic symbols (cache lengths), evaluated by
 * the runner at each run: one program serves every value of those symbols.
 */
import type { Dim, DType } from '../ir/index.js';
import { dimText } from '../ir/index.js';
import type { ElemType, Kernel } from './ir.js';
import { elemBytes } from './ir.js';

/** How a weight is laid out in its resident buffer. Both forms can take a window of the weight's rows. */
export type WeightLayout =
  /** Row-major as in the checkpoint; `rows` keeps rows [start, start + count) of axis 0 (a split weight). */
  | { readonly kind: 'plain'; readonly rows?: { readonly start: number; readonly count: number } }
  /**
   * A PyTorch Linear weight W [N, K] (rows [rowStart, rowStart + n) of it) packed as B = W^T in panels of nr
   * columns, zero padded: the CPU matmul's layout. `pairs`: bf16 values interleaved by 8-column groups
   * (PackedLayout.pairs in kernel/builders/matmul.ts), the buffer holding them as u32 words of two values.
   */
  | { readonly kind: 'packed'; readonly k: number; readonly n: number; readonly nr: number; readonly rowStart?: number; readonly pairs?: true };

export const weightLayoutKey = (name: string, l: WeightLayout, elem: ElemType): string =>
  l.kind === 'plain'
    ? `${name}|${elem}|plain${l.rows ? `[${l.rows.start}+${l.rows.count}]` : ''}`
    : `${name}|${elem}|packed:${l.k}x${l.n}/${l.nr}@${l.rowStart ?? 0}${l.pairs ? '|pairs' : ''}`;

export interface ProgramBuffer {
  readonly id: number;
  readonly elems: number;
  readonly elem: ElemType;
  /** temp: allocated and freed by steps; input: bound per run; weight / const: resident. */
  readonly role: 'temp' | 'input' | 'weight' | 'const';
  /** What it holds, for errors and dumps: 'layers.3.mlp.down_proj', 'input input_ids', ... */
  readonly label: string;
}

export const bufferBytes = (b: Pick<ProgramBuffer, 'elems' | 'elem'>): number => b.elems * elemBytes(b.elem);

export type ProgramStep =
  | { readonly op: 'alloc'; readonly buffer: number }
  | { readonly op: 'free'; readonly buffer: number }
  | {
      readonly op: 'dispatch';
      readonly kernel: number;
      readonly buffers: Readonly<Record<string, number>>;
      /** Values of the kernel's scalar params: numbers, or dims over the program's dynamic symbols. */
      readonly params: Readonly<Record<string, Dim>>;
      readonly grid: readonly [number, number, number];
      /** Worth splitting over host threads (enough independent workgroups and work). */
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

export interface ProgramWeight {
  readonly buffer: number;
  /** Checkpoint tensor name. */
  readonly name: string;
  readonly layout: WeightLayout;
  /** Shape of the checkpoint tensor (checked against the checkpoint before anything is read). */
  readonly shape: readonly number[];
  readonly dtype: DType;
}

export interface KernelProgram {
  readonly kernels: readonly Kernel[];
  readonly buffers: readonly ProgramBuffer[];
  readonly steps: readonly ProgramStep[];
  readonly inputs: readonly ProgramTensor[];
  readonly outputs: readonly ProgramTensor[];
  readonly weights: readonly ProgramWeight[];
  readonly constants: readonly { readonly buffer: number; readonly data: readonly number[] }[];
  /** Symbols left dynamic: each run gives their values (dispatch params depend on them). */
  readonly dynamic: readonly string[];
  /** An i32 buffer kernels set to a nonzero code when they meet bad data (an index out of range). */
  readonly status: number;
  /** status code -> message. */
  readonly statusMessages: Readonly<Record<number, string>>;
}

const paramText = (d: Dim): string => (typeof d === 'number' ? String(d) : dimText(d));

/** A one-line-per-step listing of a program (the dispatch order and buffer lifetimes as data you can read). */
export function programText(p: KernelProgram): string {
  const lines = p.steps.map((s) => {
    if (s.op !== 'dispatch') {
      const b = p.buffers[s.buffer];
      return `${s.op} b${s.buffer} ${b?.elem}[${b?.elems}] ${b?.label ?? ''}`;
    }
    const k = p.kernels[s.kernel];
    const bufs = Object.entries(s.buffers).map(([n, b]) => `${n}=b${b}`).join(' ');
    const params = Object.entries(s.params).map(([n, d]) => `${n}=${paramText(d)}`).join(' ');
    return `dispatch ${k?.name ?? s.kernel} grid=${s.grid.join('x')} ${bufs}${params ? ` ${params}` : ''}  # ${s.node}`;
  });
  const head = [
    ...p.inputs.map((t) => `input ${t.name}: ${t.dtype}[${t.shape.join(', ')}] = b${t.buffer}`),
    ...p.weights.map((w) => `weight ${w.name} ${w.layout.kind}${w.layout.kind === 'plain' && w.layout.rows ? ` rows ${w.layout.rows.start}+${w.layout.rows.count}` : ''}: ${p.buffers[w.buffer]?.elem ?? '?'} = b${w.buffer}`),
    ...(p.dynamic.length ? [`dynamic ${p.dynamic.join(', ')}`] : []),
  ];
  const tail = p.outputs.map((t) => `output ${t.name}: ${t.dtype}[${t.shape.join(', ')}] = b${t.buffer}`);
  return [...head, ...lines, ...tail].join('\n');
}

/** Dispatches of a program per decoder layer (by the node label `layers.{l}.`), for `modc ir --stats`. */
export function dispatchesPerLayer(p: KernelProgram): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of p.steps) {
    if (s.op !== 'dispatch') continue;
    const m = /^layers\.(\d+)[. ]/.exec(s.node) ?? /'layers\.(\d+)[.']/.exec(s.node);
    if (m?.[1] !== undefined) out[m[1]] = (out[m[1]] ?? 0) + 1;
  }
  return out;
}
