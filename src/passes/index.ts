/** Compiler passes, the pass manager, named pipelines and graph statistics. */
export * from './pass.js';
export * from './pipelines.js';
export * from './rewrite.js';
export { inferTypesPass, retype } from './infer.js';
export { specializeGraph, specializeCached, specializePass } from './specialize.js';
export { fuseRoutes, routeFusionPass } from './route-fusion.js';
export { fuseAttention, attentionFusionPass } from './attention-fusion.js';
export { fuseElementwise, elementwiseFusionPass } from './elementwise-fusion.js';
export { fuseLinears, linearFusionPass } from './linear-fusion.js';
export { fuseStringCombine, stringFusionPass } from './string-fusion.js';
export { eliminateCommonSubexpressions, csePass } from './cse.js';
export { eliminateDeadCode, dcePass } from './dce.js';
export { foldConstants, foldPass } from './fold.js';
export * from './stats.js';
