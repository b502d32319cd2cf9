/**
 * A small WebAssembly module encoder with the shape of binaryen's expression builder (`m.i32.add(a, b)`,
 * `m.block(label, children, type)`, ...), for exactly the instructions the kernel renderer emits. Kernels go
 * straight from Kernel IR to bytes: loading binaryen (a 15 MB JS module whose own Wasm V8 must compile) and
 * running its optimiser cost more than a second of a cold start, while V8's optimising tier makes the kernels
 * as fast without it (measured in docs/wasm.md). Expressions are small trees; branch labels become relative
 * depths when the function body is serialised.
 */

/** Wasm value types (their binary codes) and `none` (the empty block type). */
export type ValType = 0x7f | 0x7d | 0x7c | 0x7b | 0x40;
export const i32: ValType = 0x7f;
export const f32: ValType = 0x7d;
export const f64: ValType = 0x7c;
export const v128: ValType = 0x7b;
export const none: ValType = 0x40;

/**
 * How an instruction's immediates follow its opcode bytes: none, one unsigned or signed LEB128, a memarg
 * (alignment byte, LEB128 offset), one raw byte (a lane), or a little-endian f32 / f64. Immediates are numbers on
 * the expression rather than bytes in a fresh array: a kernel has tens of thousands of instructions, each array
 * a young-generation object that stays alive until the module is emitted.
 */
const IMM = { None: 0, U32: 1, S32: 2, MemArg: 3, Byte: 4, F32: 5, F64: 6 } as const;
export type Imm = (typeof IMM)[keyof typeof IMM];

/** An expression: its result type and how it serialises. */
export type Expr =
  | {
      readonly k: 'op';
      readonly type: ValType;
      readonly kids: readonly Expr[];
      /** The opcode bytes (shared by every use of the instruction). */
      readonly code: readonly number[];
      readonly imm: Imm;
      readonly a: number;
      readonly b: number;
    }
  | { readonly k: 'block'; readonly type: ValType; readonly label: string | null; readonly kids: readonly Expr[] }
  | { readonly k: 'loop'; readonly type: ValType; readonly label: string; readonly body: Expr }
  | { readonly k: 'if'; readonly type: ValType; readonly cond: Expr; readonly then: Expr; readonly else?: Expr }
  | { readonly k: 'br'; readonly type: ValType; readonly label: string; readonly cond?: Expr }
  | { readonly k: 'call'; readonly type: ValType; readonly name: string; readonly args: readonly Expr[] };

