/**
 * The token counts `report` and `run` (random weights) work with: --vision-tokens / --text-tokens, else the model's
 * typical image (from its vision tower) and prompt, checked against the model; an error says which flags set them.
 */
import { checkTokenCounts, ConfigError, hasVisionInput, type ModelSpec } from '../../models/config.js';
import { intOpt, type Parsed } from './args.js';

export function tokenCounts(p: Parsed, spec: ModelSpec): { readonly nv: number; readonly t: number } {
  const nv = intOpt(p, 'vision-tokens', spec.vision?.defaultVisionTokens ?? 0);
  const t = intOpt(p, 'text-tokens', spec.defaultTextTokens);
  try {
    checkTokenCounts(spec, nv, t);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const defaults = [
      p.values['vision-tokens'] === undefined && hasVisionInput(spec) ? `N_v = ${nv} is the model's typical image` : undefined,
      p.values['text-tokens'] === undefined ? `T = ${t} its typical prompt` : undefined,
    ].filter((d) => d !== undefined);
    throw new ConfigError(`${e.message}. ${defaults.length ? `${defaults.join(', ')}; ` : ''}set the counts with --vision-tokens N and --text-tokens T`);
  }
  return { nv, t };
}
