/** The CLIP tower graph against an independent CLIP implementation, its weight names, and the 336px tower's shape. */
import {
  buildClipVisionTower,
  CLIP_VIT_L14_336,
  clipFeatureTokens,
  type ClipVisionConfig,
  LLAVA_VISION_TOWER_PREFIX,
  selectedHiddenState,
  TINY_CLIP,
} from '../../../models/index.js';
import { interpret } from '../../../src/backends/reference/index.js';
import { graphInputs, graphWeights, type HostTensor, makeTensor, type MapStore, parseGraph, printGraph, sizeOf } from '../../../src/ir/index.js';
import { randomWeights, Rng } from '../../../src/runtime/random.js';
import { naiveClipHiddenStates } from '../../helpers/naive-clip.js';

const PREFIX = 'vision_model.';

/** Random weights for the full tower with LayerNorm gains near 1 (randomWeights only recognises `norm.weight`). */
function towerWeights(cfg: ClipVisionConfig, seed: number): MapStore {
  const store = randomWeights(buildClipVisionTower(cfg, { selectLayer: -1 }), seed);
  const rng = new Rng(seed + 1);
  for (const name of store.names()) {
    if (!/(layer_norm\d|pre_layrnorm)\.weight$/.test(name)) continue;
    const t = store.get(name);
    for (let i = 0; i < t.data.length; i++) t.data[i] = 1 + 0.1 * rng.normal();
  }
  return store;
}

