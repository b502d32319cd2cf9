/**
 * A Llama decoder layer as an ONNX graph of standard opset-17 ops (for onnxruntime-web): RMSNorm spelled out
 * (Pow, ReduceMean, Add, Sqrt, Div, Mul), Q/K/V/O projections as MatMul with W^T initializers, RoPE from cos/sin
 * inputs (rotate_half with Slice/Neg/Concat), causal attention with an additive mask input, SwiGLU MLP.
 * Weights come from the same store as modc's graph (PyTorch [out, in] layout, transposed here).
 */
import { ONNX_FLOAT, ONNX_INT64, onnxModel, type OnnxNode, type OnnxTensor } from './onnx-writer.js';

export interface LayerShape {
  readonly d: number;
  readonly heads: number;
  readonly headDim: number;
  readonly inter: number;
  readonly eps: number;
}

function transposed(w: Float32Array, out: number, inn: number): Float32Array {
  const t = new Float32Array(out * inn);
  for (let o = 0; o < out; o++) for (let i = 0; i < inn; i++) t[i * out + o] = w[o * inn + i] ?? 0;
  return t;
}

const i64 = (name: string, vals: readonly number[]): OnnxTensor => ({ name, dims: [vals.length], type: ONNX_INT64, data: BigInt64Array.from(vals.map((v) => BigInt(v))) });
const f32 = (name: string, dims: number[], data: Float32Array): OnnxTensor => ({ name, dims, type: ONNX_FLOAT, data });

