/**
 * The Wasm Target: CPU schedules (one thread per workgroup, cache blocks, packed weights, SIMD128 f32x4), the
 * limits of wasm32 memory, and the capabilities of the renderer (f64, every storage type).
 */
import { CPU_TILING, type MatmulTiling } from '../../kernel/builders/matmul.js';
import type { Target } from '../../kernel/target.js';
import { MAX_BYTES } from './memory.js';
import { WASM_LIMITS } from './render.js';

export interface WasmTargetOptions {
  readonly threads: number;
  readonly tiling?: MatmulTiling;
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
      gemv: { kind: 'cpu-packed', maxRows: 4, tiling },
      attention: { kind: 'cpu', queryBlock: 8 },
      rows: { kind: 'cpu', rowsPerGroup: 8 },
      elementwise: { kind: 'cpu', chunk: 4096 },
      route: { kind: 'cpu', tokensPerGroup: 16 },
    },
  };
}
