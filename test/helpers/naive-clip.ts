/**
 * An independent, deliberately plain CLIP vision transformer (Hugging Face CLIPVisionModel) on number arrays: a
 * real strided convolution for the patch embedding, explicit per-head softmax attention, every hidden state kept.
 * It shares no code with the graph builder or the reference interpreter, so tests can check both against it.
 */
import type { TensorStore } from '../../src/ir/index.js';

export interface NaiveClipConfig {
  hiddenSize: number;
  numHeads: number;
  numLayers: number;
  patchSize: number;
  imageSize: number;
  layerNormEps: number;
}

type Vec = number[];

function t(store: TensorStore, name: string): Float32Array | Int32Array | Uint32Array | Uint8Array {
  return store.get(name).data;
}

function layerNorm(x: Vec, w: ArrayLike<number>, b: ArrayLike<number>, eps: number): Vec {
  const mean = x.reduce((a, v) => a + v, 0) / x.length;
  const variance = x.reduce((a, v) => a + (v - mean) * (v - mean), 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * (w[i] ?? 0) + (b[i] ?? 0));
}

/** y = W x + b with W [out, in] row-major. */
function affine(x: Vec, w: ArrayLike<number>, b: ArrayLike<number>, out: number): Vec {
  const n = x.length;
  const y: Vec = [];
  for (let o = 0; o < out; o++) {
    let s = b[o] ?? 0;
    for (let i = 0; i < n; i++) s += (w[o * n + i] ?? 0) * (x[i] ?? 0);
    y.push(s);
  }
  return y;
}

const quickGelu = (v: number): number => v / (1 + Math.exp(-1.702 * v));

/**
 * Runs the tower on one image [3][S][S] (flattened channel-major) and returns hidden_states: entry 0 is the
 * embeddings after pre_layrnorm, entry l the output of layer l (numLayers + 1 entries, each [1 + P][hidden]).
 */
export function naiveClipHiddenStates(pixels: ArrayLike<number>, store: TensorStore, cfg: NaiveClipConfig, prefix: string): Vec[][] {
  const { hiddenSize: d, numHeads: h, patchSize: p, imageSize: s } = cfg;
  const g = s / p;
  const hd = d / h;
  const conv = t(store, `${prefix}embeddings.patch_embedding.weight`);
  const pix = (c: number, y: number, x: number): number => pixels[(c * s + y) * s + x] ?? 0;
  const tokens: Vec[] = [Array.from(t(store, `${prefix}embeddings.class_embedding`))];
  for (let py = 0; py < g; py++) {
    for (let px = 0; px < g; px++) {
      const e: Vec = [];
      for (let o = 0; o < d; o++) {
        let acc = 0;
        for (let c = 0; c < 3; c++)
          for (let ky = 0; ky < p; ky++) for (let kx = 0; kx < p; kx++) acc += pix(c, py * p + ky, px * p + kx) * (conv[((o * 3 + c) * p + ky) * p + kx] ?? 0);
        e.push(acc);
      }
      tokens.push(e);
    }
  }
  const pos = t(store, `${prefix}embeddings.position_embedding.weight`);
  let x = tokens.map((row, i) => row.map((v, j) => v + (pos[i * d + j] ?? 0)));
  x = x.map((row) => layerNorm(row, t(store, `${prefix}pre_layrnorm.weight`), t(store, `${prefix}pre_layrnorm.bias`), cfg.layerNormEps));
  const states: Vec[][] = [x];
  for (let l = 0; l < cfg.numLayers; l++) {
    const lp = `${prefix}encoder.layers.${l}.`;
    const w = (n: string): ArrayLike<number> => t(store, lp + n);
    const xn = x.map((row) => layerNorm(row, w('layer_norm1.weight'), w('layer_norm1.bias'), cfg.layerNormEps));
    // HF scales q by head_dim^-0.5 before the dot product.
    const q = xn.map((row) => affine(row, w('self_attn.q_proj.weight'), w('self_attn.q_proj.bias'), d).map((v) => v / Math.sqrt(hd)));
    const k = xn.map((row) => affine(row, w('self_attn.k_proj.weight'), w('self_attn.k_proj.bias'), d));
    const v = xn.map((row) => affine(row, w('self_attn.v_proj.weight'), w('self_attn.v_proj.bias'), d));
    const ctx: Vec[] = x.map(() => new Array<number>(d).fill(0));
    for (let head = 0; head < h; head++) {
      for (let i = 0; i < x.length; i++) {
        const scores = k.map((kr) => {
          let sdot = 0;
          for (let c = 0; c < hd; c++) sdot += (q[i]?.[head * hd + c] ?? 0) * (kr[head * hd + c] ?? 0);
          return sdot;
        });
        const m = Math.max(...scores);
        const e = scores.map((sc) => Math.exp(sc - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < hd; c++) {
          let acc = 0;
          for (let j = 0; j < x.length; j++) acc += ((e[j] ?? 0) / z) * (v[j]?.[head * hd + c] ?? 0);
          const row = ctx[i];
          if (row) row[head * hd + c] = acc;
        }
      }
    }
    const attnOut = ctx.map((row) => affine(row, w('self_attn.out_proj.weight'), w('self_attn.out_proj.bias'), d));
    const h1 = x.map((row, i) => row.map((val, j) => val + (attnOut[i]?.[j] ?? 0)));
    const m = w('mlp.fc1.bias').length;
    const mlp = h1.map((row) => {
      const hn = layerNorm(row, w('layer_norm2.weight'), w('layer_norm2.bias'), cfg.layerNormEps);
      return affine(affine(hn, w('mlp.fc1.weight'), w('mlp.fc1.bias'), m).map(quickGelu), w('mlp.fc2.weight'), w('mlp.fc2.bias'), d);
    });
    x = h1.map((row, i) => row.map((val, j) => val + (mlp[i]?.[j] ?? 0)));
    states.push(x);
  }
  return states;
}
