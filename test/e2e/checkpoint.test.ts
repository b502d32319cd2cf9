/**
 * A tiny p-MoD-LLaVA checkpoint written in Hugging Face layout and loaded from safetensors (fp32 and bf16): the
 * projector, routing and logits against the independent implementation in test/helpers/naive.ts, and KV-cache
 * generation against recomputing the whole sequence every step.
 */
import { type LoadedCheckpoint, openCheckpoint, spliceImage } from '../../models/index.js';
import { type HostTensor, makeTensor, referenceExecutor, Rng, type TensorStore } from '../../src/index.js';
import { GenerationSession } from '../../src/runtime/session.js';
import { argmax, Sampler } from '../../src/runtime/sampling.js';
import { writeCheckpoint, type WrittenCheckpoint } from '../../scripts/make-checkpoint.js';
import { type Mat, naiveArgmax, naiveCapacity, naiveForward, type NaiveModelConfig, naiveProjector, naiveRatios, rows } from '../helpers/naive.js';
import { tempDir } from '../helpers/temp.js';

function storeOf(w: WrittenCheckpoint): TensorStore {
  return {
    has: (n) => w.tensors.has(n),
    get: (n) => {
      const t = w.tensors.get(n);
      if (t === undefined) throw new Error(`fixture has no tensor '${n}'`);
      return t;
    },
  };
}

function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? Number.NaN)) / (1 + Math.abs(b[i] ?? 0)));
  return worst;
}

const NV = 24;
const PROMPT = 20;
const IMAGE_AT = 6;

