/** modc's public API: the Graph IR, the reference backend, the cost model, image input. */
export * from './ir/index.js';
export * as reference from './backends/reference/index.js';
export { interpret, routeTokens, topkIndices } from './backends/reference/index.js';
export * from './cost/index.js';
export * from './io/image/index.js';
export { Rng, randomWeights } from './runtime/random.js';
export type { Executor, PreparedGraph, TensorMap } from './runtime/executor.js';
export { referenceExecutor } from './backends/reference/index.js';
export * from './io/index.js';
export { GenerationSession, type GenerateOptions, type GenerateResult, type PrefillResult } from './runtime/session.js';
export { argmax, Sampler, SamplingError, type SamplingOptions } from './runtime/sampling.js';
export { ResidentCache } from './runtime/session.js';
export type { ExecutorState, PrepareOptions, StateTensorSpec } from './runtime/executor.js';
