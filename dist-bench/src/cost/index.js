/** The cost model: FLOPs and KV-cache entries per op and per layer, and dense-vs-p-MoD reports. */
export * from './flops.js';
export * from './report.js';
export * from './memory-report.js';
