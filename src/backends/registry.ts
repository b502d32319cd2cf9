/**
 * The one registry of backends: the CLI, the conformance suite and the benchmarks iterate it. An entry says what
 * the backend is, whether it can run on this machine (and if not, what is missing), how to make its executor,
 * and its compile Target. Adding a backend is one entry here.
 */
import { CPU_TILING } from '../kernel/builders/matmul.js';
import type { Schedules, Target } from '../kernel/target.js';
import { DeviceExecutor } from '../runtime/device-executor.js';
import type { Executor } from '../runtime/executor.js';
import { PtxEmuDevice, ptxTarget } from './cuda-ptx/index.js';
import { referenceExecutor } from './reference/index.js';
import { wasmExecutor, wasmTarget } from './wasm/index.js';

/**
 * The PTX GPU schedules, with the matmul and GEMV on the packed CPU schedule until the GPU matmul builders are
 * in this build (the rest: flash attention, workgroup rows, per-thread elementwise, the GPU route).
 */
export function ptxSchedules(): Schedules {
  const s = ptxTarget().schedules;
  return { ...s, matmul: { kind: 'cpu-packed', tiling: CPU_TILING }, gemv: { kind: 'cpu-packed', maxRows: 4, tiling: CPU_TILING } };
}

export interface BackendOptions {
  /** Host threads (CPU backends). */
  readonly threads?: number;
}

export interface BackendInfo {
  readonly name: string;
  readonly description: string;
  /** Why the backend cannot run on this machine (a missing adapter or driver), or undefined when it can. */
  readonly unavailable: () => Promise<string | undefined>;
  readonly create: (opts?: BackendOptions) => Promise<Executor>;
  /** The Target the backend compiles for here; undefined for the interpreter. */
  readonly target?: (opts?: BackendOptions) => Promise<Target>;
}

export const BACKENDS: readonly BackendInfo[] = [
  {
    name: 'reference',
    description: 'the reference interpreter of the Graph IR (the oracle; slow)',
    unavailable: () => Promise.resolve(undefined),
    create: () => Promise.resolve(referenceExecutor()),
  },
  {
    name: 'wasm',
    description: 'WebAssembly SIMD128 on a worker pool (the default)',
    unavailable: () => Promise.resolve(undefined),
    create: (o) => Promise.resolve(wasmExecutor(o?.threads !== undefined ? { threads: o.threads } : {})),
    target: (o) => Promise.resolve(wasmTarget({ threads: o?.threads ?? 1 })),
  },
  {
    name: 'ptx-emu',
    description: 'the emitted PTX run by modc\'s PTX interpreter on the CPU (the CUDA path without a GPU; slow)',
    unavailable: () => Promise.resolve(undefined),
    create: () => Promise.resolve(new DeviceExecutor('ptx-emu', new PtxEmuDevice({ schedules: ptxSchedules() }))),
    target: () => Promise.resolve({ ...ptxTarget(), schedules: ptxSchedules() }),
  },
  {
    name: 'cuda',
    description: 'PTX on an NVIDIA GPU through the CUDA driver API (libcuda.so.1 via koffi)',
    unavailable: async () => {
      const { CudaDevice } = await import('./cuda-ptx/node.js');
      const d = await CudaDevice.probe();
      if (typeof d === 'string') return d;
      await d.dispose();
      return undefined;
    },
    create: async () => {
      const { CudaDevice } = await import('./cuda-ptx/node.js');
      const d = await CudaDevice.open();
      return new DeviceExecutor('cuda', d);
    },
    target: async () => {
      const { CudaDevice } = await import('./cuda-ptx/node.js');
      const d = await CudaDevice.probe();
      if (typeof d === 'string') return ptxTarget();
      const t = d.target;
      await d.dispose();
      return t;
    },
  },
];

export const BACKEND_NAMES = BACKENDS.map((b) => b.name);

export function backendInfo(name: string): BackendInfo {
  const b = BACKENDS.find((x) => x.name === name);
  if (b === undefined) throw new Error(`unknown backend '${name}' (this build has: ${BACKEND_NAMES.join(', ')})`);
  return b;
}

/** The executor of a backend, or an error saying what this machine lacks for it. */
export async function createExecutor(name: string, opts?: BackendOptions): Promise<Executor> {
  const b = backendInfo(name);
  const missing = await b.unavailable();
  if (missing !== undefined) throw new Error(`backend '${name}' cannot run here: ${missing}`);
  return b.create(opts);
}
