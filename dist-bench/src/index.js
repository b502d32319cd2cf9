/** modc's public API: the Graph IR, the reference backend, the cost model. */
export * from './ir/index.js';
export * as reference from './backends/reference/index.js';
export { interpret, routeTokens, topkIndices } from './backends/reference/index.js';
export * from './cost/index.js';
export { Rng, randomWeights } from './runtime/random.js';
export { referenceExecutor } from './backends/reference/index.js';
