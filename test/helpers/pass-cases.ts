/** Every pass with the passes it assumes ran before it: the property tests (short and long) check each pair. */
import {
  attentionFusionPass,
  csePass,
  dcePass,
  elementwiseFusionPass,
  foldPass,
  inferTypesPass,
  linearFusionPass,
  type Pass,
  routeFusionPass,
  stringFusionPass,
} from '../../src/passes/index.js';

export const PASS_CASES: readonly (readonly [Pass, readonly Pass[]])[] = [
  [inferTypesPass, []],
  [foldPass, []],
  [csePass, []],
  [dcePass, []],
  [routeFusionPass, []],
  [attentionFusionPass, []],
  [elementwiseFusionPass, []],
  [linearFusionPass, [elementwiseFusionPass]],
  [linearFusionPass, [routeFusionPass, elementwiseFusionPass]],
  [stringFusionPass, [routeFusionPass, elementwiseFusionPass, linearFusionPass]],
];
