/** The whole tiny p-MoD model on the reference backend against the independent implementation, layer by layer. */
import { buildLanguageModel, layerCapacities, layerPrefix, layerRatios, randomLlavaInputs, TINY_PMOD, TINY_LLAVA } from '../../models/index.js';
import { interpret } from '../../src/backends/reference/index.js';
import { randomWeights } from '../../src/runtime/random.js';
import { layerWeights, linear, llamaLayer, type Mat, mat, naiveModLayer, rmsnorm, rows, vec } from '../helpers/naive.js';

describe('tiny p-MoD model end to end', () => {
  const spec = TINY_PMOD;
  const cfg = spec.llm;
  const g = buildLanguageModel(spec, { exportRouting: true, exportKV: true });
  const w = randomWeights(g, 3);
  const inputs = randomLlavaInputs(spec, 16, 32, 3);
  const out = interpret(g, inputs, { weights: w });

  // Independent forward pass.
  const ids = Array.from(inputs.input_ids?.data ?? []);
  const visPos = Array.from(inputs.vision_positions?.data ?? []);
  const vis = rows(inputs.vision_embeds?.data ?? [], cfg.hiddenSize);
  const embed = mat(w, 'model.embed_tokens.weight');
  let x: Mat = ids.map((id) => (embed[id] ?? []).slice());
  visPos.forEach((p, i) => (x[p] = (vis[i] ?? []).slice()));
  const routable = ids.map((_, t) => visPos.includes(t));
  const pos = ids.map((_, t) => t);
  const ratios = layerRatios(spec.mod?.schedule ?? { kind: 'constant', layout: 'deep_all', ratio: 1 }, cfg.numLayers);
  const caps = layerCapacities(ratios, 32);
  const kept: number[][] = [];
  ratios.forEach((r, l) => {
    const lw = layerWeights(w, layerPrefix(l, r !== null));
    if (r === null) {
      const o = llamaLayer(x, pos, lw, cfg);
      x = o.h1.map((h, t) => h.map((v, i) => v + (o.u[t]?.[i] ?? 0)));
      kept.push([]);
    } else {
      const o = naiveModLayer(x, pos, routable, { w: vec(w, `model.layers.${l}.router.router.weight`), b: vec(w, `model.layers.${l}.router.router.bias`)[0] ?? 0 }, caps[l] ?? 0, { alpha: 0.2, bias: 1 }, lw, cfg);
      x = o.y;
      kept.push(o.kept);
    }
  });
  const head = mat(w, 'lm_head.weight');
  const logits = x.map((row) => linear(rmsnorm(row, vec(w, 'model.norm.weight'), cfg.rmsNormEps), head));

  it('routes every MoD layer like the independent implementation, keeping k_l tokens', () => {
    ratios.forEach((r, l) => {
      if (r === null) return;
      const got = Array.from(out[`routing.layer${l}`]?.data ?? []);
      expect(got).toHaveLength(caps[l] ?? -1);
      expect(got).toEqual(kept[l]);
    });
  });

  it('produces the same logits', () => {
    const got = rows(out.logits?.data ?? [], cfg.vocabSize);
    let worst = 0;
    got.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - (logits[i]?.[j] ?? Number.NaN))))));
    expect(worst).toBeLessThan(1e-3);
  });

  it('caches text + k_l tokens per MoD layer and every token per dense layer', () => {
    ratios.forEach((r, l) => expect(out[`kv.layer${l}.k`]?.shape[0]).toBe(r === null ? 48 : 16 + (caps[l] ?? 0)));
  });

  it('the dense variant differs from the routed one only through routing', () => {
    const dense = buildLanguageModel(TINY_LLAVA);
    const wd = randomWeights(dense, 3);
    const od = interpret(dense, inputs, { weights: wd });
    expect(od.logits?.shape).toEqual(out.logits?.shape);
    expect(Array.from(od.logits?.data ?? [])).not.toEqual(Array.from(out.logits?.data ?? []));
  });
});
