/**
 * modc/testing: property-testing tools for users' own passes. `arbGraph` generates random well-typed graphs with
 * inputs (modRoute regions included); `checkPass` checks that a pass preserves the reference interpreter's
 * outputs and produces graphs the verifier accepts, and reports a shrunk counterexample as IR.
 */
export { arbGraph, arbGraphPlan, buildCase, type ArbGraphOptions, type GraphCase, type GraphPlan, type Step } from './arb-graph.js';
export { type CaseOutcome, checkPass, checkPassOnCase, PassCheckError, type CheckPassOptions, type PassCheckReport } from './check-pass.js';
export { compareDecisions, type DecisionChange, decisionsMade, type Made, withDecisions } from './selections.js';
export { decomposedAttention } from './patterns.js';
