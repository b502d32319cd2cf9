/** The reference backend: a straightforward interpreter of the Graph IR, the oracle for every other backend. */
export { interpret, bindSymbols } from './interpreter.js';
export { routeTokens } from './route.js';
export { topkIndices } from './topk.js';
export { erf } from '../../ir/index.js';
export { referenceExecutor } from './executor.js';
