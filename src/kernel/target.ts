/**
 * A compilation target: what one device can run (limits), what its code can use (capabilities), and how each
 * kernel family is tiled for it (schedules). Lowering reads only the Target; a backend is a Target, a renderer
 * and a Device. Targets are plain data, so a compiled plan can record the target it was made for.
 */
import type { BlockedAttentionTiling } from './builders/attention-blocked.js';
import type { MatmulTiling } from './builders/matmul.js';
import type { Kernel, KNode } from './ir.js';
import { elemBytes } from './ir.js';

export interface TargetLimits {
  readonly maxThreadsPerWorkgroup: number;
  /** Bytes of workgroup-shared memory one kernel may declare. */
  readonly sharedBytes: number;
  /** Buffers (storage bindings) one kernel may declare. */
  readonly maxBuffersPerKernel: number;
  /** Workgroups per grid axis (x, y, z). */
  readonly maxGrid: readonly [number, number, number];
  /** Largest range of one buffer that one binding of a dispatch may cover. */
  readonly maxBindingBytes: number;
  /** Largest buffer the device allocates. */
  readonly maxBufferBytes: number;
  /** Total device memory the runner may use (weights + state + temporaries). */
  readonly memoryBytes: number;
}

export interface TargetCaps {
  /** Kernels may use f64 arithmetic at all (WGSL has none). */
  readonly f64: boolean;
  /**
   * Lowering computes elementwise functions, reductions and the TanhNorm weight in f64 and rounds once, like the
   * reference interpreter (CPUs). False on GPUs, where f64 runs at a fraction of the f32 rate: f32-only kernels.
   */
  readonly f64Math: boolean;
  /** Buffers of these storage types can be bound (else lowering widens them to f32 at upload). */
  readonly f16Storage: boolean;
  readonly bf16Storage: boolean;
  readonly u8Storage: boolean;
  /** Native f16 arithmetic (WGSL `shader-f16`, PTX f16x2); storage works without it. */
  readonly f16Math: boolean;
  /** f32 lanes of the native vector type that f32x4 maps onto efficiently (4 for SIMD128 and WGSL vec4). */
  readonly vectorWidth: number;
  /** Subgroup (warp) operations, and their width when known. */
  readonly subgroups: boolean;
  readonly subgroupSize?: number;
  /** One buffer may be bound to two bindings of one dispatch when one of them is written (WebGPU forbids it). */
  readonly aliasedBindings: boolean;
}

// ---- schedules: how each kernel family is tiled ----

/** Matmul of activations [M, K] by a weight [N, K] (M above the GEMV threshold). */
export type MatmulSchedule =
  /** CPU: weights packed in panels of 4*nrVec columns, register-blocked micro-kernel, one thread per workgroup. */
  | { readonly kind: 'cpu-packed'; readonly tiling: MatmulTiling }
  /**
   * GPU: weights in their checkpoint layout [N, K]; a workgroup of `threads` computes a tileM x tileN block of C,
   * each thread a (tileM*tileN/threads) register tile, K in steps of tileK; `sharedTiles` stages A and B tiles
   * through workgroup memory (else each thread reads its operands directly: faster on CPU-emulated GPUs).
   */
  | { readonly kind: 'gpu-tiled'; readonly tileM: number; readonly tileN: number; readonly tileK: number; readonly threads: number; readonly sharedTiles: boolean }
  /** Gather form (WebGL): one output element per invocation, reads only (src/kernel/builders/gather/). */
  | { readonly kind: 'gather' };

/** Matrix-vector products for decode: M <= maxRows rows. */
export type GemvSchedule =
  /** CPU: the packed matmul with a one-row register block. */
  | { readonly kind: 'cpu-packed'; readonly maxRows: number; readonly tiling: MatmulTiling }
  /** GPU: one workgroup of `threads` per `rowsPerGroup` output columns, K split over threads, tree reduction. */
  | { readonly kind: 'gpu'; readonly maxRows: number; readonly threads: number; readonly colsPerGroup: number }
  /** Gather form (WebGL): the gather matmul for up to maxRows rows. */
  | { readonly kind: 'gather'; readonly maxRows: number };

export type AttentionSchedule =
  /**
   * CPU: a workgroup per (block of queryBlock queries, head), scores of all keys in workgroup memory; with
   * `blocked`, prefill runs the blocked online-softmax kernel (queries in SIMD lanes, causal key blocks skipped)
   * and up to `decodeRows` queries the decode kernel (one query per workgroup, the cache streamed once).
   */
  | { readonly kind: 'cpu'; readonly queryBlock: number; readonly blocked?: BlockedAttentionTiling; readonly decodeRows?: number }
  /** GPU flash form: online softmax over key blocks of keyBlock, one query per thread or per group of threads. */
  | { readonly kind: 'flash'; readonly queryBlock: number; readonly keyBlock: number; readonly threads: number }
  /** Gather form (WebGL): one output element per invocation, reads only (src/kernel/builders/gather/). */
  | { readonly kind: 'gather' };