describe.each([
  ['f32', 1],
  ['bf16', 3],
] as const)('tiny p-MoD checkpoint (%s, %i shard(s))', (dtype, shards) => {
  const dir = tempDir(`modc-e2e-${dtype}-`);
  const written = writeCheckpoint(dir, { kind: 'pmod-llava', dtype, shards, seed: 11, tokenizer: false });
  let ck: LoadedCheckpoint;
  let session: GenerationSession;
  const rng = new Rng(5);
  const text = Array.from({ length: PROMPT }, () => 3 + rng.int(380));
  const ids = [...text.slice(0, IMAGE_AT), -200, ...text.slice(IMAGE_AT)];
  const feats: Mat = Array.from({ length: NV }, () => Array.from({ length: 32 }, () => Math.fround(rng.normal())));
  const cfg: NaiveModelConfig = { hiddenSize: 64, numHeads: 4, numKvHeads: 2, headDim: 16, rmsNormEps: 1e-5, ropeTheta: 10000, numLayers: 8, tieWordEmbeddings: false, mod: { maxRatio: 0.85, minRatio: 0.15, shift: 0.5, alpha: 0.2, bias: 1 } };
  const naiveIds = [...text.slice(0, IMAGE_AT), ...new Array<number>(NV).fill(0), ...text.slice(IMAGE_AT)];
  const ratios = naiveRatios(8, 0.85, 0.15, 0.5);
  let visionEmbeds: HostTensor;
  let naiveVision: Mat;

  beforeAll(async () => {
    ck = openCheckpoint(dir);
    session = await GenerationSession.create(referenceExecutor(), ck, ck.weights);
    const projector = await referenceExecutor().prepare(ck.projector ?? ck.decode, ck.weights);
    const out = await projector.run({ image_features: makeTensor('f32', [NV, 32], feats.flat()) });
    visionEmbeds = out.vision_embeds ?? makeTensor('f32', [0, 64]);
    naiveVision = naiveProjector(storeOf(written), 'model.mm_projector', feats);
  });

  it('loads in the checkpoint dtype', () => {
    expect(ck.weightDtype).toBe(dtype);
    expect(ck.weights.get('model.layers.3.router.router.weight').dtype).toBe(dtype);
  });

  it('projects image features like the independent projector', () => {
    expect(visionEmbeds.shape).toEqual([NV, 64]);
    expect(worstRelative(visionEmbeds.data, naiveVision.flat())).toBeLessThan(1e-5);
  });

  it('routes and predicts like the independent whole-model implementation', async () => {
    const spliced = spliceImage(ck.spec, ids, visionEmbeds);
    expect(spliced.length).toBe(PROMPT + NV);
    const pre = await session.prefill(spliced.inputs);
    const naive = naiveForward(storeOf(written), cfg, naiveIds, { embeds: naiveVision, start: IMAGE_AT });
    ratios.forEach((r, l) => {
      const got = pre.outputs[`routing.layer${l}`];
      if (r === null) return expect(got).toBeUndefined();
      expect(Array.from(got?.data ?? [])).toEqual(naive.kept[l]);
      expect(got?.data.length).toBe(naiveCapacity(NV, r));
    });
    expect(ratios.filter((r) => r !== null)).toHaveLength(6);
    // The generation path computes logits for the last position only.
    expect(pre.logits.shape).toEqual([1, 384]);
    expect(worstRelative(pre.logits.data, naive.logits[PROMPT + NV - 1] ?? [])).toBeLessThan(1e-3);
  });

  it('caches text + k_l tokens in MoD layers and S in dense layers, growing by one per decode step', async () => {
    const spliced = spliceImage(ck.spec, ids, visionEmbeds);
    const pre = await session.prefill(spliced.inputs);
    const S = PROMPT + NV;
    const expected = ratios.map((r) => (r === null ? S : PROMPT + naiveCapacity(NV, r)));
    expect(pre.cache.lengths()).toEqual(expected);
    // MoD layers cache the text positions and the kept vision positions, in sequence order.
    for (const [l, r] of ratios.entries()) {
      const { positions } = await pre.cache.layer(l);
      if (r === null) {
        expect(positions).toEqual(Array.from({ length: S }, (_, i) => i));
        continue;
      }
      const kept = Array.from(pre.outputs[`routing.layer${l}`]?.data ?? []);
      const textPos = Array.from({ length: S }, (_, i) => i).filter((i) => i < IMAGE_AT || i >= IMAGE_AT + NV);
      expect(positions).toEqual([...textPos, ...kept].sort((a, b) => a - b));
    }
    let token = argmax(pre.logits.data);
    for (let step = 0; step < 3; step++) {
      const logits = await session.decodeStep(pre.cache, [token], S + step);
      expect(pre.cache.lengths()).toEqual(expected.map((n) => n + step + 1));
      expect((await pre.cache.layer(0)).positions.at(-1)).toBe(S + step);
      token = argmax(logits.data);
    }
  });

  it('generates the same tokens with the KV cache as by recomputing the sequence with the prefill graph', async () => {
    const steps = 5;
    const spliced = spliceImage(ck.spec, ids, visionEmbeds, steps);
    const cached = await session.generate(spliced.inputs, { maxNewTokens: steps, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
    expect(cached.tokens).toHaveLength(steps);
    expect(cached.stop).toBe('length');
    // Recompute: the prefill graph on the prompt plus every token so far; the last row decides the next token.
    const seq = [...ids];
    const recomputed: number[] = [];
    for (let step = 0; step < steps; step++) {
      const full = await session.prefill(spliceImage(ck.spec, seq, visionEmbeds).inputs);
      const last = rows(full.logits.data, 384).at(-1) ?? [];
      expect(worstRelative(cached.logits[step] ?? [], last)).toBeLessThan(1e-4);
      const next = argmax(last);
      recomputed.push(next);
      seq.push(next);
    }
    expect(cached.tokens).toEqual(recomputed);
    // And the independent implementation, recomputing from scratch, agrees.
    const naiveSeq = [...naiveIds];
    const naiveTokens: number[] = [];
    for (let step = 0; step < 3; step++) {
      const n = naiveForward(storeOf(written), cfg, naiveSeq, { embeds: naiveVision, start: IMAGE_AT });
      const next = naiveArgmax(n.logits.at(-1) ?? []);
      naiveTokens.push(next);
      naiveSeq.push(next);
    }
    expect(cached.tokens.slice(0, 3)).toEqual(naiveTokens);
  });
});
