/**
 * The PTX Target: GPU schedules (many threads per workgroup, register tiles, shared-memory staging), the limits
 * of the device that will run the module (queried from the driver by the CUDA device, else sm_80 defaults)
 * and the renderer's capabilities. Read-only buffers load through the non-coherent cache, so one buffer must not
 * be bound twice in a dispatch where one binding is written (`aliasedBindings: false`).
 */
import type { Target } from '../../kernel/target.js';
import { choosePtxTarget, type PtxTargetChoice } from './isa.js';

/** What the driver reports about a device (cuDeviceGetAttribute / cuDeviceTotalMem). */
export interface CudaDeviceLimits {
  readonly name: string;
  readonly computeCapability: number;
  readonly maxThreadsPerBlock: number;
  /** Static shared memory per block (48 KiB on every architecture this renderer targets). */
  readonly sharedBytesPerBlock: number;
  readonly maxGrid: readonly [number, number, number];
  readonly totalMemoryBytes: number;
  readonly multiprocessors: number;
}

/** An A100-class device, for offline compilation. */
export const SM80_DEFAULT_LIMITS: CudaDeviceLimits = {
  name: 'sm_80 (offline defaults)',
  computeCapability: 80,
  maxThreadsPerBlock: 1024,
  sharedBytesPerBlock: 48 * 1024,
  maxGrid: [2 ** 31 - 1, 65535, 65535],
  totalMemoryBytes: 40 * 2 ** 30,
  multiprocessors: 108,
};

/** Kernel parameters may take 4 KiB; a buffer is an 8-byte pointer. */
const MAX_KERNEL_BUFFERS = 256;

export interface PtxTargetOptions {
  readonly choice?: PtxTargetChoice;
  readonly device?: CudaDeviceLimits;
}

export function ptxTarget(opts: PtxTargetOptions = {}): Target {
  const dev = opts.device ?? SM80_DEFAULT_LIMITS;
  const choice = opts.choice ?? choosePtxTarget({ computeCapability: dev.computeCapability });
  return {
    name: 'ptx',
    device: `${dev.name}, .target ${choice.target}, PTX ISA ${choice.version}`,
    limits: {
      maxThreadsPerWorkgroup: dev.maxThreadsPerBlock,
      sharedBytes: dev.sharedBytesPerBlock,
      maxBuffersPerKernel: MAX_KERNEL_BUFFERS,
      maxGrid: dev.maxGrid,
      maxBindingBytes: dev.totalMemoryBytes,
      maxBufferBytes: dev.totalMemoryBytes,
      memoryBytes: dev.totalMemoryBytes,
    },
    caps: {
      f64: true,
      // GPUs run f64 at a fraction of the f32 rate: lowering emits f32-only kernels.
      f64Math: false,
      f16Storage: true,
      bf16Storage: true,
      u8Storage: true,
      f16Math: false,
      vectorWidth: 4,
      // Warp shuffles are not emitted yet (the Kernel IR has no subgroup ops).
      subgroups: false,
      subgroupSize: 32,
      aliasedBindings: false,
    },
    schedules: {
      matmul: { kind: 'gpu-tiled', tileM: 64, tileN: 64, tileK: 16, threads: 256, sharedTiles: true },
      gemv: { kind: 'gpu', maxRows: 4, threads: 256, colsPerGroup: 4 },
      attention: { kind: 'flash', queryBlock: 64, keyBlock: 64, threads: 128 },
      rows: { kind: 'workgroup', threads: 256 },
      elementwise: { kind: 'thread', threads: 256, vector: true },
      route: { kind: 'gpu', threads: 256 },
    },
  };
}
