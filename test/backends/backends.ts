/**
 * The backends the conformance suite runs on: every entry of the backend registry (src/backends/registry.ts),
 * with the cases it skips (with the reason) and its tolerances per dtype. The reference interpreter is the
 * oracle for every entry.
 */
import { referenceExecutor } from '../../src/backends/reference/index.js';
import { BACKENDS as REGISTRY, createExecutor, ptxSchedules } from '../../src/backends/registry.js';
import { PtxEmuDevice } from '../../src/backends/cuda-ptx/index.js';
import { DeviceExecutor } from '../../src/runtime/device-executor.js';
import { wasmExecutor, wasmTarget } from '../../src/backends/wasm/index.js';
import type { Target } from '../../src/kernel/target.js';
import type { Device } from '../../src/runtime/device.js';
import { WasmDevice } from '../../src/backends/wasm/device.js';
import { gatherProblem } from '../../src/kernel/builders/gather/form.js';
import type { DType } from '../../src/ir/index.js';
import { BF16_REORDERED, EXACT, F16_REORDERED, F32_REORDERED, type Tolerance } from './tolerance.js';

export { mismatch, type Tolerance } from './tolerance.js';
import type { Executor } from '../../src/runtime/executor.js';


export interface BackendEntry {
  readonly name: string;
  readonly create: () => Executor | Promise<Executor>;
  /** Why the backend cannot run here (no driver, no adapter); its cases are then skipped with one line. */
  readonly unavailable?: () => Promise<string | undefined>;
  /** In CI this environment flag makes an unavailable backend a failure instead of a skip. */
  readonly requireFlag?: string;
  /** case name -> why it is skipped on this backend. */
  readonly skip: Readonly<Record<string, string>>;
  /** Whether the backend computes elementwise functions in f64 like the reference (else 'exact' cases get its f32 tolerance). */
  readonly f64: boolean;
  /** Tolerance for results that the backend computes in a different order than the reference (matmul, attention). */
  readonly reordered: Readonly<Record<DType, Tolerance>>;
}


/**
 * The GPU schedules (flash attention, one workgroup per row, one element per thread, the 32-lane router and the
 * multi-thread select) on the Wasm device, f64 disabled as on WebGPU: the lowering of every GPU target is
 * checked here against the reference, on any machine.
 */
const base = wasmTarget({ threads: 2 });
export const GPU_SCHEDULES_ON_WASM: Target = {
  ...base,
  name: 'wasm-gpu-schedules',
  device: 'GPU schedules on wasm32 (test target)',
  limits: { ...base.limits, maxThreadsPerWorkgroup: 256 },
  caps: { ...base.caps, f64: false, f64Math: false, aliasedBindings: false },
  schedules: {
    matmul: { kind: 'gpu-tiled', tileM: 32, tileN: 32, tileK: 8, threads: 64, sharedTiles: false },
    gemv: { kind: 'gpu', maxRows: 4, threads: 32, colsPerGroup: 8 },
    attention: { kind: 'flash', queryBlock: 4, keyBlock: 16, threads: 32 },
    rows: { kind: 'workgroup', threads: 32 },
    elementwise: { kind: 'thread', threads: 64, vector: true },
    route: { kind: 'gpu', threads: 64 },
  },
};

/**
 * The gather schedules (src/kernel/builders/gather/: one output element per invocation, reads only: what the
 * WebGL backend runs) on the Wasm device, f64 disabled: their lowering is checked against the reference on any
 * machine, fast.
 */
export const GATHER_SCHEDULES_ON_WASM: Target = {
  ...base,
  name: 'wasm-gather-schedules',
  device: 'gather schedules on wasm32 (test target)',
  caps: { ...base.caps, f64: false, f64Math: false, aliasedBindings: false },
  schedules: {
    matmul: { kind: 'gather' },
    gemv: { kind: 'gather', maxRows: 4 },
    attention: { kind: 'gather' },
    rows: { kind: 'gather' },
    elementwise: { kind: 'gather' },
    route: { kind: 'gather' },
  },
};

/** The device, refusing (at compile) every kernel that is not in gather form. */
function gatherOnly<B, K>(d: Device<B, K>): Device<B, K> {
  return {
    target: d.target,
    alloc: (bytes, label) => d.alloc(bytes, label),
    free: (b) => d.free(b),
    write: (b, data, off) => d.write(b, data, off),
    read: (b, off, bytes) => d.read(b, off, bytes),
    compile: (k) => {
      const problem = gatherProblem(k);
      return problem === undefined ? d.compile(k) : Promise.reject(new Error(`kernel '${k.name}' is not in gather form: it ${problem}`));
    },
    dispatch: (k, b, p, g, par) => d.dispatch(k, b, p, g, par),
    flush: () => d.flush(),
    dispose: () => d.dispose(),
  };
}

