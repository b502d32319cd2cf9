/**
 * modc/testing: property-testing tools for users' own passes. `arbGraph` generates random well-typed graphs with
 * inputs (modRoute regions included); `checkPass` checks that a pass preserves the reference interpreter's
 * outputs and produces graphs the verifier accepts, and reports a shrunk counterexample as IR.
 */
export { arbGraph, arbGraphPlan, buildCase } from './arb-graph.js';
export { checkPass, checkPassOnCase, PassCheckError } from './check-pass.js';
export { decomposedAttention } from './patterns.js';
