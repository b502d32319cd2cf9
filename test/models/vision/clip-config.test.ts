/** Reading CLIP vision-tower configurations from Hugging Face config.json objects, with errors naming the file. */
import { CLIP_VIT_L14_336, clipVisionFromHf, ConfigError, numPatches, selectedHiddenState, TINY_CLIP, visionTowerFor, zooModel, type VisionConfig } from '../../../models/index.js';

/** The fields of openai/clip-vit-large-patch14-336's config.json that matter here, in its layout. */
const OPENAI_CLIP_336 = {
  _name_or_path: 'openai/clip-vit-large-patch14-336',
  architectures: ['CLIPModel'],
  model_type: 'clip',
  projection_dim: 768,
  torch_dtype: 'float32',
  text_config: { model_type: 'clip_text_model', hidden_size: 768, num_hidden_layers: 12 },
  vision_config: {
    model_type: 'clip_vision_model',
    hidden_act: 'quick_gelu',
    hidden_size: 1024,
    image_size: 336,
    intermediate_size: 4096,
    layer_norm_eps: 1e-5,
    num_attention_heads: 16,
    num_channels: 3,
    num_hidden_layers: 24,
    patch_size: 14,
    projection_dim: 768,
  },
};

describe('CLIP vision config import', () => {
  it('reads the ViT-L/14-336 config.json', () => {
    expect(clipVisionFromHf(OPENAI_CLIP_336, 'clip/config.json')).toEqual(CLIP_VIT_L14_336);
    expect(numPatches(CLIP_VIT_L14_336)).toBe(576);
  });

  it('reads a bare clip_vision_model and a llava-hf vision_config, with CLIPVisionConfig defaults', () => {
    const bare = clipVisionFromHf({ model_type: 'clip_vision_model', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 3, num_attention_heads: 4, image_size: 16, patch_size: 4, _name_or_path: 'tiny-clip' });
    expect(bare).toEqual(TINY_CLIP);
    const llavaHf = clipVisionFromHf({ model_type: 'llava', torch_dtype: 'float16', vision_config: { hidden_size: 1024, image_size: 336, intermediate_size: 4096, model_type: 'clip_vision_model', num_attention_heads: 16, num_hidden_layers: 24, patch_size: 14 } }, 'llava/config.json');
    expect(llavaHf).toEqual({ ...CLIP_VIT_L14_336, name: 'llava/config.json', weightDtype: 'f16' });
    const defaults = clipVisionFromHf({ model_type: 'clip_vision_model' });
    expect(defaults).toMatchObject({ hiddenSize: 768, numLayers: 12, numHeads: 12, intermediateSize: 3072, imageSize: 224, patchSize: 32, hiddenAct: 'quick_gelu', layerNormEps: 1e-5 });
    expect(clipVisionFromHf({ model_type: 'clip_vision_model', hidden_act: 'gelu' }).hiddenAct).toBe('gelu_erf');
  });

  it('names the file and field of every bad value', () => {
    const v = OPENAI_CLIP_336.vision_config;
    const withVision = (patch: Record<string, unknown>): unknown => ({ ...OPENAI_CLIP_336, vision_config: { ...v, ...patch } });
    expect(() => clipVisionFromHf({ model_type: 'clip' }, 'c.json')).toThrow(new ConfigError("c.json: model_type 'clip' needs a 'vision_config' object"));
    expect(() => clipVisionFromHf({ model_type: 'siglip' }, 'c.json')).toThrow(/c.json: unsupported model_type "siglip" for a vision tower/);
    expect(() => clipVisionFromHf(withVision({ hidden_act: 'swish' }), 'c.json')).toThrow(/c.json vision_config: hidden_act "swish" is not supported/);
    expect(() => clipVisionFromHf(withVision({ patch_size: 15 }), 'c.json')).toThrow('c.json vision_config: image_size 336 is not a multiple of patch_size 15');
    expect(() => clipVisionFromHf(withVision({ num_attention_heads: 7 }), 'c.json')).toThrow('c.json vision_config: hidden_size 1024 is not a multiple of num_attention_heads 7');
    expect(() => clipVisionFromHf(withVision({ hidden_size: '1024' }), 'c.json')).toThrow(`c.json vision_config: field 'hidden_size' must be an integer in [1, 65536], got "1024"`);
    expect(() => clipVisionFromHf(withVision({ layer_norm_eps: 0 }), 'c.json')).toThrow(/field 'layer_norm_eps' must be a positive number, got 0/);
    expect(() => clipVisionFromHf(withVision({ model_type: 'siglip_vision_model' }), 'c.json')).toThrow(/c.json vision_config: model_type 'siglip_vision_model' is not a CLIP vision tower/);
    expect(() => clipVisionFromHf({ ...OPENAI_CLIP_336, torch_dtype: 'int8' }, 'c.json')).toThrow('c.json: unsupported torch_dtype "int8" (float32 | float16 | bfloat16)');
    expect(() => clipVisionFromHf('x', 'c.json')).toThrow('c.json: the top-level value must be a JSON object');
  });

  it('maps mm_vision_select_layer to a hidden-state index', () => {
    expect([-1, -2, -25, 0, 24].map((s) => selectedHiddenState(24, s))).toEqual([24, 23, 0, 0, 24]);
    expect(() => selectedHiddenState(24, -26)).toThrow(ConfigError);
    expect(() => selectedHiddenState(24, 1.5)).toThrow(/out of range/);
  });

  it('finds the tower of the zoo models', () => {
    expect(visionTowerFor(zooModel('pmod-llava-next-7b').vision as VisionConfig).clip).toBe(CLIP_VIT_L14_336);
    expect(visionTowerFor(zooModel('tiny-pmod').vision as VisionConfig).clip).toBe(TINY_CLIP);
  });
});