export const BACKENDS: readonly BackendEntry[] = [
  {
    name: 'reference',
    create: referenceExecutor,
    f64: true,
    skip: {},
    reordered: { f32: EXACT, f16: EXACT, bf16: EXACT, i32: EXACT, u32: EXACT, bool: EXACT },
  },
  {
    name: 'wasm',
    create: () => wasmExecutor({ threads: 2, startWorkers: true }),
    f64: true,
    skip: {
      'scatterRows rejects duplicate targets': 'the wasm scatter kernel does not detect duplicate row indices (rows are written in parallel)',
    },
    reordered: { f32: F32_REORDERED, f16: F16_REORDERED, bf16: BF16_REORDERED, i32: EXACT, u32: EXACT, bool: EXACT },
  },
  {
    name: 'webgpu',
    create: () => createExecutor('webgpu'),
    f64: false,
    skip: {
      'scatterRows rejects duplicate targets': 'the scatter kernel does not detect duplicate row indices (rows are written in parallel)',
    },
    reordered: { f32: F32_REORDERED, f16: F16_REORDERED, bf16: BF16_REORDERED, i32: EXACT, u32: EXACT, bool: EXACT },
    unavailable: () => REGISTRY.find((b) => b.name === 'webgpu')?.unavailable() ?? Promise.resolve('not registered'),
    requireFlag: 'MODC_REQUIRE_WEBGPU',
  },
  {
    name: 'ptx-emu',
    create: () => new DeviceExecutor('ptx-emu', new PtxEmuDevice({ schedules: ptxSchedules() })),
    f64: false,
    skip: {
      'scatterRows rejects duplicate targets': 'the scatter kernel does not detect duplicate row indices (rows are written in parallel)',
    },
    reordered: { f32: F32_REORDERED, f16: F16_REORDERED, bf16: BF16_REORDERED, i32: EXACT, u32: EXACT, bool: EXACT },
  },
  {
    name: 'cuda',
    create: () => {
      throw new Error('the cuda backend runs only where an NVIDIA driver is installed');
    },
    f64: false,
    skip: {},
    reordered: { f32: F32_REORDERED, f16: F16_REORDERED, bf16: BF16_REORDERED, i32: EXACT, u32: EXACT, bool: EXACT },
    unavailable: () => REGISTRY.find((b) => b.name === 'cuda')?.unavailable() ?? Promise.resolve('not registered'),
  },
  {
    name: 'wasm-gpu-schedules',
    create: () => wasmExecutor({ threads: 2, startWorkers: true, target: GPU_SCHEDULES_ON_WASM }),
    f64: false,
    skip: {
      'scatterRows rejects duplicate targets': 'the scatter kernel does not detect duplicate row indices (rows are written in parallel)',
    },
    reordered: { f32: F32_REORDERED, f16: F16_REORDERED, bf16: BF16_REORDERED, i32: EXACT, u32: EXACT, bool: EXACT },
  },
  {
    name: 'webgl',
    create: () => createExecutor('webgl'),
    f64: false,
    skip: {
      'cast i32/bool -> f32': 'its input holds 16777217 = 2^24 + 1, which WebGL cannot carry: integers travel as float32 texel values and the device refuses those beyond 2^24 (test/backends/webgl/device.test.ts checks the refusal)',
    },
    reordered: { f32: F32_REORDERED, f16: F16_REORDERED, bf16: BF16_REORDERED, i32: EXACT, u32: EXACT, bool: EXACT },
    unavailable: () => REGISTRY.find((b) => b.name === 'webgl')?.unavailable() ?? Promise.resolve('not registered'),
    requireFlag: 'MODC_REQUIRE_WEBGL',
  },
  {
    name: 'wasm-gather-schedules',
    // Every kernel the device compiles must be in gather form (what the WebGL renderer accepts).
    create: () => new DeviceExecutor('wasm-gather-schedules', gatherOnly(new WasmDevice({ threads: 2, startWorkers: true, target: GATHER_SCHEDULES_ON_WASM }))),
    f64: false,
    skip: {},
    reordered: { f32: F32_REORDERED, f16: F16_REORDERED, bf16: BF16_REORDERED, i32: EXACT, u32: EXACT, bool: EXACT },
  },
];

// Every registered backend has an entry here (a new backend must state its skips and tolerances).
const missing = REGISTRY.map((b) => b.name).filter((n) => !BACKENDS.some((e) => e.name === n));
if (missing.length) throw new Error(`test/backends/backends.ts has no entry for registered backend(s) ${missing.join(', ')}`);


/** The entries that can run on this machine; each one that cannot is named once with what it lacks. */
async function runnable(): Promise<readonly BackendEntry[]> {
  const out: BackendEntry[] = [];
  for (const b of BACKENDS) {
    const missing = await b.unavailable?.();
    if (missing === undefined) out.push(b);
    else if (b.requireFlag !== undefined && process.env[b.requireFlag] === '1') throw new Error(`backend ${b.name} is required (${b.requireFlag}=1) but unavailable: ${missing}`);
    else process.stdout.write(`skipping backend ${b.name}: ${missing}\n`);
  }
  return out;
}
export const AVAILABLE: readonly BackendEntry[] = await runnable();
