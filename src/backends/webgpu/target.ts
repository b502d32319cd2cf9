/**
 * The WebGPU Target, made from what the adapter reports: its limits (which the device then requests explicitly,
 * since a default device gets compatibility defaults), capabilities from its features, and GPU schedules sized to
 * those limits. Also the check of a kernel and a dispatch against the limits, naming the WebGPU limit concerned.
 */
import type { Kernel } from '../../kernel/ir.js';
import type { Schedules, Target } from '../../kernel/target.js';

/** The adapter limits the WebGPU backend reads (a subset of GPUSupportedLimits). */
export interface WebGpuLimits {
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxStorageBuffersPerShaderStage: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxUniformBufferBindingSize: number;
  readonly minUniformBufferOffsetAlignment: number;
  readonly minStorageBufferOffsetAlignment: number;
}

export const WEBGPU_LIMIT_NAMES = [
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxUniformBufferBindingSize',
  'minUniformBufferOffsetAlignment', 'minStorageBufferOffsetAlignment',
] as const satisfies readonly (keyof WebGpuLimits)[];

/** What a Target is made from: the adapter's limits and features and a description of it. */
export interface AdapterDescription {
  readonly limits: WebGpuLimits;
  readonly features: ReadonlySet<string>;
  /** 'llvmpipe (Dawn, OpenGL ES)', 'SwiftShader', the GPU's name. */
  readonly device: string;
  /** A CPU-emulated GPU (llvmpipe, SwiftShader): register tiles beat shared-memory staging there. */
  readonly emulated: boolean;
  readonly subgroupSize?: number;
}

/** The limits of an adapter as plain numbers (GPUSupportedLimits is a host object). */
export function readLimits(l: Readonly<Record<(typeof WEBGPU_LIMIT_NAMES)[number], number>>): WebGpuLimits {
  const out: Record<string, number> = {};
  for (const n of WEBGPU_LIMIT_NAMES) {
    const v = l[n];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`webgpu: the adapter reports no limit ${n}`);
    out[n] = v;
  }
  return out as unknown as WebGpuLimits;
}

/** The largest power of two <= x. */
const pow2Floor = (x: number): number => 2 ** Math.floor(Math.log2(Math.max(1, x)));

/** GPU schedules sized to the limits: threads never above the per-workgroup limit. */
export function gpuSchedules(a: AdapterDescription): Schedules {
  const maxT = pow2Floor(Math.min(a.limits.maxComputeInvocationsPerWorkgroup, a.limits.maxComputeWorkgroupSizeX));
  const t = (want: number): number => Math.min(want, maxT);
  // Emulated GPUs run a workgroup's invocations in the SIMD lanes of one CPU thread: one 8-lane batch of 16 x 16
  // register tiles, no shared memory (the fastest of the sweep in docs/webgpu.md; 32 x 16 tiles take 5x longer
  // to compile for no gain). Real GPUs get shared-memory tiles.
  const matmul: Schedules['matmul'] = a.emulated
    ? { kind: 'gpu-tiled', tileM: 128, tileN: 16, tileK: 8, threads: 8, sharedTiles: false }
    : maxT >= 256
      ? { kind: 'gpu-tiled', tileM: 64, tileN: 64, tileK: 16, threads: 256, sharedTiles: true }
      : { kind: 'gpu-tiled', tileM: 32, tileN: 32, tileK: 16, threads: maxT, sharedTiles: true };
  return {
    matmul,
    // Emulated: whole columns per thread (no barriers: each one switches every SIMD batch of the workgroup).
    gemv: a.emulated ? { kind: 'gpu', maxRows: 4, threads: 16, colsPerGroup: 64 } : { kind: 'gpu', maxRows: 4, threads: t(64), colsPerGroup: 4 },
    attention: { kind: 'flash', queryBlock: 16, keyBlock: 32, threads: t(64) },
    rows: { kind: 'workgroup', threads: t(256) },
    elementwise: { kind: 'thread', threads: t(256), vector: true },
    route: { kind: 'gpu', threads: t(256) },
  };
}

/** Logical workgroups one dispatch may have: folded into 3-D, with a u32 linear workgroup index. */
export const maxGridTotal = (l: WebGpuLimits): number => Math.min(2 ** 32 - 1, l.maxComputeWorkgroupsPerDimension ** 3);

export function webgpuTarget(a: AdapterDescription, opts: { readonly memoryBytes?: number } = {}): Target {
  const l = a.limits;
  // One axis of the logical grid may exceed maxComputeWorkgroupsPerDimension: dispatch folds it into 2-D/3-D.
  const axis = Math.min(2 ** 31 - 1, maxGridTotal(l));
  return {
    name: 'webgpu',
    device: a.device,
    limits: {
      maxThreadsPerWorkgroup: Math.min(l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX),
      sharedBytes: l.maxComputeWorkgroupStorageSize,
      maxBuffersPerKernel: l.maxStorageBuffersPerShaderStage,
      maxGrid: [axis, axis, axis],
      maxBindingBytes: l.maxStorageBufferBindingSize,
      maxBufferBytes: l.maxBufferSize,
      memoryBytes: opts.memoryBytes ?? Math.min(2 ** 32, 2 * l.maxBufferSize),
    },
    caps: {
      f64: false,
      f64Math: false,
      f16Storage: true,
      bf16Storage: true,
      u8Storage: true,
      f16Math: a.features.has('shader-f16'),
      vectorWidth: 4,
      subgroups: a.features.has('subgroups'),
      ...(a.subgroupSize !== undefined ? { subgroupSize: a.subgroupSize } : {}),
      aliasedBindings: false,
    },
    schedules: gpuSchedules(a),
  };
}

/**
 * Problems of a kernel against a WebGPU target, each naming the WebGPU limit (the Target's limits are the
 * adapter's): threads, workgroup memory, storage buffers.
 */
export function webgpuKernelProblems(k: Kernel, t: Target): string[] {
  const out: string[] = [];
  const l = t.limits;
  if (k.threads > l.maxThreadsPerWorkgroup)
    out.push(`${k.threads} threads per workgroup exceed the adapter's maxComputeInvocationsPerWorkgroup / maxComputeWorkgroupSizeX of ${l.maxThreadsPerWorkgroup}`);
  const shared = k.shared.reduce((a, s) => a + 4 * s.length, 0);
  if (shared > l.sharedBytes) out.push(`${shared} bytes of workgroup memory exceed the adapter's maxComputeWorkgroupStorageSize of ${l.sharedBytes}`);
  if (k.buffers.length > l.maxBuffersPerKernel)
    out.push(`${k.buffers.length} storage buffers exceed the adapter's maxStorageBuffersPerShaderStage of ${l.maxBuffersPerKernel}`);
  return out.map((p) => `kernel '${k.name}': ${p}`);
}
