/**
 * The Wasm Target: CPU schedules (one thread per workgroup, cache blocks, packed weights, SIMD128 f32x4), the
 * limits of wasm32 memory, and the capabilities of the renderer (f64, every storage type).
 */
import { BLOCKED_ATTENTION_TILING } from '../../kernel/builders/attention-blocked.js';
import { CPU_TILING, type MatmulTiling } from '../../kernel/builders/matmul.js';
import type { Target } from '../../kernel/target.js';
import { MAX_BYTES } from './memory.js';
import { WASM_LIMITS } from './abi.js';

export interface WasmTargetOptions {
  readonly threads: number;
  readonly tiling?: MatmulTiling;
}

/**
 * The GEMV tiling (gemv.ts) for a matmul tiling: the same panel width, so decode reads the packed weights that
 * prefill reads; 16 panels per workgroup; K unrolled by 4 into (gemvSets) 2 independent accumulator sets.
 * Unrolled by 4 or 8, f32 weights streamed at the same rate and bf16 ones faster by 4 (41.4 against 37.4 GB/s at
 * 1x4096x4096, 2 threads, all variants resident and run alternately). A thread claims one workgroup at a time
 * and each claim starts a new sequential stream: 256 MiB of distinct 1024 x 2816 weights, 2 threads, variants
 * alternating (2026-12-02), streamed at 29.7 / 35.0 / 39.2 GB/s bf16 and 38.8 / 43.6 / 44.8 f32 with 4 / 8 / 16
 * panels per workgroup, against 39.3 and 42.8 for a Wasm kernel that only reads; likewise at 1024 x 1024, 2816 x
 * 1024 and 4096 x 4096. Reading two panels side by side to share the A broadcasts changed nothing measurable.
 */
export function gemvTiling(t: MatmulTiling): MatmulTiling {
  return { mr: 1, nrVec: t.nrVec, kc: 1 << 30, mc: 1, panels: 16, unroll: 4, aVector: true };
}

export function wasmTarget(opts: WasmTargetOptions): Target {
  const tiling = opts.tiling ?? CPU_TILING;
  return {
    name: 'wasm',
    device: `wasm32 SIMD128, ${opts.threads} thread${opts.threads === 1 ? '' : 's'}`,
    limits: {
      maxThreadsPerWorkgroup: WASM_LIMITS.maxThreadsPerWorkgroup,
      sharedBytes: WASM_LIMITS.sharedBytes,
      maxBuffersPerKernel: WASM_LIMITS.maxBuffersPerKernel,
      maxGrid: [WASM_LIMITS.maxGridSize, WASM_LIMITS.maxGridSize, WASM_LIMITS.maxGridSize],
      maxBindingBytes: MAX_BYTES,
      maxBufferBytes: MAX_BYTES,
      memoryBytes: MAX_BYTES,
    },
    caps: { f64: true, f64Math: true, f16Storage: true, bf16Storage: true, u8Storage: true, f16Math: false, vectorWidth: 4, subgroups: false, aliasedBindings: true },
    schedules: {
      matmul: { kind: 'cpu-packed', tiling },
      gemv: { kind: 'cpu-packed', maxRows: 4, tiling: gemvTiling(tiling) },
      attention: { kind: 'cpu', queryBlock: 8, blocked: BLOCKED_ATTENTION_TILING, decodeRows: 4 },
      rows: { kind: 'cpu', rowsPerGroup: 8 },
      elementwise: { kind: 'cpu', chunk: 4096 },
      route: { kind: 'cpu', tokensPerGroup: 16 },
      fuseDispatches: true,
    },
  };
}