function randomPixels(cfg: ClipVisionConfig, seed: number): HostTensor {
  const rng = new Rng(seed);
  const t = makeTensor('f32', [3, cfg.imageSize, cfg.imageSize]);
  for (let i = 0; i < t.data.length; i++) t.data[i] = 2 * rng.next() - 1.5;
  return t;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

describe('CLIP vision tower graph (tiny config)', () => {
  const cfg = TINY_CLIP;
  const weights = towerWeights(cfg, 11);
  const pixels = randomPixels(cfg, 5);
  const states = naiveClipHiddenStates(pixels.data, weights, { ...cfg }, PREFIX);
  const run = (opts: Parameters<typeof buildClipVisionTower>[1]): HostTensor => {
    const out = interpret(buildClipVisionTower(cfg, opts), { pixel_values: pixels }, { weights }).image_features;
    if (out === undefined) throw new Error('no image_features output');
    return out;
  };

  it('has 17 tokens per image (16 patches + CLS) and 4 hidden states', () => {
    expect(states).toHaveLength(cfg.numLayers + 1);
    expect(states[0]).toHaveLength(17);
  });

  it('returns hidden_states[-2] without the CLS token (LLaVA default), matching the independent implementation', () => {
    const out = run({});
    expect(out.shape).toEqual([16, 32]);
    const want = (states[cfg.numLayers - 1] ?? []).slice(1).flat();
    // Activations are O(1); the interpreter rounds to f32 after every node.
    expect(maxAbsDiff(out.data, want)).toBeLessThan(2e-5);
    // and it is not the last layer's output.
    expect(maxAbsDiff(out.data, (states[cfg.numLayers] ?? []).slice(1).flat())).toBeGreaterThan(1e-2);
  });

  it('selects other hidden states Python-style and keeps CLS with cls_patch', () => {
    for (const [sel, idx] of [[-1, 3], [0, 0], [1, 1], [-4, 0]] as const) {
      const out = run({ selectLayer: sel, selectFeature: 'cls_patch' });
      expect(out.shape).toEqual([17, 32]);
      expect(maxAbsDiff(out.data, (states[idx] ?? []).flat())).toBeLessThan(2e-5);
    }
  });

  it('builds only the layers before the selected hidden state', () => {
    const names = graphWeights(buildClipVisionTower(cfg)).map((w) => w.attrs.name);
    expect(names.some((n) => n.includes('encoder.layers.1.'))).toBe(true);
    expect(names.some((n) => n.includes('encoder.layers.2.'))).toBe(false);
    expect(graphWeights(buildClipVisionTower(cfg, { selectLayer: 0 })).map((w) => w.attrs.name).some((n) => n.includes('encoder.'))).toBe(false);
  });

  it('uses the Hugging Face weight names under the given prefix', () => {
    const g = buildClipVisionTower(cfg, { prefix: LLAVA_VISION_TOWER_PREFIX, selectLayer: -1 });
    const names = graphWeights(g).map((w) => w.attrs.name);
    const p = LLAVA_VISION_TOWER_PREFIX;
    const layer = (l: number): string[] =>
      ['q_proj', 'k_proj', 'v_proj', 'out_proj']
        .flatMap((m) => [`self_attn.${m}.weight`, `self_attn.${m}.bias`])
        .concat(['layer_norm1.weight', 'layer_norm1.bias', 'layer_norm2.weight', 'layer_norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias', 'mlp.fc2.weight', 'mlp.fc2.bias'])
        .map((n) => `${p}encoder.layers.${l}.${n}`);
    const want = [
      `${p}embeddings.patch_embedding.weight`,
      `${p}embeddings.class_embedding`,
      `${p}embeddings.position_embedding.weight`,
      `${p}pre_layrnorm.weight`,
      `${p}pre_layrnorm.bias`,
      ...layer(0),
      ...layer(1),
      ...layer(2),
    ];
    expect([...names].sort()).toEqual([...want].sort());
    const shapes = Object.fromEntries(graphWeights(g).map((w) => [w.attrs.name, w.attrs.shape]));
    expect(shapes[`${p}embeddings.patch_embedding.weight`]).toEqual([32, 3, 4, 4]);
    expect(shapes[`${p}embeddings.position_embedding.weight`]).toEqual([17, 32]);
    expect(shapes[`${p}encoder.layers.0.mlp.fc1.weight`]).toEqual([64, 32]);
  });

  it('accepts f16 weights (compute stays f32)', () => {
    const g = buildClipVisionTower(cfg, { weightDtype: 'f16' });
    expect(graphWeights(g).every((w) => w.attrs.dtype === 'f16')).toBe(true);
    expect(g.outputs.map((o) => o.name)).toEqual(['image_features']);
  });

  it('rejects a select layer outside the hidden states', () => {
    expect(() => buildClipVisionTower(cfg, { selectLayer: 4 })).toThrow(/mm_vision_select_layer 4 is out of range for a tower of 3 layers/);
    expect(() => buildClipVisionTower(cfg, { selectLayer: -5 })).toThrow(/mm_vision_select_layer -5 is out of range/);
    expect(() => buildClipVisionTower({ ...cfg, imageSize: 18 })).toThrow(/image_size 18 is not a multiple of patch_size 4/);
    expect(() => buildClipVisionTower({ ...cfg, numHeads: 5 })).toThrow(/hidden_size 32 is not a multiple of num_attention_heads 5/);
  });
});

describe('CLIP ViT-L/14-336 graph (LLaVA size, no weights)', () => {
  const g = buildClipVisionTower(CLIP_VIT_L14_336, { prefix: LLAVA_VISION_TOWER_PREFIX, weightDtype: 'f16' });

  it('verifies, takes one 336x336 image and yields 576 x 1024 features from 23 layers', () => {
    expect(graphInputs(g).map((n) => [n.attrs.name, n.attrs.shape])).toEqual([['pixel_values', [3, 336, 336]]]);
    const out = g.nodes.find((n) => n.id === g.outputs[0]?.value.node);
    expect(out?.outputs[0]?.shape).toEqual([576, 1024]);
    expect(clipFeatureTokens(CLIP_VIT_L14_336)).toBe(576);
    expect(selectedHiddenState(24, -2)).toBe(23);
    const names = graphWeights(g).map((w) => w.attrs.name);
    expect(names.filter((n) => n.endsWith('.self_attn.q_proj.weight'))).toHaveLength(23);
    expect(names.some((n) => n.includes('layers.23.') || n.includes('post_layernorm'))).toBe(false);
    // Parameters: embeddings, pre-LN, and 23 layers of 4 attention projections, 2 LayerNorms and the MLP.
    const [d, m, p, seq] = [1024, 4096, 14, 577];
    const perLayer = 4 * (d * d + d) + 4 * d + (m * d + m) + (d * m + d);
    const params = graphWeights(g).reduce((a, w) => a + sizeOf(w.attrs.shape as number[]), 0);
    expect(params).toBe(d * 3 * p * p + d + seq * d + 2 * d + 23 * perLayer);
  });

  it('prints and parses back to the same text', () => {
    const text = printGraph(g);
    expect(text).toContain(`"${LLAVA_VISION_TOWER_PREFIX}encoder.layers.22.mlp.fc2.weight"`);
    expect(text).toContain('causal = false');
    expect(printGraph(parseGraph(text))).toBe(text);
  });
});
