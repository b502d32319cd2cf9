/**
 * The protobuf wire format, just enough to read and write SentencePiece's `tokenizer.model` (varints, 32-bit
 * fixed, length-delimited fields). Readers report the byte offset of malformed input.
 */

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export interface Field {
  readonly number: number;
  readonly wire: number;
  /** varint value (exact below 2^53), or fixed32 bits. */
  readonly value: number;
  /** The low 32 bits of a varint as a signed int: protobuf int32 (negative values arrive as 64-bit two's complement). */
  readonly int32: number;
  /** Payload of a length-delimited field. */
  readonly bytes: Uint8Array;
  /** Offset of the field's tag in the message. */
  readonly offset: number;
}

export class ProtobufError extends Error {
  constructor(
    readonly offset: number,
    msg: string,
  ) {
    super(`byte ${offset}: ${msg}`);
  }
}

function readVarint(buf: Uint8Array, pos: number): [number, number, number] {
  let result = 0;
  let mul = 1;
  let low = 0;
  for (let i = 0; i < 10; i++) {
    const b = buf[pos + i];
    if (b === undefined) throw new ProtobufError(pos, 'varint runs past the end of the message');
    result += (b & 0x7f) * mul;
    if (i < 5) low |= (b & 0x7f) << (7 * i);
    mul *= 128;
    if ((b & 0x80) === 0) return [result, pos + i + 1, low | 0];
  }
  throw new ProtobufError(pos, 'varint longer than 10 bytes');
}

/** The fields of one message, in order. */
export function readFields(buf: Uint8Array, base = 0): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const [tag, p1] = readVarint(buf, pos);
    const number = Math.floor(tag / 8);
    const wire = tag % 8;
    if (number === 0) throw new ProtobufError(base + start, 'field number 0');
    pos = p1;
    if (wire === WIRE.varint) {
      const [v, p2, lo] = readVarint(buf, pos);
      out.push({ number, wire, value: v, int32: lo, bytes: new Uint8Array(0), offset: base + start });
      pos = p2;
    } else if (wire === WIRE.fixed32) {
      if (pos + 4 > buf.length) throw new ProtobufError(base + start, 'fixed32 field runs past the end of the message');
      const v = new DataView(buf.buffer, buf.byteOffset + pos, 4).getUint32(0, true);
      out.push({ number, wire, value: v, int32: v | 0, bytes: new Uint8Array(0), offset: base + start });
      pos += 4;
    } else if (wire === WIRE.fixed64) {
      if (pos + 8 > buf.length) throw new ProtobufError(base + start, 'fixed64 field runs past the end of the message');
      out.push({ number, wire, value: 0, int32: 0, bytes: buf.subarray(pos, pos + 8), offset: base + start });
      pos += 8;
    } else if (wire === WIRE.bytes) {
      const [len, p2] = readVarint(buf, pos);
      if (p2 + len > buf.length) throw new ProtobufError(base + start, `length-delimited field of ${len} bytes runs past the end of the message`);
      out.push({ number, wire, value: len, int32: 0, bytes: buf.subarray(p2, p2 + len), offset: base + p2 });
      pos = p2 + len;
    } else {
      throw new ProtobufError(base + start, `unsupported wire type ${wire} (field ${number})`);
    }
  }
  return out;
}

export function float32FromBits(bits: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setUint32(0, bits, true);
  return v.getFloat32(0, true);
}

/** Appends protobuf fields to a growing byte list. */
export class ProtoWriter {
  private readonly parts: number[] = [];

  private varint(v: number): void {
    let x = v;
    if (x < 0) throw new RangeError('negative varints are not written here');
    while (x >= 128) {
      this.parts.push((x % 128) | 0x80);
      x = Math.floor(x / 128);
    }
    this.parts.push(x);
  }

  uint(field: number, v: number): this {
    this.varint(field * 8 + WIRE.varint);
    this.varint(v);
    return this;
  }

  /** An int32 field: negative values take 10 bytes (two's complement to 64 bits), as protobuf writes them. */
  int(field: number, v: number): this {
    if (v >= 0) return this.uint(field, v);
    this.varint(field * 8 + WIRE.varint);
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 128n) {
      this.parts.push(Number(x % 128n) | 0x80);
      x /= 128n;
    }
    this.parts.push(Number(x));
    return this;
  }

  bool(field: number, v: boolean): this {
    return this.uint(field, v ? 1 : 0);
  }

  float(field: number, v: number): this {
    this.varint(field * 8 + WIRE.fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(...b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.varint(field * 8 + WIRE.bytes);
    this.varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