class Bytes {
  private buf = new Uint8Array(1024);
  length = 0;
  byte(b: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b;
  }
  bytes(bs: ArrayLike<number>): void {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i] ?? 0);
  }
  s32(v: number): void {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return;
      }
      this.byte(b | 0x80);
    }
  }
  private readonly scratch = new DataView(new ArrayBuffer(8));
  f32(v: number): void {
    this.scratch.setFloat32(0, v, true);
    for (let i = 0; i < 4; i++) this.byte(this.scratch.getUint8(i));
  }
  f64(v: number): void {
    this.scratch.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.byte(this.scratch.getUint8(i));
  }
  u32(v: number): void {
    let x = v >>> 0;
    do {
      const b = x & 0x7f;
      x >>>= 7;
      this.byte(x !== 0 ? b | 0x80 : b);
    } while (x !== 0);
  }
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }
  /** A section: id, byte length, contents. */
  section(id: number, body: Bytes): void {
    this.byte(id);
    this.u32(body.length);
    this.bytes(body.view());
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const uleb = (v: number): number[] => {
  const out: number[] = [];
  let x = v >>> 0;
  do {
    const b = x & 0x7f;
    x >>>= 7;
    out.push(x !== 0 ? b | 0x80 : b);
  } while (x !== 0);
  return out;
};
const alignLog2 = (bytes: number): number => 31 - Math.clz32(Math.max(1, bytes));

const NO_KIDS: readonly Expr[] = [];
const instr = (type: ValType, code: readonly number[], kids: readonly Expr[], imm: Imm = IMM.None, a = 0, b = 0): Expr => ({ k: 'op', type, kids, code, imm, a, b });
const op = (type: ValType, code: readonly number[], ...kids: Expr[]): Expr => instr(type, code, kids);
/** A SIMD instruction: prefix 0xfd and its opcode (LEB128), then any constant immediates. */
const simd = (n: number, imm: readonly number[] = []): number[] => [0xfd, ...uleb(n), ...imm];
const I32_CONST = [0x41];
const F32_CONST = [0x43];
const F64_CONST = [0x44];
const LOCAL_GET = [0x20];
const LOCAL_SET = [0x21];
const I32X4_EXTRACT = simd(27);
const F32X4_EXTRACT = simd(31);
const F32X4_REPLACE = simd(32);

type Un = (a: Expr) => Expr;
type Bin = (a: Expr, b: Expr) => Expr;
type Load = (offset: number, align: number, ptr: Expr) => Expr;
type Store = (offset: number, align: number, ptr: Expr, value: Expr) => Expr;

const un = (t: ValType, code: readonly number[]): Un => (a) => instr(t, code, [a]);
const bin = (t: ValType, code: readonly number[]): Bin => (a, b) => instr(t, code, [a, b]);
const load = (t: ValType, code: readonly number[]): Load => (offset, align, ptr) => instr(t, code, [ptr], IMM.MemArg, alignLog2(align), offset);
const store = (code: readonly number[]): Store => (offset, align, ptr, value) => instr(none, code, [ptr, value], IMM.MemArg, alignLog2(align), offset);
/** A lane instruction: its lane index is a one-byte immediate. */
const laneOp = (t: ValType, code: readonly number[], kids: readonly Expr[], lane: number): Expr => instr(t, code, kids, IMM.Byte, lane);

/** The float namespaces share their method names, so rules can pick `m.f32` or `m.f64` as one value. */
function floatOps(t: ValType, base: number, cmpBase: number, loadCode: number, storeCode: number) {
  // Opcode layout of f32 (f64 is the same +14 / +6): abs neg ceil floor trunc nearest sqrt add sub mul div min max.
  return {
    const: (v: number): Expr => (t === f32 ? instr(t, F32_CONST, NO_KIDS, IMM.F32, v) : instr(t, F64_CONST, NO_KIDS, IMM.F64, v)),
    abs: un(t, [base]),
    neg: un(t, [base + 1]),
    floor: un(t, [base + 3]),
    nearest: un(t, [base + 5]),
    sqrt: un(t, [base + 6]),
    add: bin(t, [base + 7]),
    sub: bin(t, [base + 8]),
    mul: bin(t, [base + 9]),
    div: bin(t, [base + 10]),
    min: bin(t, [base + 11]),
    max: bin(t, [base + 12]),
    eq: bin(i32, [cmpBase]),
    ne: bin(i32, [cmpBase + 1]),
    lt: bin(i32, [cmpBase + 2]),
    gt: bin(i32, [cmpBase + 3]),
    le: bin(i32, [cmpBase + 4]),
    ge: bin(i32, [cmpBase + 5]),
    load: load(t, [loadCode]),
    store: store([storeCode]),
  };
}

export class ModuleBuilder {
  readonly i32 = {
    const: (v: number): Expr => instr(i32, I32_CONST, NO_KIDS, IMM.S32, v),
    eqz: un(i32, [0x45]),
    eq: bin(i32, [0x46]),
    ne: bin(i32, [0x47]),
    lt_s: bin(i32, [0x48]),
    lt_u: bin(i32, [0x49]),
    gt_s: bin(i32, [0x4a]),
    gt_u: bin(i32, [0x4b]),
    le_s: bin(i32, [0x4c]),
    le_u: bin(i32, [0x4d]),
    ge_s: bin(i32, [0x4e]),
    ge_u: bin(i32, [0x4f]),
    add: bin(i32, [0x6a]),
    sub: bin(i32, [0x6b]),
    mul: bin(i32, [0x6c]),
    div_s: bin(i32, [0x6d]),
    div_u: bin(i32, [0x6e]),
    rem_s: bin(i32, [0x6f]),
    rem_u: bin(i32, [0x70]),
    and: bin(i32, [0x71]),
    or: bin(i32, [0x72]),
    xor: bin(i32, [0x73]),
    shl: bin(i32, [0x74]),
    shr_s: bin(i32, [0x75]),
    shr_u: bin(i32, [0x76]),
    load: load(i32, [0x28]),
    load8_u: load(i32, [0x2d]),
    load16_u: load(i32, [0x2f]),
    store: store([0x36]),
    store8: store([0x3a]),
    store16: store([0x3b]),
    reinterpret: un(i32, [0xbc]),
    trunc_s_sat: { f32: un(i32, [0xfc, 0]), f64: un(i32, [0xfc, 2]) },
    trunc_u_sat: { f32: un(i32, [0xfc, 1]), f64: un(i32, [0xfc, 3]) },
  };

  readonly f32 = {
    ...floatOps(f32, 0x8b, 0x5b, 0x2a, 0x38),
    reinterpret: un(f32, [0xbe]),
    demote: un(f32, [0xb6]),
    convert_s: { i32: un(f32, [0xb2]) },
    convert_u: { i32: un(f32, [0xb3]) },
  };

  readonly f64 = {
    ...floatOps(f64, 0x99, 0x61, 0x2b, 0x39),
    promote: un(f64, [0xbb]),
    convert_s: { i32: un(f64, [0xb7]) },
    convert_u: { i32: un(f64, [0xb8]) },
  };

  readonly v128 = {
    load: load(v128, simd(0)),
    load8x8_u: load(v128, simd(2)),
    load16x4_u: load(v128, simd(4)),
    load32_splat: load(v128, simd(9)),
    store: store(simd(11)),
    not: un(v128, simd(77)),
    and: bin(v128, simd(78)),
    or: bin(v128, simd(80)),
    xor: bin(v128, simd(81)),
    bitselect: (a: Expr, b: Expr, c: Expr): Expr => op(v128, simd(82), a, b, c),
  };

  readonly i8x16 = {
    shuffle: (a: Expr, b: Expr, lanes: readonly number[]): Expr => op(v128, simd(13, lanes), a, b),
  };

  readonly i32x4 = {
    splat: un(v128, simd(17)),
    extract_lane: (a: Expr, lane: number): Expr => laneOp(i32, I32X4_EXTRACT, [a], lane),
    gt_s: bin(v128, simd(59)),
    abs: un(v128, simd(160)),
    neg: un(v128, simd(161)),
    extend_low_i16x8_u: un(v128, simd(169)),
    shl: bin(v128, simd(171)),
    shr_u: bin(v128, simd(173)),
    add: bin(v128, simd(174)),
    sub: bin(v128, simd(177)),
    mul: bin(v128, simd(181)),
    min_s: bin(v128, simd(182)),
    max_s: bin(v128, simd(184)),
    trunc_sat_f32x4_s: un(v128, simd(248)),
  };

  readonly f32x4 = {
    splat: un(v128, simd(19)),
    extract_lane: (a: Expr, lane: number): Expr => laneOp(f32, F32X4_EXTRACT, [a], lane),
    replace_lane: (a: Expr, lane: number, x: Expr): Expr => laneOp(v128, F32X4_REPLACE, [a, x], lane),
    lt: bin(v128, simd(67)),
    gt: bin(v128, simd(68)),
    floor: un(v128, simd(104)),
    nearest: un(v128, simd(106)),
    abs: un(v128, simd(224)),
    neg: un(v128, simd(225)),
    sqrt: un(v128, simd(227)),
    add: bin(v128, simd(228)),
    sub: bin(v128, simd(229)),
    mul: bin(v128, simd(230)),
    div: bin(v128, simd(231)),
    min: bin(v128, simd(232)),
    max: bin(v128, simd(233)),
    /** Pseudo-min / -max: b < a ? b : a and a < b ? b : a (one instruction each on x64, where min and max take eight). */
    pmin: bin(v128, simd(234)),
    pmax: bin(v128, simd(235)),
    ne: bin(v128, simd(66)),
    /** Relaxed SIMD fused (or not) multiply-add: a * b + c. */
    relaxed_madd: (a: Expr, b: Expr, c: Expr): Expr => op(v128, simd(0x105), a, b, c),
  };

  readonly local = {
    get: (index: number, type: ValType): Expr => instr(type, LOCAL_GET, NO_KIDS, IMM.U32, index),
    set: (index: number, value: Expr): Expr => instr(none, LOCAL_SET, [value], IMM.U32, index),
  };

  private readonly imports: { name: string; module: string; base: string; params: readonly ValType[]; result: ValType }[] = [];
  private fn: { name: string; params: readonly ValType[]; vars: readonly ValType[]; body: Expr } | undefined;

  /** A block; without a type it takes its last child's (binaryen's 'auto'). */
  block(label: string | null, kids: readonly Expr[], type?: ValType): Expr {
    return { k: 'block', type: type ?? kids[kids.length - 1]?.type ?? none, label, kids };
  }
  loop(label: string, body: Expr): Expr {
    return { k: 'loop', type: body.type, label, body };
  }
  if(cond: Expr, then: Expr, otherwise?: Expr): Expr {
    return otherwise ? { k: 'if', type: then.type, cond, then, else: otherwise } : { k: 'if', type: none, cond, then };
  }
  br(label: string, cond?: Expr): Expr {
    return cond ? { k: 'br', type: none, label, cond } : { k: 'br', type: none, label };
  }
  select(cond: Expr, ifTrue: Expr, ifFalse: Expr): Expr {
    return op(ifTrue.type, [0x1b], ifTrue, ifFalse, cond);
  }
  nop(): Expr {
    return op(none, [0x01]);
  }
  call(name: string, args: readonly Expr[], type: ValType): Expr {
    return { k: 'call', type, name, args };
  }

  addFunctionImport(name: string, module: string, base: string, params: readonly ValType[], result: ValType): void {
    this.imports.push({ name, module, base, params, result });
  }

  /** The one exported function (`params` are its parameters, `vars` its further locals). */
  setFunction(name: string, params: readonly ValType[], vars: readonly ValType[], body: Expr): void {
    this.fn = { name, params, vars, body };
  }

  /**
   * The module: the functions above, and an imported shared memory `env.memory` of up to `maxPages` pages.
   */
  emit(maxPages: number): Uint8Array {
    const fn = this.fn;
    if (fn === undefined) throw new Error('wasm encoder: no function');
    const types: string[] = [];
    const typeOf = (params: readonly ValType[], results: readonly ValType[]): number => {
      const key = `${params.join(',')}>${results.join(',')}`;
      const i = types.indexOf(key);
      return i >= 0 ? i : types.push(key) - 1;
    };
    const importTypes = this.imports.map((f) => typeOf(f.params, f.result === none ? [] : [f.result]));
    const fnType = typeOf(fn.params, []);
    const out = new Bytes();
    out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const typeSec = new Bytes();
    typeSec.u32(types.length);
    for (const key of types) {
      const [p = '', r = ''] = key.split('>');
      const params = p ? p.split(',').map(Number) : [];
      const results = r ? r.split(',').map(Number) : [];
      typeSec.byte(0x60);
      typeSec.u32(params.length);
      typeSec.bytes(params);
      typeSec.u32(results.length);
      typeSec.bytes(results);
    }
    out.section(1, typeSec);
    const importSec = new Bytes();
    importSec.u32(this.imports.length + 1);
    importSec.name('env');
    importSec.name('memory');
    importSec.byte(0x02);
    importSec.byte(0x03); // shared, with a maximum
    importSec.u32(0);
    importSec.u32(maxPages);
    this.imports.forEach((f, i) => {
      importSec.name(f.module);
      importSec.name(f.base);
      importSec.byte(0x00);
      importSec.u32(importTypes[i] ?? 0);
    });
    out.section(2, importSec);
    const funcSec = new Bytes();
    funcSec.u32(1);
    funcSec.u32(fnType);
    out.section(3, funcSec);
    const exportSec = new Bytes();
    exportSec.u32(1);
    exportSec.name(fn.name);
    exportSec.byte(0x00);
    exportSec.u32(this.imports.length);
    out.section(7, exportSec);
    const body = new Bytes();
    const groups: [number, ValType][] = [];
    for (const t of fn.vars) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    body.u32(groups.length);
    for (const [n, t] of groups) {
      body.u32(n);
      body.byte(t);
    }
    const funcIndex = new Map(this.imports.map((f, i) => [f.name, i]));
    serialize(fn.body, body, [], funcIndex);
    body.byte(0x0b);
    const codeSec = new Bytes();
    codeSec.u32(1);
    codeSec.u32(body.length);
    codeSec.bytes(body.view());
    out.section(10, codeSec);
    return out.view().slice();
  }
}

/** Post-order bytes of an expression; `labels` is the stack of enclosing block / loop / if labels. */
function serialize(e: Expr, out: Bytes, labels: (string | null)[], funcs: ReadonlyMap<string, number>): void {
  switch (e.k) {
    case 'op':
      for (const kid of e.kids) serialize(kid, out, labels, funcs);
      out.bytes(e.code);
      switch (e.imm) {
        case IMM.None:
          return;
        case IMM.U32:
          out.u32(e.a);
          return;
        case IMM.S32:
          out.s32(e.a);
          return;
        case IMM.MemArg:
          out.byte(e.a);
          out.u32(e.b);
          return;
        case IMM.Byte:
          out.byte(e.a);
          return;
        case IMM.F32:
          out.f32(e.a);
          return;
        case IMM.F64:
          out.f64(e.a);
          return;
      }
      return;
    case 'block':
      out.byte(0x02);
      out.byte(e.type);
      labels.push(e.label);
      for (const kid of e.kids) serialize(kid, out, labels, funcs);
      labels.pop();
      out.byte(0x0b);
      return;
    case 'loop':
      out.byte(0x03);
      out.byte(e.type);
      labels.push(e.label);
      serialize(e.body, out, labels, funcs);
      labels.pop();
      out.byte(0x0b);
      return;
    case 'if':
      serialize(e.cond, out, labels, funcs);
      out.byte(0x04);
      out.byte(e.type);
      labels.push(null);
      serialize(e.then, out, labels, funcs);
      if (e.else) {
        out.byte(0x05);
        serialize(e.else, out, labels, funcs);
      }
      labels.pop();
      out.byte(0x0b);
      return;
    case 'br': {
      if (e.cond) serialize(e.cond, out, labels, funcs);
      const at = labels.lastIndexOf(e.label);
      if (at < 0) throw new Error(`wasm encoder: branch to unknown label '${e.label}'`);
      out.byte(e.cond ? 0x0d : 0x0c);
      out.u32(labels.length - 1 - at);
      return;
    }
    case 'call': {
      for (const a of e.args) serialize(a, out, labels, funcs);
      const i = funcs.get(e.name);
      if (i === undefined) throw new Error(`wasm encoder: call of unknown function '${e.name}'`);
      out.byte(0x10);
      out.u32(i);
      return;
    }
  }
}
