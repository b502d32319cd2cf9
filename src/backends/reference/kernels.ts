/**
 * The reference meaning of every op on host tensors: one kernel per op kind in an exhaustive table.
 * Clear over fast: float math in float64, rounded once to the output dtype by the interpreter.
 */
import {
  allocData,
  type Dim,
  type Graph,
  type HostTensor,
  isFloat,
  type Node,
  type OpAttrs,
  type OpKind,
  sizeOf,
  type TensorData,
} from '../../ir/index.js';
import { copyRows, forEachBroadcast, stridesOf, transposeData } from './layout.js';
import { BINARY, BINARY_INT, COMPARE, floatToInt, LOGICAL, UNARY } from '../../ir/index.js';
import { compileExpr, fusedLinearReference } from './fused.js';
import { fusedRouteReference, modRouteReference, stringCombineReference } from './route.js';
import { topkIndices } from './topk.js';

export interface KernelContext {
  readonly node: Node;
  /** Concrete output shapes, from the node's types with symbols bound. */
  readonly outShapes: readonly (readonly number[])[];
  input(name: string): HostTensor;
  weight(name: string): HostTensor;
  runRegion(body: Graph, inputs: Readonly<Record<string, HostTensor>>): HostTensor[];
  /** A dim evaluated with the bound symbols. */
  dim(d: Dim): number;
  /** Throws an ExecutionError naming the node. */
  fail(msg: string): never;
}

export type Kernel<K extends OpKind> = (ins: readonly HostTensor[], attrs: OpAttrs[K], ctx: KernelContext) => HostTensor[];

export function arg(ins: readonly HostTensor[], i: number, ctx: KernelContext): HostTensor {
  return ins[i] ?? ctx.fail(`missing operand ${i}`);
}

export function outShape(ctx: KernelContext, i = 0): readonly number[] {
  return ctx.outShapes[i] ?? ctx.fail(`missing output shape ${i}`);
}

export const tensor = (dtype: HostTensor['dtype'], shape: readonly number[], data: TensorData): HostTensor => ({ dtype, shape: [...shape], data });

export function elementwise(ins: readonly HostTensor[], ctx: KernelContext, dtype: HostTensor['dtype'], f: (vals: readonly number[]) => number): HostTensor[] {
  const shape = outShape(ctx);
  const out = allocData(dtype, sizeOf(shape));
  const vals = new Array<number>(ins.length).fill(0);
  forEachBroadcast(shape, ins.map((t) => t.shape), (o, idx) => {
    for (let k = 0; k < ins.length; k++) vals[k] = ins[k]?.data[idx[k] ?? 0] ?? 0;
    out[o] = f(vals);
  });
  return [tensor(dtype, shape, out)];
}

/** x [..., in] times w [out, in]^T (+ b), accumulated in float64, as Float32Array [rows * out]. */
export function linearData(x: HostTensor, w: HostTensor, b?: HostTensor): Float32Array {
  const [rows, inDim] = rowsOf(x);
  const outDim = w.shape[0] ?? 0;
  const out = new Float32Array(rows * outDim);
  const xd = x.data;
  const wd = w.data;
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      let acc = b ? (b.data[o] ?? 0) : 0;
      for (let i = 0; i < inDim; i++) acc += (xd[xo + i] ?? 0) * (wd[wo + i] ?? 0);
      out[r * outDim + o] = acc;
    }
  }
  return out;
}

/** Llama RMSNorm over the last dim: the inverse RMS is computed in float32 before scaling, as Hugging Face does. */
export function rmsnormData(x: HostTensor, w: HostTensor, eps: number): Float32Array {
  const [rows, d] = rowsOf(x);
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < d; i++) ss += (x.data[r * d + i] ?? 0) ** 2;
    const inv = Math.fround(1 / Math.sqrt(Math.fround(ss / d) + eps));
    for (let i = 0; i < d; i++) out[r * d + i] = Math.fround((x.data[r * d + i] ?? 0) * inv) * (w.data[i] ?? 0);
  }
  return out;
}

export function rowsOf(x: HostTensor): [number, number] {
  const d = x.shape[x.shape.length - 1] ?? 1;
  return [d === 0 ? 0 : x.data.length / d, d];
}

