/**
 * The runtime: the one compile step, the Device interface every backend implements, the program runner, the
 * Executor contract and its Device-backed implementation, generation with a device-resident KV cache, sampling.
 */
export { compile, CompileCache, compileKey, type CompileOptions, optimize, type ProgramStore } from './compile.js';
export { type Device, DeviceError } from './device.js';
export { DeviceExecutor, type DeviceExecutorOptions } from './device-executor.js';
export type { Executor, ExecutorState, PreparedGraph, PrepareOptions, StateTensorSpec, TensorMap } from './executor.js';
export { planSlots, programMemory, type ProgramMemory, type SlotPlan } from './memory-plan.js';
export { DeviceMemoryError, DeviceResidency, ProgramRunner, type RunOptions } from './runner.js';
export { GenerationSession, type GenerateOptions, type GenerateResult, prefillCacheLengths, type PrefillResult, ResidentCache } from './session.js';
export { argmax, Sampler, SamplingError, type SamplingOptions } from './sampling.js';
export { encodeElems, weightBytes } from './weights.js';
