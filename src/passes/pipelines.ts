/**
 * The named pipelines, in one place. `full` is what compiling a model means: specialise capacities, clean up,
 * split routing regions into the fused route op + body + combine, fuse attention, elementwise trees, linear
 * prologues/epilogues and the STRing combine, then clean up again.
 */
import type { SymEnv } from '../ir/index.js';
import { attentionFusionPass } from './attention-fusion.js';
import { csePass } from './cse.js';
import { dcePass } from './dce.js';
import { elementwiseFusionPass } from './elementwise-fusion.js';
import { foldPass } from './fold.js';
import { inferTypesPass } from './infer.js';
import { linearFusionPass } from './linear-fusion.js';
import { type Pass, PassError } from './pass.js';
import { routeFusionPass } from './route-fusion.js';
import { specializePass } from './specialize.js';
import { stringFusionPass } from './string-fusion.js';

export interface PipelineConfig {
  /** Symbol bindings for capacity specialisation (N_v, optionally T); none: the graph stays symbolic. */
  bindings?: SymEnv;
}

const PIPELINES: Readonly<Record<string, (c: PipelineConfig) => Pass[]>> = {
  full: (c) => [
    inferTypesPass,
    ...(c.bindings && Object.keys(c.bindings).length ? [specializePass(c.bindings)] : []),
    foldPass,
    csePass,
    routeFusionPass,
    attentionFusionPass,
    elementwiseFusionPass,
    linearFusionPass,
    stringFusionPass,
    csePass,
    dcePass,
  ],
  cleanup: () => [inferTypesPass, foldPass, csePass, dcePass],
  none: () => [],
};

export const PIPELINE_NAMES = Object.keys(PIPELINES);

export function pipeline(name: string, config: PipelineConfig = {}): Pass[] {
  const p = PIPELINES[name];
  if (p === undefined) throw new PassError(`unknown pipeline '${name}' (${PIPELINE_NAMES.join(', ')})`);
  return p(config);
}
