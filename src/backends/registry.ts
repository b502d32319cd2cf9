/**
 * The one registry of backends: the CLI, the conformance suite and the benchmarks iterate it. An entry says what
 * the backend is, whether it can run on this machine (and if not, what is missing), how to make its executor,
 * and its compile Target. Adding a backend is one entry here.
 */
import type { Kernel } from '../kernel/ir.js';
import type { Schedules, Target } from '../kernel/target.js';
import { DeviceExecutor } from '../runtime/device-executor.js';
import type { ProgramStore } from '../runtime/compile.js';
import type { Executor } from '../runtime/executor.js';
// Backends load when one is created: a run on one backend does not parse the others (the PTX interpreter and
// the reference interpreter were 26 of the 152 modules a cold 'modc run' loaded).
import { ptxTarget } from './cuda-ptx/target.js';
import type { WasmKernelCache } from './wasm/kernel-cache.js';
import { wasmTarget } from './wasm/target.js';

/**
 * The schedules the PTX interpreter runs whole models with: the PTX GPU schedules, with smaller matmul tiles than
 * a GPU wants (the interpreter steps every thread of a CTA in turn; 64 x 64 tiles of 256 threads cost it far
 * more than they save), the rest as for the GPU.
 */
export function ptxSchedules(): Schedules {
  const s = ptxTarget().schedules;
  return { ...s, matmul: { kind: 'gpu-tiled', tileM: 32, tileN: 32, tileK: 16, threads: 64, sharedTiles: true }, gemv: { kind: 'gpu', maxRows: 4, threads: 64, colsPerGroup: 4 } };
}

export interface BackendOptions {
  /** Host threads (CPU backends). */
  readonly threads?: number;
  /** Persistent caches of compiled programs and rendered Wasm kernels (the CLI's disk cache). */
  readonly programStore?: ProgramStore;
  readonly kernelCache?: WasmKernelCache;
}

export interface BackendInfo {
  readonly name: string;
  readonly description: string;
  /** Why the backend cannot run on this machine (a missing adapter or driver), or undefined when it can. */
  readonly unavailable: () => Promise<string | undefined>;
  readonly create: (opts?: BackendOptions) => Promise<Executor>;
  /** The Target the backend compiles for here; undefined for the interpreter. */
  readonly target?: (opts?: BackendOptions) => Promise<Target>;
  /** A kernel as source in the backend's language (Wasm text, WGSL, PTX), for `modc compile --emit kernels`. */
  readonly render?: (kernel: Kernel, target: Target, opts?: RenderOptions) => Promise<string>;
}

export interface RenderOptions {
  /** PTX: --ptx-version and --sm overrides. */
  readonly isa?: string;
  readonly sm?: string;
}

const renderPtxText = async (k: Kernel, _t: Target, o?: RenderOptions): Promise<string> => {
  const { choosePtxTarget, renderPtx } = await import('./cuda-ptx/index.js');
  return renderPtx(k, { target: choosePtxTarget({ ...(o?.isa !== undefined ? { isa: o.isa } : {}), ...(o?.sm !== undefined ? { sm: o.sm } : {}) }) }).ptx;
};

export const BACKENDS: readonly BackendInfo[] = [
  {
    name: 'reference',
    description: 'the reference interpreter of the Graph IR (the oracle; slow)',
    unavailable: () => Promise.resolve(undefined),
    create: async () => (await import('./reference/index.js')).referenceExecutor(),
  },
  {
    name: 'wasm',
    description: 'WebAssembly SIMD128 on a worker pool (the default)',
    unavailable: () => Promise.resolve(undefined),
    create: async (o) =>
      (await import('./wasm/index.js')).wasmExecutor({
        ...(o?.threads !== undefined ? { threads: o.threads } : {}),
        ...(o?.programStore ? { programStore: o.programStore } : {}),
        ...(o?.kernelCache ? { kernelCache: o.kernelCache } : {}),
      }),
    target: (o) => Promise.resolve(wasmTarget({ threads: o?.threads ?? 1 })),
    render: async (k) => {
      const { renderKernelText } = await import('./wasm/render.js');
      const { relaxedSimdAvailable } = await import('./wasm/features.js');
      return `;; kernel ${k.name}\n${await renderKernelText(k, { relaxedFma: relaxedSimdAvailable() })}`;
    },
  },
  {
    name: 'webgpu',
    description: 'WGSL on WebGPU: Dawn in Node (a GPU, or Mesa llvmpipe without one); navigator.gpu in pages',
    unavailable: async () => {
      const { openDawnDevice } = await import('./webgpu/node.js');
      try {
        const d = await openDawnDevice();
        await d.dispose();
        return undefined;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    },
    create: async (o) => {
      const { openDawnDevice } = await import('./webgpu/node.js');
      return new DeviceExecutor('webgpu', await openDawnDevice(), o?.programStore ? { programStore: o.programStore } : {});
    },
    target: async () => {
      const { openDawnDevice } = await import('./webgpu/node.js');
      const d = await openDawnDevice();
      const t = d.target;
      await d.dispose();
      return t;
    },
    render: async (k, t) => {
      const { renderWgsl } = await import('./webgpu/render.js');
      return `// kernel ${k.name}\n${renderWgsl(k, t).code}`;
    },
  },
  {
    name: 'webgl',
    description: 'WebGL2 through gpu.js (gather kernels): webgl2 mode in pages without WebGPU; gpu.js cpu mode in Node (slow; a correctness check)',
    unavailable: async () => {
      const { loadGpuJs } = await import('./webgl/gpujs.js');
      try {
        await loadGpuJs();
        return undefined;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    },
    create: async () => {
      const { openCpuWebGlDevice } = await import('./webgl/cpu.js');
      return new DeviceExecutor('webgl', await openCpuWebGlDevice());
    },
    target: async () => {
      const { webglTarget, WEBGL2_MINIMUMS } = await import('./webgl/target.js');
      return webglTarget({ ...WEBGL2_MINIMUMS, renderer: 'gpu.js cpu mode' }, 'cpu');
    },
  },
  {
    name: 'ptx-emu',
    description: 'the emitted PTX run by modc\'s PTX interpreter on the CPU (the CUDA path without a GPU; slow)',
    unavailable: () => Promise.resolve(undefined),
    create: async (o) => {
      const { PtxEmuDevice } = await import('./cuda-ptx/emu-device.js');
      return new DeviceExecutor('ptx-emu', new PtxEmuDevice({ schedules: ptxSchedules() }), o?.programStore ? { programStore: o.programStore } : {});
    },
    target: () => Promise.resolve({ ...ptxTarget(), schedules: ptxSchedules() }),
    render: renderPtxText,
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
    render: renderPtxText,
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
