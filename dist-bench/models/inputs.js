/** Builds the graph inputs of a LLaVA language model from token ids and vision embeddings. */
import { makeTensor } from '../src/index.js';
import { Rng } from '../src/runtime/random.js';
import { hasVisionInput } from './config.js';
/**
 * The sequence [prefix text][N_v vision rows][suffix text] as graph inputs. `textIds` are the T text token ids;
 * the vision block starts after the first `prefix` of them. Vision slots in input_ids hold 0 (overwritten).
 */
export function llavaInputs(spec, textIds, visionEmbeds, prefix) {
    const nv = visionEmbeds?.shape[0] ?? 0;
    if (prefix < 0 || prefix > textIds.length)
        throw new RangeError(`vision block offset ${prefix} is outside [0, ${textIds.length}]`);
    const ids = [...textIds.slice(0, prefix), ...new Array(nv).fill(0), ...textIds.slice(prefix)];
    const out = { input_ids: makeTensor('i32', [ids.length], ids) };
    if (hasVisionInput(spec)) {
        out.vision_embeds = visionEmbeds ?? makeTensor('f32', [0, spec.llm.hiddenSize]);
        out.vision_positions = makeTensor('i32', [nv], Array.from({ length: nv }, (_, i) => prefix + i));
    }
    else if (nv > 0)
        throw new RangeError(`model '${spec.name}' has no vision input but ${nv} vision rows were given`);
    return out;
}
/** Random text ids and vision embeddings (unit-scale rows), seeded: the `modc run` demo input. */
export function randomLlavaInputs(spec, textTokens, visionTokens, seed) {
    const rng = new Rng(seed ^ 0x5eed);
    const ids = Array.from({ length: textTokens }, () => rng.int(spec.llm.vocabSize));
    const d = spec.llm.hiddenSize;
    const vis = makeTensor('f32', [visionTokens, d]);
    for (let i = 0; i < vis.data.length; i++)
        vis.data[i] = rng.normal();
    return llavaInputs(spec, ids, visionTokens > 0 ? vis : undefined, Math.min(textTokens, Math.ceil(textTokens / 4)));
}
