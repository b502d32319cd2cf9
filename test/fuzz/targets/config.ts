/**
 * config.json: a fixture config of each kind with fields replaced by hostile values (huge, negative, fractional,
 * wrong types, deep nesting) or removed, sometimes with its bytes corrupted, read as `modc report` reads it (and
 * reported: the totals must be finite) or refused with ConfigError naming the file and the field or line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { buildLanguageModel, checkTokenCounts, ConfigError, resolveModel, withoutRouting } from '../../../models/index.js';
import { costReport } from '../../../src/cost/index.js';
import { FIXTURE_KINDS, fixtureConfig } from '../../../scripts/make-checkpoint.js';
import { corrupt, type Corruption, corruptions, type FuzzTarget, LOCATION } from '../harness.js';

const FIELDS = [
  'model_type',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'intermediate_size',
  'vocab_size',
  'max_position_embeddings',
  'rms_norm_eps',
  'rope_theta',
  'rope_scaling',
  'hidden_act',
  'tie_word_embeddings',
  'torch_dtype',
  'mm_hidden_size',
  'mm_vision_select_layer',
  'image_aspect_ratio',
  'image_grid_pinpoints',
  'mod_target_layers',
  'mod_router_factor',
  'mod_weight_norm',
  'mod_bias_enabled',
  'text_config',
  'vision_config',
  'vision_feature_layer',
] as const;

/** Stands for 5000 nested arrays, spliced into the text (fast-check and JSON.stringify would recurse into the value). */
const DEEP = '__deep__';

const hostile = fc.oneof(
  fc.constantFrom(0, -1, 1, 2, 3, 7, 1e6, 1e9, 2 ** 31, 2 ** 53, 1e300, -1e300, 0.5, 1024, 1025, 65536, 65537, 4096),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('silu', 'tanh_0.2_1', 'shiftedcos_decay_0.85_0.15', 'deep_all', 'anyres', '(1x1),...,(3x3)', '(1x1),...,(999x999)', 'float16', 'llama', 'llava_next'),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.array(fc.integer({ min: -5, max: 5000 }), { maxLength: 3 }), { maxLength: 4 }),
  fc.constant(DEEP),
  fc.dictionary(fc.constantFrom('hidden_size', 'num_hidden_layers', 'image_size', 'patch_size', 'model_type'), fc.oneof(fc.integer(), fc.string({ maxLength: 4 }))),
);

export interface ConfigCase {
  readonly kind: (typeof FIXTURE_KINDS)[number];
  readonly edits: readonly { readonly field: (typeof FIELDS)[number]; readonly nested: boolean; readonly value: unknown; readonly remove: boolean }[];
  readonly bytes: readonly Corruption[] | null;
}

const cases: fc.Arbitrary<ConfigCase> = fc.record({
  kind: fc.constantFrom(...FIXTURE_KINDS),
  edits: fc.array(fc.record({ field: fc.constantFrom(...FIELDS), nested: fc.boolean(), value: hostile, remove: fc.boolean() }), { minLength: 1, maxLength: 3 }),
  bytes: fc.option(corruptions, { freq: 4 }),
});

function configText(c: ConfigCase): Uint8Array {
  const cfg = fixtureConfig({ kind: c.kind, dtype: 'f32' });
  for (const e of c.edits) {
    // llava-hf configs keep the language model's sizes under text_config.
    const target = e.nested && typeof cfg.text_config === 'object' && cfg.text_config !== null ? (cfg.text_config as Record<string, unknown>) : cfg;
    if (e.remove) delete target[e.field];
    else target[e.field] = e.value;
  }
  const text = new TextEncoder().encode(JSON.stringify(cfg).replaceAll(`"${DEEP}"`, `${'['.repeat(5000)}${']'.repeat(5000)}`));
  return c.bytes === null ? text : corrupt(text, c.bytes);
}

export const configTarget: FuzzTarget<ConfigCase> = {
  name: 'config.json',
  cases,
  errors: [ConfigError],
  file: (_c, dir) => join(dir, 'config.json'),
  // Config fields are snake_case names (hidden_size, mod_target_token_type): a message about one names it.
  located: (m) => LOCATION.test(m) || /\b[a-z]+(_[a-z0-9]+)+\b/.test(m),
  async run(c, dir) {
    const file = join(dir, 'config.json');
    writeFileSync(file, configText(c));
    const spec = await resolveModel(file);
    const nv = spec.vision?.defaultVisionTokens ?? 0;
    const t = Math.min(spec.defaultTextTokens, Math.max(1, spec.llm.maxPositions - nv));
    try {
      checkTokenCounts(spec, nv, t);
    } catch (e) {
      if (e instanceof ConfigError) return; // a valid config whose typical image does not fit: report says so
      throw e;
    }
    const report = costReport(spec.name, buildLanguageModel(spec), buildLanguageModel(withoutRouting(spec)), nv, t);
    for (const [k, v] of Object.entries(report.totals)) if (!Number.isFinite(v)) throw new Error(`${file}: report total ${k} is ${v}`);
  },
};