export function layerOnnx(c: LayerShape, s: number, w: (name: string) => Float32Array): Uint8Array {
  const { d, heads: h, headDim: hd, inter: m, eps } = c;
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [
    f32('eps', [], Float32Array.of(eps)),
    f32('two', [], Float32Array.of(2)),
    f32('scale', [], Float32Array.of(1 / Math.sqrt(hd))),
    i64('shape_heads', [s, h, hd]),
    i64('shape_merge', [s, h * hd]),
    i64('half_start0', [0]),
    i64('half_end0', [hd / 2]),
    i64('half_start1', [hd / 2]),
    i64('half_end1', [hd]),
    i64('axis2', [2]),
  ];
  const proj = (name: string, weight: string, out: number, inn: number, x: string): string => {
    inits.push(f32(`${name}_wT`, [inn, out], transposed(w(weight), out, inn)));
    nodes.push({ op: 'MatMul', inputs: [x, `${name}_wT`], outputs: [name] });
    return name;
  };
  const rms = (name: string, x: string, weight: string): string => {
    inits.push(f32(`${name}_w`, [d], w(weight)));
    nodes.push(
      { op: 'Pow', inputs: [x, 'two'], outputs: [`${name}_sq`] },
      // Opset 17: ReduceMean takes its axes as an attribute (an input only from opset 18).
      { op: 'ReduceMean', inputs: [`${name}_sq`], outputs: [`${name}_ms`], attrs: [{ name: 'axes', ints: [-1] }, { name: 'keepdims', i: 1 }] },
      { op: 'Add', inputs: [`${name}_ms`, 'eps'], outputs: [`${name}_mse`] },
      { op: 'Sqrt', inputs: [`${name}_mse`], outputs: [`${name}_rms`] },
      { op: 'Div', inputs: [x, `${name}_rms`], outputs: [`${name}_n`] },
      { op: 'Mul', inputs: [`${name}_n`, `${name}_w`], outputs: [name] },
    );
    return name;
  };
  const rope = (name: string, x: string): string => {
    nodes.push(
      { op: 'Slice', inputs: [x, 'half_start0', 'half_end0', 'axis2'], outputs: [`${name}_x1`] },
      { op: 'Slice', inputs: [x, 'half_start1', 'half_end1', 'axis2'], outputs: [`${name}_x2`] },
      { op: 'Neg', inputs: [`${name}_x2`], outputs: [`${name}_nx2`] },
      { op: 'Concat', inputs: [`${name}_nx2`, `${name}_x1`], outputs: [`${name}_rot`], attrs: [{ name: 'axis', i: 2 }] },
      { op: 'Mul', inputs: [x, 'cos'], outputs: [`${name}_c`] },
      { op: 'Mul', inputs: [`${name}_rot`, 'sin'], outputs: [`${name}_s`] },
      { op: 'Add', inputs: [`${name}_c`, `${name}_s`], outputs: [name] },
    );
    return name;
  };
  const xn = rms('xn', 'x', 'input_layernorm.weight');
  const heads = (name: string, x: string): string => {
    nodes.push({ op: 'Reshape', inputs: [x, 'shape_heads'], outputs: [name] });
    return name;
  };
  const q = rope('qr', heads('qh', proj('q', 'self_attn.q_proj.weight', h * hd, d, xn)));
  const k = rope('kr', heads('kh', proj('k', 'self_attn.k_proj.weight', h * hd, d, xn)));
  const v = heads('vh', proj('v', 'self_attn.v_proj.weight', h * hd, d, xn));
  nodes.push(
    { op: 'Transpose', inputs: [q], outputs: ['qt'], attrs: [{ name: 'perm', ints: [1, 0, 2] }] },
    { op: 'Transpose', inputs: [k], outputs: ['kt'], attrs: [{ name: 'perm', ints: [1, 2, 0] }] },
    { op: 'Transpose', inputs: [v], outputs: ['vt'], attrs: [{ name: 'perm', ints: [1, 0, 2] }] },
    { op: 'MatMul', inputs: ['qt', 'kt'], outputs: ['scores'] },
    { op: 'Mul', inputs: ['scores', 'scale'], outputs: ['scaled'] },
    { op: 'Add', inputs: ['scaled', 'mask'], outputs: ['masked'] },
    { op: 'Softmax', inputs: ['masked'], outputs: ['probs'], attrs: [{ name: 'axis', i: -1 }] },
    { op: 'MatMul', inputs: ['probs', 'vt'], outputs: ['ctx'] },
    { op: 'Transpose', inputs: ['ctx'], outputs: ['ctx_t'], attrs: [{ name: 'perm', ints: [1, 0, 2] }] },
    { op: 'Reshape', inputs: ['ctx_t', 'shape_merge'], outputs: ['merged'] },
  );
  const o = proj('o', 'self_attn.o_proj.weight', d, h * hd, 'merged');
  nodes.push({ op: 'Add', inputs: ['x', o], outputs: ['h1'] });
  const hn = rms('hn', 'h1', 'post_attention_layernorm.weight');
  const gate = proj('gate', 'mlp.gate_proj.weight', m, d, hn);
  const up = proj('up', 'mlp.up_proj.weight', m, d, hn);
  nodes.push(
    { op: 'Sigmoid', inputs: [gate], outputs: ['gate_sig'] },
    { op: 'Mul', inputs: [gate, 'gate_sig'], outputs: ['gate_act'] },
    { op: 'Mul', inputs: ['gate_act', up], outputs: ['gated'] },
  );
  const down = proj('down', 'mlp.down_proj.weight', d, m, 'gated');
  nodes.push({ op: 'Add', inputs: ['h1', down], outputs: ['y'] });
  return onnxModel({
    name: 'llama_layer',
    nodes,
    initializers: inits,
    inputs: [
      { name: 'x', dims: [s, d] },
      { name: 'cos', dims: [s, 1, hd] },
      { name: 'sin', dims: [s, 1, hd] },
      { name: 'mask', dims: [s, s] },
    ],
    outputs: [{ name: 'y', dims: [s, d] }],
  });
}

/** RoPE cos/sin tables [s, 1, headDim] (rotate_half layout: the half frequencies repeated). */
export function ropeTables(s: number, headDim: number, theta: number, positions: readonly number[]): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(s * headDim);
  const sin = new Float32Array(s * headDim);
  const half = headDim / 2;
  for (let t = 0; t < s; t++)
    for (let i = 0; i < half; i++) {
      const ang = (positions[t] ?? 0) / theta ** ((2 * i) / headDim);
      for (const j of [i, i + half]) {
        cos[t * headDim + j] = Math.cos(ang);
        sin[t * headDim + j] = Math.sin(ang);
      }
    }
  return { cos, sin };
}

/** Additive causal mask over positions: 0 where key j is visible to query i, -1e9 elsewhere. */
export function causalMask(s: number, positions: readonly number[]): Float32Array {
  const m = new Float32Array(s * s);
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) m[i * s + j] = (positions[j] ?? 0) <= (positions[i] ?? 0) ? 0 : -1e9;
  return m;
}
