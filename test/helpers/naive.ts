/**
 * An independent, deliberately plain implementation of the Llama decoder layer and of the p-MoD layer
 * (method doc section 3) on number[][] arrays. It shares no code with the reference interpreter, so tests can
 * use it to check the interpreter (and, through it, every backend).
 */
import type { TensorStore } from '../../src/ir/index.js';

export type Mat = number[][];

export interface NaiveLlamaConfig {
  hiddenSize: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
}

export function mat(store: TensorStore, name: string): Mat {
  const t = store.get(name);
  const [r, c] = [t.shape[0] ?? 0, t.shape[1] ?? 1];
  return Array.from({ length: r }, (_, i) => Array.from(t.data.subarray(i * c, (i + 1) * c)));
}

export function vec(store: TensorStore, name: string): number[] {
  return Array.from(store.get(name).data);
}

export function rows(data: ArrayLike<number>, width: number): Mat {
  const n = data.length / width;
  return Array.from({ length: n }, (_, i) => Array.from({ length: width }, (_, j) => data[i * width + j] ?? 0));
}

const f32 = Math.fround;

export function rmsnorm(x: number[], w: number[], eps: number): number[] {
  const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
  const inv = f32(1 / Math.sqrt(f32(ms) + eps));
  return x.map((v, i) => f32(v * inv) * (w[i] ?? 0));
}

export function linear(x: number[], w: Mat): number[] {
  return w.map((row) => row.reduce((a, wv, i) => a + wv * (x[i] ?? 0), 0));
}

/** Llama rotate_half RoPE of one head vector at position p (angles in float32 as Hugging Face computes them). */
export function rope(v: number[], p: number, theta: number): number[] {
  const d = v.length;
  const half = d / 2;
  const out = v.slice();
  for (let i = 0; i < half; i++) {
    const inv = f32(1 / f32(theta ** f32((2 * i) / d)));
    const ang = f32(p * inv);
    const c = f32(Math.cos(ang));
    const s = f32(Math.sin(ang));
    const [a, b] = [v[i] ?? 0, v[i + half] ?? 0];
    out[i] = a * c - b * s;
    out[i + half] = b * c + a * s;
  }
  return out;
}

export interface LayerWeights {
  inputNorm: number[];
  postNorm: number[];
  q: Mat;
  k: Mat;
  v: Mat;
  o: Mat;
  gate: Mat;
  up: Mat;
  down: Mat;
}

export function layerWeights(store: TensorStore, prefix: string): LayerWeights {
  return {
    inputNorm: vec(store, `${prefix}.input_layernorm.weight`),
    postNorm: vec(store, `${prefix}.post_attention_layernorm.weight`),
    q: mat(store, `${prefix}.self_attn.q_proj.weight`),
    k: mat(store, `${prefix}.self_attn.k_proj.weight`),
    v: mat(store, `${prefix}.self_attn.v_proj.weight`),
    o: mat(store, `${prefix}.self_attn.o_proj.weight`),
    gate: mat(store, `${prefix}.mlp.gate_proj.weight`),
    up: mat(store, `${prefix}.mlp.up_proj.weight`),
    down: mat(store, `${prefix}.mlp.down_proj.weight`),
  };
}

const silu = (x: number): number => x / (1 + Math.exp(-x));

export interface LayerResult {
  h1: Mat;
  u: Mat;
  /** Post-RoPE keys and values per token: [token][kvHead][headDim]. */
  k: number[][][];
  v: number[][][];
}

