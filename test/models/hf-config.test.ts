import { ConfigError, HF_CONFIGS, layerRatios, modelFromHfConfig, resolveModel, TINY_PMOD, zooModel } from '../../models/index.js';

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
    expect(() => modelFromHfConfig({ ...base, hidden_size: -1 }, 'ckpt/config.json')).toThrow(new ConfigError("ckpt/config.json: field 'hidden_size' must be a positive integer, got -1"));
    expect(() => modelFromHfConfig({ ...base, mod_weight_norm: 'softmax_1_0' }, 'c.json')).toThrow(/c.json: mod_weight_norm 'softmax_1_0': gate 'softmax' is not supported/);
    expect(() => modelFromHfConfig({ ...base, mod_target_layers: 'cos_decay_0.8_0.1' }, 'c.json')).toThrow(/c.json: mod_target_layers 'cos_decay_0.8_0.1': unknown decay curve 'cos'/);
    expect(() => modelFromHfConfig({ ...base, model_type: 'gpt2' }, 'c.json')).toThrow(/unsupported model_type 'gpt2'/);
    expect(() => modelFromHfConfig({ ...base, num_key_value_heads: 5 }, 'c.json')).toThrow(/not a multiple of num_key_value_heads 5/);
    expect(() => modelFromHfConfig({ ...base, torch_dtype: 'int8' }, 'c.json')).toThrow(/unsupported torch_dtype "int8"/);
    const { vocab_size: _v, ...noVocab } = base;
    void _v;
    expect(() => modelFromHfConfig(noVocab, 'c.json')).toThrow(/missing field 'vocab_size'/);
  });

  it('resolves zoo names and rejects unknown models', async () => {
    await expect(resolveModel('tiny-pmod')).resolves.toBe(TINY_PMOD);
    await expect(resolveModel('no-such-model')).rejects.toThrow(/unknown model 'no-such-model'/);
  });
});
