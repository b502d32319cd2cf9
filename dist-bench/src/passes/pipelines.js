import { attentionFusionPass } from './attention-fusion.js';
import { csePass } from './cse.js';
import { dcePass } from './dce.js';
import { elementwiseFusionPass } from './elementwise-fusion.js';
import { foldPass } from './fold.js';
import { inferTypesPass } from './infer.js';
import { linearFusionPass } from './linear-fusion.js';
import { PassError } from './pass.js';
import { routeFusionPass } from './route-fusion.js';
import { specializePass } from './specialize.js';
import { stringFusionPass } from './string-fusion.js';
const PIPELINES = {
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
export function pipeline(name, config = {}) {
    const p = PIPELINES[name];
    if (p === undefined)
        throw new PassError(`unknown pipeline '${name}' (${PIPELINE_NAMES.join(', ')})`);
    return p(config);
}
/** Every pass that exists, by name (for `--after`), including parameterised ones with their default form. */
export const ALL_PASSES = [
    inferTypesPass,
    specializePass({}),
    foldPass,
    csePass,
    routeFusionPass,
    attentionFusionPass,
    elementwiseFusionPass,
    linearFusionPass,
    stringFusionPass,
    dcePass,
];