/** One Llama decoder layer on the tokens xs with position ids pos (causal by position). */
export function llamaLayer(xs: Mat, pos: number[], w: LayerWeights, cfg: NaiveLlamaConfig): LayerResult {
  const { numHeads: h, numKvHeads: hkv, headDim: hd } = cfg;
  const heads = (flat: number[], n: number): number[][] => Array.from({ length: n }, (_, i) => flat.slice(i * hd, (i + 1) * hd));
  const xn = xs.map((x) => rmsnorm(x, w.inputNorm, cfg.rmsNormEps));
  const q = xn.map((x, t) => heads(linear(x, w.q), h).map((hv) => rope(hv, pos[t] ?? 0, cfg.ropeTheta)));
  const k = xn.map((x, t) => heads(linear(x, w.k), hkv).map((hv) => rope(hv, pos[t] ?? 0, cfg.ropeTheta)));
  const v = xn.map((x) => heads(linear(x, w.v), hkv));
  const attn = xs.map((_, i) => {
    const merged: number[] = [];
    for (let head = 0; head < h; head++) {
      const kvh = Math.floor(head / (h / hkv));
      const visible = xs.map((__, j) => j).filter((j) => (pos[j] ?? 0) <= (pos[i] ?? 0));
      const scores = visible.map((j) => (q[i]?.[head] ?? []).reduce((a, qv, c) => a + qv * (k[j]?.[kvh]?.[c] ?? 0), 0) / Math.sqrt(hd));
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < hd; c++) merged.push(visible.reduce((a, j, n) => a + ((e[n] ?? 0) / z) * (v[j]?.[kvh]?.[c] ?? 0), 0));
    }
    return merged;
  });
  const h1 = xs.map((x, i) => linear(attn[i] ?? [], w.o).map((o, c) => (x[c] ?? 0) + o));
  const u = h1.map((x) => {
    const hn = rmsnorm(x, w.postNorm, cfg.rmsNormEps);
    const g = linear(hn, w.gate).map(silu);
    const up = linear(hn, w.up);
    return linear(g.map((gv, i) => gv * (up[i] ?? 0)), w.down);
  });
  return { h1, u, k, v };
}

export interface NaiveModResult {
  y: Mat;
  /** Kept routable tokens, sequence indices ascending. */
  kept: number[];
  /** Indices of every token the layer ran on. */
  keptAll: number[];
  weights: number[];
  layer: LayerResult;
}

/** The p-MoD layer exactly as the method doc states it. */
export function naiveModLayer(
  xs: Mat,
  pos: number[],
  routable: boolean[],
  router: { w: number[]; b: number },
  capacity: number,
  gate: { alpha: number; bias: number },
  w: LayerWeights,
  cfg: NaiveLlamaConfig,
): NaiveModResult {
  const z = xs.map((x) => f32(x.reduce((a, v, i) => a + v * (router.w[i] ?? 0), 0) + router.b));
  const wt = z.map((zz) => f32(gate.alpha * Math.tanh(zz) + gate.bias));
  const vision = xs.map((_, i) => i).filter((i) => routable[i]);
  // Descending score, ties to the lower index.
  const ranked = [...vision].sort((a, b) => (z[b] ?? 0) - (z[a] ?? 0) || a - b);
  const kept = ranked.slice(0, capacity).sort((a, b) => a - b);
  const keptAll = xs.map((_, i) => i).filter((i) => !routable[i] || kept.includes(i));
  const layer = llamaLayer(keptAll.map((i) => xs[i] ?? []), keptAll.map((i) => pos[i] ?? 0), w, cfg);
  const y = xs.map((x, t) => {
    const k = keptAll.indexOf(t);
    const wtt = wt[t] ?? 1;
    if (k < 0) return x.map((v) => wtt * v);
    const h1 = layer.h1[k] ?? [];
    const u = layer.u[k] ?? [];
    return h1.map((hv, c) => hv + (routable[t] ? wtt : 1) * (u[c] ?? 0));
  });
  return { y, kept, keptAll, weights: wt, layer };
}

// ---------------------------------------------------------------------------------------------------------------
// Whole-model forward (LLaVA projector, PRD schedule, every layer, final norm and head), equally plain.

export interface NaiveModelConfig extends NaiveLlamaConfig {
  numLayers: number;
  tieWordEmbeddings: boolean;
  /** p-MoD: shifted-cosine PRD with TanhNorm gate; absent for a dense model. */
  mod?: { maxRatio: number; minRatio: number; shift: number; alpha: number; bias: number };
}

