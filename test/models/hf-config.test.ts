import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, HF_CONFIGS, layerRatios, modelFromHfConfig, resolveModel, TINY_PMOD, zooModel } from '../../models/index.js';
import { tempDir } from '../helpers/temp.js';

describe('Hugging Face config import', () => {
  it('reads the p-MoD-LLaVA config with its mod_* fields', () => {
    const spec = modelFromHfConfig(HF_CONFIGS['pmod-llava-1.5-7b']);
    expect(spec.llm).toMatchObject({ hiddenSize: 4096, numLayers: 32, numHeads: 32, numKvHeads: 32, headDim: 128, intermediateSize: 11008, vocabSize: 32000, weightDtype: 'f16' });
    expect(spec.mod).toMatchObject({ gate: 'tanh', scale: 0.2, bias: 1, routerBias: true });
    expect(layerRatios(spec.mod?.schedule ?? { kind: 'constant', layout: 'deep_all', ratio: 1 }, 32).filter((r) => r !== null)).toHaveLength(24);
    expect(spec.vision?.defaultVisionTokens).toBe(576);
    expect(zooModel('pmod-llava-next-7b').vision?.imageAspectRatio).toBe('anyres');
  });

  it('reads llava-hf nested configs', () => {
    const spec = modelFromHfConfig({
      model_type: 'llava_next',
      torch_dtype: 'bfloat16',
      text_config: { model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100 },
      image_grid_pinpoints: [[336, 672]],
      vision_feature_layer: -2,
    });
    expect(spec.llm.weightDtype).toBe('bf16');
    expect(spec.vision?.gridPinpoints).toEqual([[336, 672]]);
  });

  it('names the file and field of every bad value', () => {
    const base = { ...HF_CONFIGS['pmod-llava-1.5-7b'] };
    expect(() => modelFromHfConfig({ ...base, hidden_size: -1 }, 'ckpt/config.json')).toThrow(new ConfigError("ckpt/config.json: field 'hidden_size' must be an integer in [1, 65536], got -1"));
    expect(() => modelFromHfConfig({ ...base, mod_weight_norm: 'softmax_1_0' }, 'c.json')).toThrow(/c.json: mod_weight_norm 'softmax_1_0': gate 'softmax' is not supported/);
    expect(() => modelFromHfConfig({ ...base, mod_target_layers: 'cos_decay_0.8_0.1' }, 'c.json')).toThrow(/c.json: mod_target_layers 'cos_decay_0.8_0.1': unknown decay curve 'cos'/);
    expect(() => modelFromHfConfig({ ...base, model_type: 'gpt2' }, 'c.json')).toThrow(/unsupported model_type 'gpt2'/);
    expect(() => modelFromHfConfig({ ...base, num_key_value_heads: 5 }, 'c.json')).toThrow(/not a multiple of num_key_value_heads 5/);
    expect(() => modelFromHfConfig({ ...base, torch_dtype: 'int8' }, 'c.json')).toThrow(/unsupported torch_dtype "int8"/);
    const { vocab_size: _v, ...noVocab } = base;
    void _v;
    expect(() => modelFromHfConfig(noVocab, 'c.json')).toThrow(/missing field 'vocab_size'/);
  });

  it.each([
    ['num_hidden_layers', 1e6, 1024],
    ['num_hidden_layers', 1e9, 1024],
    ['hidden_size', 1e300, 65536],
    ['num_attention_heads', 4096, 1024],
    ['num_key_value_heads', 2 ** 40, 1024],
    ['head_dim', 1e5, 4096],
    ['intermediate_size', 1e12, 1048576],
    ['vocab_size', 1e9, 4194304],
    ['max_position_embeddings', 1e10, 16777216],
    ['mm_hidden_size', 1e7, 65536],
  ])('bounds %s (%d): the error names the field and the accepted range', (key, value, max) => {
    const cfg = { ...HF_CONFIGS['pmod-llava-1.5-7b'], [key]: value };
    expect(() => modelFromHfConfig(cfg, 'c.json')).toThrow(new ConfigError(`c.json: field '${key}' must be an integer in [1, ${max}], got ${JSON.stringify(value)}`));
  });

  it('bounds the nested sizes of llava-hf configs and the pinpoint grid', () => {
    const text = { model_type: 'llama', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, vocab_size: 100 };
    const next = { model_type: 'llava_next', text_config: text, image_grid_pinpoints: [[336, 672]] };
    expect(() => modelFromHfConfig({ ...next, text_config: { ...text, num_hidden_layers: 1e6 } }, 'c.json')).toThrow("c.json text_config: field 'num_hidden_layers' must be an integer in [1, 1024], got 1000000");
    expect(() => modelFromHfConfig({ ...next, vision_config: { hidden_size: Number.NaN } }, 'c.json')).toThrow("c.json vision_config: field 'hidden_size' must be an integer in [1, 65536], got null");
    expect(() => modelFromHfConfig({ ...next, image_grid_pinpoints: '(1x1),...,(1000x1000)' }, 'c.json')).toThrow('c.json: image_grid_pinpoints has 1000000 candidates, more than 256');
    expect(() => modelFromHfConfig({ ...next, image_grid_pinpoints: [[336, 1e9]] }, 'c.json')).toThrow("c.json: field 'image_grid_pinpoints' must be an integer in [1, 16384], got 1000000000");
    expect(() => modelFromHfConfig({ ...next, vision_feature_layer: 1e9 }, 'c.json')).toThrow("c.json: field 'vision_feature_layer' must be an integer in [-1024, 1024], got 1000000000");
  });

  it('bounds rms_norm_eps and rope_theta to positive finite numbers', () => {
    const base = HF_CONFIGS['pmod-llava-1.5-7b'];
    expect(() => modelFromHfConfig({ ...base, rms_norm_eps: 0 }, 'c.json')).toThrow("c.json: field 'rms_norm_eps' must be a number in (0, 1], got 0");
    expect(() => modelFromHfConfig({ ...base, rope_theta: 1e300 }, 'c.json')).toThrow("c.json: field 'rope_theta' must be a number in (0, 1000000000000], got 1e+300");
  });

  it('shows bad values briefly: deep nesting or a huge value never breaks the message', () => {
    const base = HF_CONFIGS['pmod-llava-1.5-7b'];
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => modelFromHfConfig({ ...base, rope_scaling: deep }, 'c.json')).toThrow(new ConfigError('c.json: rope_scaling a deeply nested array is not supported'));
    expect(() => modelFromHfConfig({ ...base, vocab_size: new Array(1e6).fill(7) }, 'c.json')).toThrow(/^c.json: field 'vocab_size' must be an integer in \[1, 4194304\], got \[(7,){39}7\.\.\. \(2000001 characters\)$/);
  });

  it('reads config files safely: FIFOs, directories and deep nesting are refused by name', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'config.json');
    execFileSync('mkfifo', [fifo]);
    await expect(resolveModel(fifo)).rejects.toThrow(new ConfigError(`${fifo}: is a FIFO (named pipe), expected a config file`));
    const deep = join(dir, 'deep.json');
    writeFileSync(deep, `{"model_type": ${'['.repeat(1e5)}${']'.repeat(1e5)}}`);
    await expect(resolveModel(deep)).rejects.toThrow(new ConfigError(`${deep}: cannot read JSON: nesting deeper than 128 levels at line 1, column 143`));
  });

  it('resolves zoo names and rejects unknown models', async () => {
    await expect(resolveModel('tiny-pmod')).resolves.toBe(TINY_PMOD);
    await expect(resolveModel('no-such-model')).rejects.toThrow(/unknown model 'no-such-model'/);
  });
});
