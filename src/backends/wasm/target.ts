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
 * prefill reads; 4 panels per workgroup; K unrolled by 4 into (gemvSets) 2 independent accumulator sets. Measured
 * at 1x4096x4096 on 2 threads, all variants resident and run alternately: f32 weights stream at the same rate
 * (43.6-43.9 GB/s) unrolled by 4 or 8, bf16 weights at 41.4 GB/s unrolled by 4 against 37.4 by 8 (why is not
 * verified in V8's machine code; fewer values live across the unrolled body is the likely reason).
 */
export function gemvTiling(t: MatmulTiling): MatmulTiling {
  return { mr: 1, nrVec: t.nrVec, kc: 1 << 30, mc: 1, panels: 4, unroll: 4, aVector: true };
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