/** Row-wise kernels (RMSNorm, LayerNorm, softmax, reductions, inverse RMS). */
export type RowSchedule =
  | { readonly kind: 'cpu'; readonly rowsPerGroup: number }
  /** One workgroup of `threads` per row, tree reduction in workgroup memory. */
  | { readonly kind: 'workgroup'; readonly threads: number }
  /** Gather form (WebGL): one output element per invocation, reads only (src/kernel/builders/gather/). */
  | { readonly kind: 'gather' };

export type ElementwiseSchedule =
  /** CPU: a workgroup walks a contiguous chunk of `chunk` elements. */
  | { readonly kind: 'cpu'; readonly chunk: number }
  /** GPU: one element (or one f32x4 when `vector`) per invocation, `threads` per workgroup. */
  | { readonly kind: 'thread'; readonly threads: number; readonly vector: boolean }
  /** Gather form (WebGL): one output element per invocation, reads only (src/kernel/builders/gather/). */
  | { readonly kind: 'gather' };

export type RouteSchedule =
  /** CPU: tokens in blocks per workgroup; ranks by counting; one workgroup compacts in order. */
  | { readonly kind: 'cpu'; readonly tokensPerGroup: number }
  /** GPU: router GEMV with 32 lanes per token, ranks by counting, compaction by a workgroup prefix scan. */
  | { readonly kind: 'gpu'; readonly threads: number }
  /** Gather form (WebGL): one output element per invocation, reads only (src/kernel/builders/gather/). */
  | { readonly kind: 'gather' };

export interface Schedules {
  readonly matmul: MatmulSchedule;
  readonly gemv: GemvSchedule;
  readonly attention: AttentionSchedule;
  readonly rows: RowSchedule;
  readonly elementwise: ElementwiseSchedule;
  readonly route: RouteSchedule;
  /**
   * Consecutive independent dispatches of one-thread kernels on 1-D grids run as one dispatch (CPU targets: each
   * dispatch is a barrier of the thread pool; src/passes/lower/horizontal.ts).
   */
  readonly fuseDispatches?: boolean;
}

export interface Target {
  /** 'wasm', 'webgpu', 'ptx', ...; with the device it was made for in `device`. */
  readonly name: string;
  /** What the target was derived from ('llvmpipe (Dawn, OpenGL ES)', 'sm_90', 'x64 2 threads'). */
  readonly device: string;
  readonly limits: TargetLimits;
  readonly caps: TargetCaps;
  readonly schedules: Schedules;
}

/** A stable key of a target for plan caches (everything lowering reads). */
export function targetKey(t: Target): string {
  return JSON.stringify([t.name, t.limits, t.caps, t.schedules]);
}

/** Problems of a kernel (and optionally of a dispatch grid) against a target's limits and caps; empty if it fits. */
export function targetProblems(k: Kernel, t: Target, grid?: readonly number[]): string[] {
  const out: string[] = [];
  const { limits, caps } = t;
  if (k.threads > limits.maxThreadsPerWorkgroup) out.push(`${k.threads} threads per workgroup exceed ${limits.maxThreadsPerWorkgroup}`);
  const shared = k.shared.reduce((a, s) => a + 4 * s.length, 0);
  if (shared > limits.sharedBytes) out.push(`${shared} bytes of workgroup memory exceed ${limits.sharedBytes}`);
  if (k.buffers.length > limits.maxBuffersPerKernel) out.push(`${k.buffers.length} buffers exceed ${limits.maxBuffersPerKernel}`);
  for (const b of k.buffers) {
    if (b.elem === 'f16' && !caps.f16Storage) out.push(`buffer '${b.name}' is f16, which the target cannot bind`);
    if (b.elem === 'bf16' && !caps.bf16Storage) out.push(`buffer '${b.name}' is bf16, which the target cannot bind`);
    if (b.elem === 'u8' && !caps.u8Storage) out.push(`buffer '${b.name}' is u8, which the target cannot bind`);
  }
  if (!caps.f64 && usesF64(k.body)) out.push('uses f64 arithmetic, which the target lacks');
  grid?.forEach((g, axis) => {
    const max = limits.maxGrid[axis] ?? 1;
    if (g > max) out.push(`grid axis ${axis} has ${g} workgroups, more than ${max}`);
  });
  return out.map((p) => `kernel '${k.name}': ${p}`);
}

function usesF64(n: KNode): boolean {
  return n.type === 'f64' || n.src.some(usesF64);
}

/** Bytes of `elems` elements of a buffer's storage type. */
export const storageBytes = (elems: number, elem: Parameters<typeof elemBytes>[0]): number => elems * elemBytes(elem);