function checkIndex(ctx: KernelContext, i: number, n: number, what: string): number {
  if (!Number.isInteger(i) || i < 0 || i >= n) ctx.fail(`${what} index ${i} out of range [0, ${n})`);
  return i;
}

export const KERNELS: { readonly [K in OpKind]: Kernel<K> } = {
  input: (_ins, a, ctx) => [ctx.input(a.name)],
  weight: (_ins, a, ctx) => [ctx.weight(a.name)],
  full: (_ins, a, ctx) => {
    const shape = outShape(ctx);
    const data = allocData(a.dtype, sizeOf(shape));
    data.fill(a.dtype === 'bool' ? (a.value ? 1 : 0) : a.value);
    return [tensor(a.dtype, shape, data)];
  },
  iota: (_ins, _a, ctx) => {
    const shape = outShape(ctx);
    const data = new Int32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++) data[i] = i;
    return [tensor('i32', shape, data)];
  },
  embedding: (ins, _a, ctx) => {
    const [table, ids] = [arg(ins, 0, ctx), arg(ins, 1, ctx)];
    const [v, d] = [table.shape[0] ?? 0, table.shape[1] ?? 0];
    const out = allocData(table.dtype, ids.data.length * d);
    ids.data.forEach((id, r) => copyRows(out, r * d, table.data, checkIndex(ctx, id, v, `token id at position ${r}:`) * d, d));
    return [tensor(table.dtype, outShape(ctx), out)];
  },
  linear: (ins, _a, ctx) => {
    const [x, w, b] = [arg(ins, 0, ctx), arg(ins, 1, ctx), ins[2]];
    return [tensor(x.dtype, outShape(ctx), linearData(x, w, b))];
  },
  matmul: (ins, a, ctx) => {
    const [x, y] = [arg(ins, 0, ctx), arg(ins, 1, ctx)];
    const shape = outShape(ctx);
    const r = shape.length;
    const [m, n] = [shape[r - 2] ?? 1, shape[r - 1] ?? 1];
    const xr = x.shape.length;
    const k = a.transposeA ? (x.shape[xr - 2] ?? 1) : (x.shape[xr - 1] ?? 1);
    const batchShape = shape.slice(0, -2);
    const out = allocData(x.dtype, sizeOf(shape));
    // Element strides of the two operands' matrices, so transposes need no copy.
    const [xsm, xsk] = a.transposeA ? [1, m] : [k, 1];
    const [ysk, ysn] = a.transposeB ? [1, k] : [n, 1];
    let bi = 0;
    forEachBroadcast(batchShape, [x.shape.slice(0, -2), y.shape.slice(0, -2)], (_o, idx) => {
      const xo = (idx[0] ?? 0) * m * k;
      const yo = (idx[1] ?? 0) * k * n;
      const oo = bi * m * n;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) acc += (x.data[xo + i * xsm + p * xsk] ?? 0) * (y.data[yo + p * ysk + j * ysn] ?? 0);
          out[oo + i * n + j] = acc;
        }
      }
      bi++;
    });
    return [tensor(x.dtype, shape, out)];
  },
  unary: (ins, a, ctx) => {
    const f = UNARY[a.fn];
    return elementwise(ins, ctx, arg(ins, 0, ctx).dtype, (v) => f(v[0] ?? 0));
  },
  binary: (ins, a, ctx) => {
    const dtype = arg(ins, 0, ctx).dtype;
    const f = isFloat(dtype) ? BINARY[a.fn] : BINARY_INT[a.fn];
    return elementwise(ins, ctx, dtype, (v) => f(v[0] ?? 0, v[1] ?? 0));
  },
  compare: (ins, a, ctx) => {
    const f = COMPARE[a.fn];
    return elementwise(ins, ctx, 'bool', (v) => (f(v[0] ?? 0, v[1] ?? 0) ? 1 : 0));
  },
  logical: (ins, a, ctx) => {
    const f = LOGICAL[a.fn];
    return elementwise(ins, ctx, 'bool', (v) => (f((v[0] ?? 0) !== 0, (v[1] ?? 0) !== 0) ? 1 : 0));
  },
  where: (ins, _a, ctx) => elementwise(ins, ctx, arg(ins, 1, ctx).dtype, (v) => ((v[0] ?? 0) !== 0 ? (v[1] ?? 0) : (v[2] ?? 0))),
  cast: (ins, a, ctx) => {
    const x = arg(ins, 0, ctx);
    const out = allocData(a.to, x.data.length);
    const toInt = a.to === 'i32' || a.to === 'u32';
    for (let i = 0; i < out.length; i++) {
      const v = x.data[i] ?? 0;
      out[i] = a.to === 'bool' ? (v !== 0 ? 1 : 0) : toInt && isFloat(x.dtype) ? floatToInt(v, a.to === 'u32') : v;
    }
    return [tensor(a.to, x.shape, out)];
  },
  reduce: (ins, a, ctx) => {
    const x = arg(ins, 0, ctx);
    const rank = x.shape.length;
    const axes = new Set(a.axes.map((ax) => (ax < 0 ? ax + rank : ax)));
    const keptShape = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
    const outN = sizeOf(keptShape);
    const init = a.fn === 'max' ? Number.NEGATIVE_INFINITY : a.fn === 'min' ? Number.POSITIVE_INFINITY : 0;
    const acc = new Float64Array(outN).fill(init);
    // Iterate the input; its index into the kept shape broadcasts the reduced dims away.
    forEachBroadcast(x.shape, [keptShape], (i, idx) => {
      const o = idx[0] ?? 0;
      const v = x.data[i] ?? 0;
      const cur = acc[o] ?? 0;
      acc[o] = a.fn === 'max' ? (v > cur || Number.isNaN(v) ? v : cur) : a.fn === 'min' ? (v < cur || Number.isNaN(v) ? v : cur) : cur + v;
    });
    const count = sizeOf(x.shape) / Math.max(outN, 1);
    const out = allocData(x.dtype, outN);
    for (let i = 0; i < outN; i++) out[i] = a.fn === 'mean' ? (acc[i] ?? 0) / count : (acc[i] ?? 0);
    return [tensor(x.dtype, outShape(ctx), out)];
  },
  rmsnorm: (ins, a, ctx) => {
    const [x, w] = [arg(ins, 0, ctx), arg(ins, 1, ctx)];
    return [tensor(x.dtype, x.shape, rmsnormData(x, w, a.eps))];
  },
  layernorm: (ins, a, ctx) => {
    const [x, w, b] = [arg(ins, 0, ctx), arg(ins, 1, ctx), arg(ins, 2, ctx)];
    const [rows, d] = rowsOf(x);
    const out = allocData(x.dtype, x.data.length);
    for (let r = 0; r < rows; r++) {
      let mean = 0;
      for (let i = 0; i < d; i++) mean += x.data[r * d + i] ?? 0;
      mean /= d;
      let v = 0;
      for (let i = 0; i < d; i++) v += ((x.data[r * d + i] ?? 0) - mean) ** 2;
      const inv = 1 / Math.sqrt(v / d + a.eps);
      for (let i = 0; i < d; i++) out[r * d + i] = ((x.data[r * d + i] ?? 0) - mean) * inv * (w.data[i] ?? 0) + (b.data[i] ?? 0);
    }
    return [tensor(x.dtype, x.shape, out)];
  },
  softmax: (ins, a, ctx) => {
    const x = arg(ins, 0, ctx);
    const rank = x.shape.length;
    const axis = a.axis < 0 ? a.axis + rank : a.axis;
    const len = x.shape[axis] ?? 1;
    const stride = stridesOf(x.shape)[axis] ?? 1;
    const outer = sizeOf(x.shape.slice(0, axis));
    const out = allocData(x.dtype, x.data.length);
    for (let o = 0; o < outer; o++) {
      for (let s = 0; s < stride; s++) {
        const base = o * len * stride + s;
        let m = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < len; i++) m = Math.max(m, x.data[base + i * stride] ?? 0);
        let sum = 0;
        for (let i = 0; i < len; i++) sum += Math.exp((x.data[base + i * stride] ?? 0) - m);
        for (let i = 0; i < len; i++) out[base + i * stride] = Math.exp((x.data[base + i * stride] ?? 0) - m) / sum;
      }
    }
    return [tensor(x.dtype, x.shape, out)];
  },
  rope: (ins, a, ctx) => {
    const [x, pos] = [arg(ins, 0, ctx), arg(ins, 1, ctx)];
    const [s, h, d] = [x.shape[0] ?? 0, x.shape[1] ?? 0, x.shape[2] ?? 0];
    const half = a.rotaryDim / 2;
    // Hugging Face computes inverse frequencies, angles and cos/sin in float32.
    const invFreq = Array.from({ length: half }, (_, i) => Math.fround(1 / Math.fround(a.theta ** Math.fround((2 * i) / a.rotaryDim))));
    const out = allocData(x.dtype, x.data.length);
    out.set(x.data);
    for (let t = 0; t < s; t++) {
      const p = pos.data[t] ?? 0;
      for (let i = 0; i < half; i++) {
        const ang = Math.fround(p * (invFreq[i] ?? 0));
        const [c, sn] = [Math.fround(Math.cos(ang)), Math.fround(Math.sin(ang))];
        for (let hh = 0; hh < h; hh++) {
          const base = (t * h + hh) * d;
          const x1 = x.data[base + i] ?? 0;
          const x2 = x.data[base + i + half] ?? 0;
          out[base + i] = x1 * c - x2 * sn;
          out[base + i + half] = x2 * c + x1 * sn;
        }
      }
    }
    return [tensor(x.dtype, x.shape, out)];
  },
  reshape: (ins, _a, ctx) => {
    const x = arg(ins, 0, ctx);
    return [tensor(x.dtype, outShape(ctx), x.data.slice())];
  },
  transpose: (ins, a, ctx) => {
    const x = arg(ins, 0, ctx);
    const { shape, data } = transposeData(x, a.perm);
    return [tensor(x.dtype, shape, data)];
  },
  concat: (ins, a, ctx) => {
    const first = arg(ins, 0, ctx);
    const shape = outShape(ctx);
    const axis = a.axis < 0 ? a.axis + shape.length : a.axis;
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    const out = allocData(first.dtype, sizeOf(shape));
    const outRow = (shape[axis] ?? 0) * inner;
    let off = 0;
    for (const t of ins) {
      const len = (t.shape[axis] ?? 0) * inner;
      for (let o = 0; o < outer; o++) copyRows(out, o * outRow + off, t.data, o * len, len);
      off += len;
    }
    return [tensor(first.dtype, shape, out)];
  },
  slice: (ins, a, ctx) => {
    const x = arg(ins, 0, ctx);
    const shape = outShape(ctx);
    const axis = a.axis < 0 ? a.axis + shape.length : a.axis;
    const start = ctx.dim(a.start);
    if (start + (shape[axis] ?? 0) > (x.shape[axis] ?? 0)) ctx.fail(`slice [${start}, ${start + (shape[axis] ?? 0)}) exceeds dim ${x.shape[axis] ?? 0}`);
    const outer = sizeOf(shape.slice(0, axis));
    const inner = sizeOf(shape.slice(axis + 1));
    const out = allocData(x.dtype, sizeOf(shape));
    const [inRow, outRow] = [(x.shape[axis] ?? 0) * inner, (shape[axis] ?? 0) * inner];
    for (let o = 0; o < outer; o++) copyRows(out, o * outRow, x.data, o * inRow + start * inner, outRow);
    return [tensor(x.dtype, shape, out)];
  },
  attention: (ins, a, ctx) => {
    const [q, k, v, qp, kp] = [0, 1, 2, 3, 4].map((i) => arg(ins, i, ctx)) as [HostTensor, HostTensor, HostTensor, HostTensor, HostTensor];
    const [sq, h, d] = [q.shape[0] ?? 0, q.shape[1] ?? 0, q.shape[2] ?? 0];
    const [sk, hkv] = [k.shape[0] ?? 0, k.shape[1] ?? 1];
    const dv = v.shape[2] ?? 0;
    const group = h / hkv;
    const out = allocData(q.dtype, sq * h * dv);
    const scores = new Float64Array(sk);
    for (let hh = 0; hh < h; hh++) {
      const kh = Math.floor(hh / group);
      for (let i = 0; i < sq; i++) {
        const qo = (i * h + hh) * d;
        const qpos = qp.data[i] ?? 0;
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < sk; j++) {
          if (a.causal && (kp.data[j] ?? 0) > qpos) {
            scores[j] = Number.NEGATIVE_INFINITY;
            continue;
          }
          const ko = (j * hkv + kh) * d;
          let s = 0;
          for (let c = 0; c < d; c++) s += (q.data[qo + c] ?? 0) * (k.data[ko + c] ?? 0);
          scores[j] = s * a.scale;
          m = Math.max(m, s * a.scale);
        }
        const oo = (i * h + hh) * dv;
        if (m === Number.NEGATIVE_INFINITY) continue; // no visible key: the output row stays zero
        let sum = 0;
        for (let j = 0; j < sk; j++) {
          const e = Math.exp((scores[j] ?? 0) - m);
          scores[j] = e;
          sum += e;
        }
        for (let c = 0; c < dv; c++) {
          let acc = 0;
          for (let j = 0; j < sk; j++) acc += (scores[j] ?? 0) * (v.data[(j * hkv + kh) * dv + c] ?? 0);
          out[oo + c] = acc / sum;
        }
      }
    }
    return [tensor(q.dtype, [sq, h, dv], out)];
  },
  topk: (ins, a, ctx) => {
    const [scores, mask] = [arg(ins, 0, ctx), ins[1]];
    const k = outShape(ctx)[0] ?? 0;
    const picked = topkIndices(scores.data, mask?.data, k, a.order);
    if (picked.length < k) ctx.fail(`k = ${k} but only ${picked.length} candidates are selectable`);
    return [tensor('i32', [k], Int32Array.from(picked))];
  },
  gatherRows: (ins, _a, ctx) => {
    const [x, idx] = [arg(ins, 0, ctx), arg(ins, 1, ctx)];
    const n = x.shape[0] ?? 0;
    const row = sizeOf(x.shape.slice(1));
    const out = allocData(x.dtype, idx.data.length * row);
    idx.data.forEach((i, r) => copyRows(out, r * row, x.data, checkIndex(ctx, i, n, `gatherRows row ${r}:`) * row, row));
    return [tensor(x.dtype, outShape(ctx), out)];
  },
  scatterRows: (ins, _a, ctx) => {
    const [base, idx, src] = [arg(ins, 0, ctx), arg(ins, 1, ctx), arg(ins, 2, ctx)];
    const n = base.shape[0] ?? 0;
    const row = sizeOf(base.shape.slice(1));
    const out = base.data.slice();
    const seen = new Set<number>();
    idx.data.forEach((i, r) => {
      checkIndex(ctx, i, n, `scatterRows row ${r}:`);
      // Duplicate targets would make the result depend on write order on parallel backends.
      if (seen.has(i)) ctx.fail(`scatterRows writes row ${i} twice`);
      seen.add(i);
      copyRows(out, i * row, src.data, r * row, row);
    });
    return [tensor(base.dtype, base.shape, out)];
  },
  cacheWrite: (ins, a, ctx) => {
    const [cache, rows] = [arg(ins, 0, ctx), arg(ins, 1, ctx)];
    const [c, n] = [cache.shape[0] ?? 0, rows.shape[0] ?? 0];
    const off = ctx.dim(a.offset);
    if (off < 0 || off + n > c) ctx.fail(`rows [${off}, ${off + n}) are outside the cache's ${c} rows`);
    const width = sizeOf(cache.shape.slice(1));
    const out = cache.data.slice();
    copyRows(out, off * width, rows.data, 0, n * width);
    return [tensor(cache.dtype, cache.shape, out)];
  },
  modRoute: (ins, a, ctx) => modRouteReference(ins, a, ctx),
  fusedRoute: (ins, a, ctx) => fusedRouteReference(ins, a, ctx),
  stringCombine: (ins, _a, ctx) => [stringCombineReference(ins, ctx)],
  fusedElementwise: (ins, a, ctx) => {
    const f = compileExpr(a.expr);
    return elementwise(ins, ctx, arg(ins, 0, ctx).dtype, f);
  },
  fusedLinear: (ins, a, ctx) => fusedLinearReference(ins, a, ctx),
};