/** Retention ratio of each layer, null for dense layers: r(l) = cos(pi l / (L-1)) / 2 + shift (method doc 2). */
export function naiveRatios(numLayers: number, maxRatio: number, minRatio: number, shift: number): (number | null)[] {
  return Array.from({ length: numLayers }, (_, l) => {
    const r = 0.5 * Math.cos((Math.PI * l) / (numLayers - 1)) + shift;
    return r <= maxRatio ? Math.max(r, minRatio) : null;
  });
}

/** k_l = floor(N_v * R_l) evaluated in float32, as the reference code's int-tensor-times-float does. */
export function naiveCapacity(nv: number, ratio: number): number {
  return Math.trunc(Math.fround(nv * Math.fround(ratio)));
}

/** erf by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7): a different method from the interpreter's. */
function erfApprox(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** LLaVA mlp2x_gelu: Linear -> GELU (erf) -> Linear, weights `{prefix}.0.*` and `{prefix}.2.*`. */
export function naiveProjector(store: TensorStore, prefix: string, feats: Mat): Mat {
  const lin = (x: number[], i: number): number[] => {
    const b = vec(store, `${prefix}.${i}.bias`);
    return linear(x, mat(store, `${prefix}.${i}.weight`)).map((v, j) => v + (b[j] ?? 0));
  };
  return feats.map((f) => lin(lin(f, 0).map((v) => 0.5 * v * (1 + erfApprox(v / Math.SQRT2))), 2));
}

export interface NaiveForward {
  logits: Mat;
  /** Per layer: kept vision tokens (sequence indices, ascending) for MoD layers, [] for dense layers. */
  kept: number[][];
  /** Per layer: tokens the layer's KV cache holds after this pass. */
  cacheLengths: number[];
}

/**
 * The model on token ids with an optional block of vision rows inserted at `vision.start` (the ids there are
 * ignored); positions are 0..S-1. Weights are read by their LLaVA / p-MoD checkpoint names.
 */
export function naiveForward(store: TensorStore, cfg: NaiveModelConfig, ids: number[], vision?: { embeds: Mat; start: number }): NaiveForward {
  const embed = mat(store, 'model.embed_tokens.weight');
  const nv = vision?.embeds.length ?? 0;
  let x: Mat = ids.map((id) => (embed[id] ?? []).slice());
  const routable = ids.map(() => false);
  if (vision) vision.embeds.forEach((row, i) => {
    x[vision.start + i] = row.slice();
    routable[vision.start + i] = true;
  });
  const pos = ids.map((_, t) => t);
  const ratios = cfg.mod ? naiveRatios(cfg.numLayers, cfg.mod.maxRatio, cfg.mod.minRatio, cfg.mod.shift) : new Array<null>(cfg.numLayers).fill(null);
  const kept: number[][] = [];
  const cacheLengths: number[] = [];
  ratios.forEach((r, l) => {
    if (r === null || cfg.mod === undefined) {
      const o = llamaLayer(x, pos, layerWeights(store, `model.layers.${l}`), cfg);
      x = o.h1.map((h, t) => h.map((v, i) => v + (o.u[t]?.[i] ?? 0)));
      kept.push([]);
      cacheLengths.push(ids.length);
      return;
    }
    const router = { w: vec(store, `model.layers.${l}.router.router.weight`), b: vec(store, `model.layers.${l}.router.router.bias`)[0] ?? 0 };
    const o = naiveModLayer(x, pos, routable, router, naiveCapacity(nv, r), { alpha: cfg.mod.alpha, bias: cfg.mod.bias }, layerWeights(store, `model.layers.${l}.decoder_layer`), cfg);
    x = o.y;
    kept.push(o.kept);
    cacheLengths.push(o.keptAll.length);
  });
  const head = mat(store, cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  const norm = vec(store, 'model.norm.weight');
  return { logits: x.map((row) => linear(rmsnorm(row, norm, cfg.rmsNormEps), head)), kept, cacheLengths };
}

/** Index of the largest value, ties to the lower index. */
export function naiveArgmax(row: number[]): number {
  return row.reduce((best, v, i) => (v > (row[best] ?? Number.NEGATIVE_INFINITY) ? i : best), 0);
}
