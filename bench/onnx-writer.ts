/**
 * A small ONNX model writer (protobuf wire format by hand; no dependency): enough of ModelProto / GraphProto /
 * NodeProto / TensorProto / ValueInfoProto to express the benchmark graphs (MatMul, Gemm-free Llama layers).
 * Field numbers follow onnx/onnx.proto.
 */

/**
 * A protobuf writer over a list of byte chunks: tensor data is kept as the caller's bytes (never copied into a
 * JS array of numbers, which failed with "invalid array length" for a 4096 x 11008 f32 weight), and `finish`
 * copies everything once into one buffer.
 */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private small: number[] = [];
  private length = 0;
  private flushSmall(): void {
    if (this.small.length) {
      this.parts.push(Uint8Array.from(this.small));
      this.small = [];
    }
  }
  private push(b: number): void {
    this.small.push(b);
    this.length++;
  }
  private chunk(data: Uint8Array): void {
    this.flushSmall();
    this.parts.push(data);
    this.length += data.length;
  }
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      this.push(byte);
    } while (x !== 0n);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  int(field: number, v: number): this {
    return this.tag(field, 0).varint(v);
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    this.chunk(new Uint8Array(new Float32Array([v]).buffer));
    return this;
  }
  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    this.chunk(data);
    return this;
  }
  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  /** A nested message: its chunks are appended as they are (no copy of a weight per nesting level). */
  msg(field: number, w: Writer): this {
    w.flushSmall();
    this.tag(field, 2).varint(w.length);
    this.flushSmall();
    this.parts.push(...w.parts);
    this.length += w.length;
    return this;
  }
  finish(): Uint8Array {
    this.flushSmall();
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

export interface OnnxAttr {
  readonly name: string;
  readonly f?: number;
  readonly i?: number;
  readonly ints?: readonly number[];
}
export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs?: readonly OnnxAttr[];
  readonly domain?: string;
}
export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly type: typeof ONNX_FLOAT | typeof ONNX_INT64;
  readonly data: Float32Array | BigInt64Array;
}
export interface OnnxValue {
  readonly name: string;
  readonly dims: readonly (number | string)[];
  readonly type?: number;
}

function valueInfo(v: OnnxValue): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.msg(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().str(2, d));
  const tensorType = new Writer().int(1, v.type ?? ONNX_FLOAT).msg(2, shape);
  return new Writer().str(1, v.name).msg(2, new Writer().msg(1, tensorType));
}

function tensor(t: OnnxTensor): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type).str(8, t.name);
  return w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function node(n: OnnxNode, i: number): Writer {
  const w = new Writer();
  for (const x of n.inputs) w.str(1, x);
  for (const x of n.outputs) w.str(2, x);
  w.str(3, `${n.op}_${i}`).str(4, n.op);
  for (const a of n.attrs ?? []) {
    const aw = new Writer().str(1, a.name);
    // AttributeType: FLOAT = 1, INT = 2, INTS = 7.
    if (a.f !== undefined) aw.float(2, a.f).int(20, 1);
    else if (a.i !== undefined) aw.int(3, a.i).int(20, 2);
    else if (a.ints !== undefined) {
      for (const x of a.ints) aw.int(8, x);
      aw.int(20, 7);
    }
    w.msg(5, aw);
  }
  if (n.domain) w.str(7, n.domain);
  return w;
}

/** Serialises a model with one graph (opset 17 of the default domain). */
export function onnxModel(g: { name: string; nodes: readonly OnnxNode[]; initializers: readonly OnnxTensor[]; inputs: readonly OnnxValue[]; outputs: readonly OnnxValue[] }): Uint8Array {
  const graph = new Writer();
  g.nodes.forEach((n, i) => graph.msg(1, node(n, i)));
  graph.str(2, g.name);
  for (const t of g.initializers) graph.msg(5, tensor(t));
  for (const v of g.inputs) graph.msg(11, valueInfo(v));
  for (const v of g.outputs) graph.msg(12, valueInfo(v));
  return new Writer().int(1, 8).str(2, 'modc-bench').msg(7, graph).msg(8, new Writer().str(1, '').int(2, 17)).finish();
}
