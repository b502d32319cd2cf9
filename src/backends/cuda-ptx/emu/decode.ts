/**
 * Decodes one `.entry` of a parsed PTX module into the interpreter's compact form: an Int32Array of fixed-width
 * instructions (opcodes.ts) whose operands are slots of three typed register files (32-bit words viewed as
 * i32 / u32 / f32; 64-bit integers as exact doubles; f64), immediates turned into constant slots, labels into
 * instruction indices, shared arrays into offsets of the CTA's shared window. Anything outside the supported
 * subset is refused with its line, never approximated.
 */
import { Cmp, Elem, GLOBAL_BASE, Op, Rnd, SPECIAL_COUNT, SPECIAL_SLOTS, STRIDE, W } from './opcodes.js';
import { type ArrayVarDecl, type EntryDecl, type Instruction, type Operand, parseIntLiteral, type PtxModule, PtxSyntaxError, typeBytes } from './parse.js';

export type RegFile = 'r32' | 'n64' | 'd64';

export interface ParamSlot {
  readonly name: string;
  readonly offset: number;
  readonly bytes: number;
  readonly type: string;
}

export interface DecodedEntry {
  readonly name: string;
  readonly code: Int32Array;
  /** Instructions (code.length / STRIDE). */
  readonly count: number;
  /** Source line of each instruction, for errors. */
  readonly lines: Int32Array;
  /** Initial register files of a thread: zeros, constants, WARP_SZ. */
  readonly init32: Int32Array;
  readonly initN64: Float64Array;
  readonly initD64: Float64Array;
  readonly params: readonly ParamSlot[];
  readonly paramBytes: number;
  /** Bytes of statically declared shared memory; a dynamic (extern) array starts there. */
  readonly staticShared: number;
  readonly reqntid?: readonly number[];
  readonly maxntid?: readonly number[];
}

export class PtxDecodeError extends Error {
  override name = 'PtxDecodeError';
}

const FILE_OF = (t: string): RegFile => (t === 'f64' ? 'd64' : t === 'b64' || t === 'u64' || t === 's64' ? 'n64' : 'r32');
const INT32 = new Set(['b32', 'u32', 's32']);
const INT64 = new Set(['b64', 'u64', 's64']);
const f32b = new Float32Array(1);
const i32b = new Int32Array(f32b.buffer);
const f64b = new Float64Array(1);
const i32x2 = new Int32Array(f64b.buffer);

interface RegInfo {
  readonly file: RegFile;
  readonly slot: number;
  readonly type: string;
}

class Decoder {
  private readonly scopes: Map<string, RegInfo>[] = [new Map()];
  private readonly counts: Record<RegFile, number> = { r32: SPECIAL_COUNT, n64: 0, d64: 0 };
  private readonly consts32 = new Map<number, number>();
  private readonly constsN = new Map<number, number>();
  private readonly constsD = new Map<string, number>();
  private readonly init32: number[] = [];
  private readonly initN: number[] = [];
  private readonly initD: number[] = [];
  private readonly code: number[] = [];
  private readonly lines: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; label: string; line: number }[] = [];
  private readonly shared = new Map<string, number>();
  private sharedTop = 0;
  private readonly params = new Map<string, ParamSlot>();
  private paramTop = 0;
  private line = 0;

  constructor(mod: PtxModule, private readonly entry: EntryDecl) {
    for (let i = 0; i < SPECIAL_COUNT; i++) this.init32.push(0);
    this.init32[SPECIAL_SLOTS.WARP_SZ ?? 14] = 32;
    for (const g of mod.globals) this.declareVar(g);
    for (const p of entry.params) {
      const bytes = typeBytes(p.type) * p.count;
      this.paramTop = Math.ceil(this.paramTop / p.align) * p.align;
      this.params.set(p.name, { name: p.name, offset: this.paramTop, bytes, type: p.type });
      this.paramTop += bytes;
    }
  }

  private fail(msg: string): never {
    throw new PtxDecodeError(`entry '${this.entry.name}', line ${this.line}: ${msg}`);
  }

  private declareVar(v: ArrayVarDecl): void {
    this.line = v.line;
    if (v.space !== 'shared') this.fail(`.${v.space} variables are not supported by the PTX interpreter`);
    const align = Math.max(1, v.align);
    this.sharedTop = Math.ceil(this.sharedTop / align) * align;
    if (v.count === undefined) {
      // A dynamic shared array: it starts after every static one (resolved at the end).
      this.shared.set(v.name, -1);
      return;
    }
    this.shared.set(v.name, this.sharedTop);
    this.sharedTop += typeBytes(v.type) * v.count;
  }

  private lookup(name: string): RegInfo | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const r = this.scopes[i]?.get(name);
      if (r) return r;
    }
    return undefined;
  }

  private newSlot(file: RegFile): number {
    const s = this.counts[file]++;
    if (file === 'r32') this.init32[s] = 0;
    else if (file === 'n64') this.initN[s] = 0;
    else this.initD[s] = 0;
    return s;
  }

  private const32(bits: number): number {
    const b = bits | 0;
    let s = this.consts32.get(b);
    if (s === undefined) {
      s = this.newSlot('r32');
      this.init32[s] = b;
      this.consts32.set(b, s);
    }
    return s;
  }
  private constN(v: number): number {
    let s = this.constsN.get(v);
    if (s === undefined) {
      s = this.newSlot('n64');
      this.initN[s] = v;
      this.constsN.set(v, s);
    }
    return s;
  }
  private constD(v: number): number {
    f64b[0] = v;
    const key = `${i32x2[0]}:${i32x2[1]}`;
    let s = this.constsD.get(key);
    if (s === undefined) {
      s = this.newSlot('d64');
      this.initD[s] = v;
      this.constsD.set(key, s);
    }
    return s;
  }

  /** The numeric value of an immediate for an instruction of type t. */
  private immValue(text: string, t: string): number {
    const neg = text.startsWith('-');
    const body = neg ? text.slice(1) : text;
    let v: number;
    if (/^0[fF][0-9a-fA-F]{8}$/.test(body)) {
      i32b[0] = Number.parseInt(body.slice(2), 16) | 0;
      v = f32b[0] ?? 0;
      if (t !== 'f32' && t !== 'f64') return neg ? -(i32b[0] ?? 0) : (i32b[0] ?? 0);
    } else if (/^0[dD][0-9a-fA-F]{16}$/.test(body)) {
      i32x2[1] = Number.parseInt(body.slice(2, 10), 16) | 0;
      i32x2[0] = Number.parseInt(body.slice(10), 16) | 0;
      v = f64b[0] ?? 0;
    } else {
      const int = parseIntLiteral(body);
      v = int ?? Number(body);
      if (Number.isNaN(v)) this.fail(`bad immediate '${text}'`);
    }
    return neg ? -v : v;
  }

  /** A source operand in the 32-bit file (register, special register, immediate or symbol address). */
  private s32(op: Operand | undefined, t: string): number {
    if (op === undefined) return this.fail('missing operand');
    if (op.kind === 'imm') {
      const v = this.immValue(op.text, t);
      if (t === 'f32') {
        f32b[0] = v;
        return this.const32(i32b[0] ?? 0);
      }
      return this.const32(v >>> 0);
    }
    if (op.kind === 'sym') {
      const sh = this.shared.get(op.name);
      if (sh !== undefined) return this.const32(sh < 0 ? this.dynamicSharedMarker() : sh);
      return this.fail(`unknown symbol '${op.name}'`);
    }
    if (op.kind !== 'reg') return this.fail(`expected a register, found ${op.kind}`);
    return this.reg(op.name, 'r32');
  }

  private dynamicSharedMarker(): number {
    return this.fail('dynamic (extern) shared arrays are addressed only after static ones; use them through mov of their symbol is not supported');
  }

  private reg(name: string, want: RegFile): number {
    const special = SPECIAL_SLOTS[name];
    if (special !== undefined) {
      if (want !== 'r32') this.fail(`special register ${name} is 32-bit`);
      return special;
    }
    const r = this.lookup(name);
    if (r === undefined) return this.fail(`register ${name} is not declared`);
    if (r.file !== want) return this.fail(`register ${name} is .${r.type}, used where a ${want === 'r32' ? '32-bit' : want === 'n64' ? '64-bit integer' : 'f64'} operand is needed`);
    return r.slot;
  }

  private sN(op: Operand | undefined): number {
    if (op === undefined) return this.fail('missing operand');
    if (op.kind === 'imm') return this.constN(this.immValue(op.text, 's64'));
    if (op.kind === 'sym') {
      const sh = this.shared.get(op.name);
      if (sh !== undefined && sh >= 0) return this.constN(sh);
      return this.fail(`unknown symbol '${op.name}'`);
    }
    if (op.kind !== 'reg') return this.fail(`expected a 64-bit register, found ${op.kind}`);
    return this.reg(op.name, 'n64');
  }

  private sD(op: Operand | undefined): number {
    if (op === undefined) return this.fail('missing operand');
    if (op.kind === 'imm') return this.constD(this.immValue(op.text, 'f64'));
    if (op.kind !== 'reg') return this.fail(`expected an f64 register, found ${op.kind}`);
    return this.reg(op.name, 'd64');
  }

  /** A source operand for instruction type t. */
  private src(op: Operand | undefined, t: string): number {
    const f = FILE_OF(t);
    return f === 'r32' ? this.s32(op, t) : f === 'n64' ? this.sN(op) : this.sD(op);
  }
  private dst(op: Operand | undefined, t: string): number {
    if (op?.kind !== 'reg') return this.fail('the destination must be a register');
    return this.reg(op.name, FILE_OF(t));
  }
  private fileOfReg(op: Operand | undefined): RegFile {
    if (op?.kind !== 'reg') return this.fail('expected a register');
    if (SPECIAL_SLOTS[op.name] !== undefined) return 'r32';
    return this.lookup(op.name)?.file ?? this.fail(`register ${op.name} is not declared`);
  }

  private push(op: number, guard: number, ...args: number[]): void {
    this.code.push(op, guard, ...args, ...new Array<number>(STRIDE - 2 - args.length).fill(0));
    this.lines.push(this.line);
  }

  decode(): DecodedEntry {
    for (const s of this.entry.body) {
      this.line = s.line;
      switch (s.kind) {
        case 'reg':
          for (const n of s.names) {
            const file = FILE_OF(s.type);
            this.scopes[this.scopes.length - 1]?.set(n, { file, slot: this.newSlot(file), type: s.type });
          }
          break;
        case 'var':
          this.declareVar(s);
          break;
        case 'label':
          this.labels.set(s.name, this.lines.length);
          break;
        case 'open':
          this.scopes.push(new Map());
          break;
        case 'close':
          this.scopes.pop();
          break;
        case 'ins':
          this.instruction(s);
          break;
      }
    }
    this.push(Op.RET, 0);
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      this.line = f.line;
      if (target === undefined) this.fail(`branch to unknown label '${f.label}'`);
      this.code[f.at] = target * STRIDE;
    }
    return {
      name: this.entry.name,
      code: Int32Array.from(this.code),
      count: this.lines.length,
      lines: Int32Array.from(this.lines),
      init32: Int32Array.from(this.init32),
      initN64: Float64Array.from(this.initN),
      initD64: Float64Array.from(this.initD),
      params: [...this.params.values()],
      paramBytes: this.paramTop,
      staticShared: Math.ceil(this.sharedTop / 16) * 16,
      ...(this.entry.reqntid ? { reqntid: this.entry.reqntid } : {}),
      ...(this.entry.maxntid ? { maxntid: this.entry.maxntid } : {}),
    };
  }

  private guardOf(ins: Instruction): number {
    if (!ins.guard) return 0;
    const slot = this.reg(ins.guard.reg, 'r32');
    return ins.guard.negate ? -(slot + 1) : slot + 1;
  }

  private unsupported(ins: Instruction): never {
    return this.fail(`'${[ins.op, ...ins.mods].join('.')}' is not supported by the PTX interpreter`);
  }

  private instruction(ins: Instruction): void {
    const g = this.guardOf(ins);
    const ops = ins.operands;
    const t = ins.mods[ins.mods.length - 1] ?? '';
    const mods = new Set(ins.mods);
    const has = (m: string): boolean => mods.has(m);
    if (has('ftz') || (has('sat') && ins.op !== 'cvt')) this.fail(`'.${has('ftz') ? 'ftz' : 'sat'}' is not supported by the PTX interpreter`);
    const bin = (op32: number | undefined, opN: number | undefined, opF: number | undefined, opD: number | undefined): void => {
      const f = FILE_OF(t);
      const op = t === 'f32' ? opF : t === 'f64' ? opD : f === 'n64' ? opN : opF === undefined || t !== 'f32' ? op32 : undefined;
      if (op === undefined) this.unsupported(ins);
      this.push(op, g, this.dst(ops[0], t), this.src(ops[1], t), this.src(ops[2], t), ...(ops[3] ? [this.src(ops[3], t)] : []));
    };
    const un = (op32: number | undefined, opN: number | undefined, opF: number | undefined, opD: number | undefined): void => {
      const f = FILE_OF(t);
      const op = t === 'f32' ? opF : t === 'f64' ? opD : f === 'n64' ? opN : op32;
      if (op === undefined) this.unsupported(ins);
      this.push(op, g, this.dst(ops[0], t), this.src(ops[1], t));
    };
    const signed = t.startsWith('s');
    switch (ins.op) {
      case 'mov':
        return this.mov(ins, g, t);
      case 'add':
      case 'sub':
        if (has('cc') || has('sat')) this.unsupported(ins);
        return ins.op === 'add' ? bin(Op.ADD_I32, Op.ADD_N64, Op.ADD_F32, Op.ADD_F64) : bin(Op.SUB_I32, Op.SUB_N64, Op.SUB_F32, Op.SUB_F64);
      case 'mul':
        if (has('wide')) {
          this.push(signed ? Op.MUL_WIDE_S32 : Op.MUL_WIDE_U32, g, this.dst(ops[0], 's64'), this.s32(ops[1], t), this.s32(ops[2], t));
          return;
        }
        if (has('hi')) {
          if (FILE_OF(t) !== 'r32') this.unsupported(ins);
          this.push(signed ? Op.MUL_HI_S32 : Op.MUL_HI_U32, g, this.dst(ops[0], t), this.s32(ops[1], t), this.s32(ops[2], t));
          return;
        }
        return bin(Op.MUL_LO_I32, Op.MUL_LO_N64, Op.MUL_F32, Op.MUL_F64);
      case 'mad':
        if (has('wide')) {
          this.push(signed ? Op.MAD_WIDE_S32 : Op.MAD_WIDE_U32, g, this.dst(ops[0], 's64'), this.s32(ops[1], t), this.s32(ops[2], t), this.sN(ops[3]));
          return;
        }
        if (has('hi') || has('cc')) this.unsupported(ins);
        return bin(Op.MAD_LO_I32, Op.MAD_LO_N64, Op.FMA_F32, Op.FMA_F64);
      case 'fma':
        return bin(undefined, undefined, Op.FMA_F32, Op.FMA_F64);
      case 'div':
        return bin(signed ? Op.DIV_S32 : Op.DIV_U32, signed ? Op.DIV_S64 : Op.DIV_U64, Op.DIV_F32, Op.DIV_F64);
      case 'rem':
        return bin(signed ? Op.REM_S32 : Op.REM_U32, signed ? Op.REM_S64 : Op.REM_U64, undefined, undefined);
      case 'min':
      case 'max': {
        const isMin = ins.op === 'min';
        if (has('relu') || has('xorsign')) this.unsupported(ins);
        if (t === 'f32' && has('NaN')) return bin(undefined, undefined, isMin ? Op.MIN_NAN_F32 : Op.MAX_NAN_F32, undefined);
        if (has('NaN')) this.unsupported(ins);
        if (FILE_OF(t) === 'n64' && !signed) this.unsupported(ins);
        return bin(isMin ? (signed ? Op.MIN_S32 : Op.MIN_U32) : signed ? Op.MAX_S32 : Op.MAX_U32, isMin ? Op.MIN_N64 : Op.MAX_N64, isMin ? Op.MIN_F32 : Op.MAX_F32, isMin ? Op.MIN_F64 : Op.MAX_F64);
      }
      case 'neg':
        return un(Op.NEG_S32, Op.NEG_N64, Op.NEG_F32, Op.NEG_F64);
      case 'abs':
        return un(Op.ABS_S32, undefined, Op.ABS_F32, Op.ABS_F64);
      case 'and':
      case 'or':
      case 'xor': {
        const [o32, oN] = ins.op === 'and' ? [Op.AND32, Op.AND64] : ins.op === 'or' ? [Op.OR32, Op.OR64] : [Op.XOR32, Op.XOR64];
        if (t === 'pred') {
          this.push(o32, g, this.dst(ops[0], t), this.predSrc(ops[1]), this.predSrc(ops[2]));
          return;
        }
        return bin(o32, oN, undefined, undefined);
      }
      case 'not':
        if (t === 'pred') return this.push(Op.NOT_PRED, g, this.dst(ops[0], t), this.s32(ops[1], t));
        return un(t === 'b16' ? Op.NOT16 : Op.NOT32, Op.NOT64, undefined, undefined);
      case 'shl':
      case 'shr': {
        const op = ins.op === 'shl' ? [Op.SHL32, Op.SHL64] : signed ? [Op.SHR_S32, Op.SHR_S64] : [Op.SHR_U32, Op.SHR_U64];
        const file = FILE_OF(t);
        if (t.endsWith('16')) this.unsupported(ins);
        this.push(file === 'n64' ? (op[1] as number) : (op[0] as number), g, this.dst(ops[0], t), this.src(ops[1], t), this.s32(ops[2], 'u32'));
        return;
      }
      case 'popc':
      case 'clz':
      case 'brev':
        if (!INT32.has(t)) this.unsupported(ins);
        return this.push(ins.op === 'popc' ? Op.POPC32 : ins.op === 'clz' ? Op.CLZ32 : Op.BREV32, g, this.dst(ops[0], 'u32'), this.s32(ops[1], t));
      case 'lop3':
        return this.push(Op.LOP3, g, this.dst(ops[0], t), this.s32(ops[1], t), this.s32(ops[2], t), this.s32(ops[3], t), this.lutImm(ops[4]));
      case 'prmt':
        if (ins.mods.length !== 1) this.unsupported(ins);
        return this.push(Op.PRMT, g, this.dst(ops[0], t), this.s32(ops[1], t), this.s32(ops[2], t), this.s32(ops[3], t));
      case 'bfe':
        if (!INT32.has(t)) this.unsupported(ins);
        return this.push(signed ? Op.BFE_S32 : Op.BFE_U32, g, this.dst(ops[0], t), this.s32(ops[1], t), this.s32(ops[2], 'u32'), this.s32(ops[3], 'u32'));
      case 'sqrt':
      case 'rcp':
      case 'rsqrt':
      case 'ex2':
      case 'lg2':
      case 'sin':
      case 'cos':
      case 'tanh': {
        const table: Record<string, [number | undefined, number | undefined]> = {
          sqrt: [Op.SQRT_F32, Op.SQRT_F64], rcp: [Op.RCP_F32, Op.RCP_F64], rsqrt: [Op.RSQRT_F32, Op.RSQRT_F64],
          ex2: [Op.EX2_F32, undefined], lg2: [Op.LG2_F32, undefined], sin: [Op.SIN_F32, undefined], cos: [Op.COS_F32, undefined], tanh: [Op.TANH_F32, undefined],
        };
        const [f, d] = table[ins.op] ?? [undefined, undefined];
        if (has('approx') === false && (ins.op === 'ex2' || ins.op === 'lg2' || ins.op === 'sin' || ins.op === 'cos' || ins.op === 'tanh' || ins.op === 'rsqrt')) this.unsupported(ins);
        return un(undefined, undefined, f, d);
      }
      case 'copysign':
        return bin(undefined, undefined, Op.COPYSIGN_F32, Op.COPYSIGN_F64);
      case 'selp': {
        const f = FILE_OF(t);
        this.push(f === 'r32' ? Op.SELP32 : f === 'n64' ? Op.SELP_N64 : Op.SELP_D64, g, this.dst(ops[0], t), this.src(ops[1], t), this.src(ops[2], t), this.predSrc(ops[3]));
        return;
      }
      case 'setp':
        return this.setp(ins, g, t);
      case 'testp': {
        const kinds: Record<string, number> = { finite: 0, infinite: 1, number: 2, notanumber: 3, normal: 4, subnormal: 5 };
        const k = kinds[ins.mods[0] ?? ''];
        if (k === undefined || (t !== 'f32' && t !== 'f64')) this.unsupported(ins);
        this.push(t === 'f32' ? Op.TESTP_F32 : Op.TESTP_F64, g, this.dst(ops[0], 'pred'), this.src(ops[1], t), k);
        return;
      }
      case 'cvt':
        return this.cvt(ins, g);
      case 'cvta':
        return this.cvta(ins, g);
      case 'ld':
      case 'ldu':
      case 'st':
        return this.memory(ins, g);
      case 'bra': {
        const target = ops[0];
        if (target?.kind !== 'sym') this.fail('bra needs a label');
        this.fixups.push({ at: this.code.length + W.d, label: target.name, line: this.line });
        this.push(Op.BRA, g, 0);
        return;
      }
      case 'bar':
      case 'barrier': {
        if (!has('sync') && !(ins.op === 'barrier' && ins.mods.length === 0)) this.unsupported(ins);
        const id = ops[0];
        if (id?.kind !== 'imm' || this.immValue(id.text, 'u32') !== 0) this.fail('only barrier 0 is supported by the PTX interpreter');
        this.push(Op.BAR, g, ops[1] ? this.s32(ops[1], 'u32') : -1);
        return;
      }
      case 'ret':
      case 'exit':
        return this.push(Op.RET, g);
      case 'membar':
      case 'fence':
        // Threads of a CTA run one after another between barriers: every access is already ordered.
        return this.push(Op.NOP, g);
      default:
        return this.unsupported(ins);
    }
  }

  private predSrc(op: Operand | undefined): number {
    if (op?.kind === 'reg' && op.name.startsWith('!')) this.fail('negated predicate operands are not supported by the PTX interpreter');
    return this.s32(op, 'pred');
  }

  private lutImm(op: Operand | undefined): number {
    if (op?.kind !== 'imm') return this.fail('lop3 needs an immediate lookup table');
    return this.immValue(op.text, 'u32') & 0xff;
  }

  private mov(ins: Instruction, g: number, t: string): void {
    const [d, a] = ins.operands;
    if (d?.kind === 'vec') {
      // Unpack: mov.b64 {lo, hi}, x / mov.b32 {lo, hi}, x
      const items = d.items.map((x) => this.dst(x, 'b32'));
      if (t === 'b64') {
        const f = this.fileOfReg(a);
        this.push(f === 'd64' ? Op.UNPACK64_D : Op.UNPACK64_N, g, items[0] ?? 0, f === 'd64' ? this.sD(a) : this.sN(a), items[1] ?? 0);
      } else if (t === 'b32') this.push(Op.UNPACK32, g, items[0] ?? 0, this.s32(a, 'b32'), items[1] ?? 0);
      else this.unsupported(ins);
      return;
    }
    if (a?.kind === 'vec') {
      const items = a.items.map((x) => this.s32(x, 'b32'));
      if (t === 'b64') {
        const f = this.fileOfReg(d);
        this.push(f === 'd64' ? Op.PACK64_D : Op.PACK64_N, g, f === 'd64' ? this.dst(d, 'f64') : this.dst(d, 'b64'), items[0] ?? 0, items[1] ?? 0);
      } else if (t === 'b32') this.push(Op.PACK32, g, this.dst(d, 'b32'), items[0] ?? 0, items[1] ?? 0);
      else this.unsupported(ins);
      return;
    }
    const fd = this.fileOfReg(d);
    if (fd === 'r32') return this.push(Op.MOV32, g, this.dst(d, 'b32'), this.s32(a, t));
    const fa = a?.kind === 'reg' ? this.fileOfReg(a) : fd;
    if (fd === 'n64') return this.push(fa === 'd64' ? Op.MOV_D64_N64 : Op.MOV_N64, g, this.dst(d, 'b64'), fa === 'd64' ? this.sD(a) : this.sN(a));
    return this.push(fa === 'n64' ? Op.MOV_N64_D64 : Op.MOV_D64, g, this.dst(d, 'f64'), fa === 'n64' ? this.sN(a) : this.sD(a));
  }

  private setp(ins: Instruction, g: number, t: string): void {
    const [cmpName = '', maybeBool] = ins.mods;
    const boolOp = ins.mods.length === 3 ? maybeBool : undefined;
    const alias: Record<string, string> = { lo: 'lt', ls: 'le', hi: 'gt', hs: 'ge' };
    const cmp = Cmp[(alias[cmpName] ?? cmpName) as keyof typeof Cmp];
    if (cmp === undefined) this.unsupported(ins);
    const [d, a, b, c] = ins.operands;
    if (d?.kind === 'reg' && d.name.includes('|')) this.unsupported(ins);
    const combine = boolOp === undefined ? 0 : boolOp === 'and' ? 1 : boolOp === 'or' ? 2 : boolOp === 'xor' ? 3 : this.unsupported(ins);
    const unsigned = t.startsWith('u') || t === 'b32' || t === 'b64' || t === 'b16';
    const file = FILE_OF(t);
    const op = t === 'f32' ? Op.SETP_F32 : t === 'f64' ? Op.SETP_F64 : file === 'n64' ? (unsigned ? Op.SETP_U64 : Op.SETP_S64) : unsigned ? Op.SETP_U32 : Op.SETP_S32;
    if (op !== Op.SETP_F32 && op !== Op.SETP_F64 && cmp > Cmp.ge) this.unsupported(ins);
    this.push(op, g, this.dst(d, 'pred'), this.src(a, t), this.src(b, t), cmp, combine, combine ? this.predSrc(c) : 0);
  }

  private cvt(ins: Instruction, g: number): void {
    const mods = ins.mods.filter((m) => m !== 'sat');
    const dt = mods[mods.length - 2] ?? '';
    const at = mods[mods.length - 1] ?? '';
    const rnd = mods.length > 2 ? mods[0] : undefined;
    const [d, a] = ins.operands;
    const isF = (x: string): boolean => x === 'f32' || x === 'f64';
    const intBits = (x: string): number => (/^[sub](8|16|32|64)$/.test(x) ? Number(x.slice(1)) : 0);
    const fail = (): never => this.unsupported(ins);
    if (rnd !== undefined && !['rn', 'rz', 'rm', 'rp', 'rni', 'rzi', 'rmi', 'rpi'].includes(rnd)) fail();
    // float <- float
    if (isF(dt) && isF(at)) {
      if (dt === at) {
        const r = Rnd[(rnd ?? '') as keyof typeof Rnd];
        if (r === undefined) return this.push(dt === 'f32' ? Op.MOV32 : Op.MOV_D64, g, this.dst(d, dt), this.src(a, at));
        return this.push(dt === 'f32' ? Op.CVT_RI_F32 : Op.CVT_RI_F64, g, this.dst(d, dt), this.src(a, at), r);
      }
      if (dt === 'f64') return this.push(Op.CVT_F64_F32, g, this.dst(d, dt), this.s32(a, at));
      if (rnd !== 'rn') fail();
      return this.push(Op.CVT_F32_F64, g, this.dst(d, dt), this.sD(a));
    }
    if ((dt === 'f16' || dt === 'bf16') && (at === 'f32' || at === 'f64')) {
      if (rnd !== 'rn') fail();
      // f64 -> f16 rounds once in hardware; the interpreter does not model it (modc rounds through f32).
      if (at === 'f64') fail();
      return this.push(dt === 'f16' ? Op.CVT_F16_F32 : Op.CVT_BF16_F32, g, this.dst(d, 'b16'), this.s32(a, 'f32'));
    }
    if ((at === 'f16' || at === 'bf16') && (dt === 'f32' || dt === 'f64')) {
      if (dt === 'f64') return at === 'f16' ? this.push(Op.CVT_F64_F16, g, this.dst(d, 'f64'), this.s32(a, 'b16')) : fail();
      return this.push(at === 'f16' ? Op.CVT_F32_F16 : Op.CVT_F32_BF16, g, this.dst(d, 'f32'), this.s32(a, 'b16'));
    }
    // float <- int (round to nearest even only)
    if (isF(dt) && intBits(at)) {
      if (rnd !== 'rn') fail();
      const bits = intBits(at);
      if (bits === 64) return this.push(dt === 'f32' ? Op.CVT_F32_N64 : Op.CVT_F64_N64, g, this.dst(d, dt), this.sN(a));
      const s = at.startsWith('s');
      if (bits !== 32) fail();
      return this.push(dt === 'f32' ? (s ? Op.CVT_F32_S32 : Op.CVT_F32_U32) : s ? Op.CVT_F64_S32 : Op.CVT_F64_U32, g, this.dst(d, dt), this.s32(a, at));
    }
    // int <- float: integer rounding, saturating
    if (intBits(dt) && isF(at)) {
      const r = Rnd[(rnd ?? '') as keyof typeof Rnd];
      if (r === undefined) fail();
      const bits = intBits(dt);
      const kind = (dt.startsWith('s') ? 1 : 0) | (bits << 1) | (r << 8);
      if (bits === 64) return this.push(at === 'f32' ? Op.CVT_N64_F32 : Op.CVT_N64_F64, g, this.dst(d, dt), this.src(a, at), kind);
      return this.push(at === 'f32' ? Op.CVT_I32_F32 : Op.CVT_I32_F64, g, this.dst(d, dt), this.src(a, at), kind);
    }
    // int <- int
    const [db, ab] = [intBits(dt), intBits(at)];
    if (db && ab) {
      const sd = dt.startsWith('s');
      const sa = at.startsWith('s');
      if (db === 64 && ab === 64) return this.push(Op.MOV_N64, g, this.dst(d, dt), this.sN(a));
      if (db === 64) return this.push(Op.CVT_N64_I32, g, this.dst(d, dt), this.s32(a, at), (sa ? 1 : 0) | (ab << 1));
      if (ab === 64) return this.push(Op.CVT_I32_N64, g, this.dst(d, dt), this.sN(a), (sd ? 1 : 0) | (db << 1));
      // Narrow to the smaller width with the signedness that decides the extension.
      const width = Math.min(db, ab);
      const sign = db <= ab ? sd : sa;
      return this.push(Op.CVT_INT32, g, this.dst(d, dt), this.s32(a, at), (sign ? 1 : 0) | (width << 1));
    }
    fail();
  }

  private cvta(ins: Instruction, g: number): void {
    const to = ins.mods[0] === 'to';
    const space = to ? ins.mods[1] : ins.mods[0];
    const t = ins.mods[ins.mods.length - 1] ?? '';
    const [d, a] = ins.operands;
    if (space === 'global') {
      if (t !== 'u64') this.unsupported(ins);
      return this.push(Op.MOV_N64, g, this.dst(d, t), this.sN(a));
    }
    if (space === 'shared') {
      if (to) {
        const dt = this.fileOfReg(d);
        return this.push(Op.CVTA_TO_SHARED, g, dt === 'r32' ? this.dst(d, 'u32') : this.dst(d, 'u64'), this.sN(a), dt === 'r32' ? 1 : 0);
      }
      const fa = a?.kind === 'reg' ? this.fileOfReg(a) : 'n64';
      return this.push(Op.CVTA_SHARED, g, this.dst(d, 'u64'), fa === 'r32' ? this.s32(a, 'u32') : this.sN(a), fa === 'r32' ? 1 : 0);
    }
    this.unsupported(ins);
  }

  private memory(ins: Instruction, g: number): void {
    const mods = ins.mods;
    const spaces = ['global', 'shared', 'param', 'local', 'const'];
    const space = mods.find((m) => spaces.includes(m)) ?? 'generic';
    const lanes = mods.includes('v4') ? 4 : mods.includes('v2') ? 2 : 1;
    const t = mods[mods.length - 1] ?? '';
    const isLoad = ins.op !== 'st';
    const [dataOp, addrOp] = isLoad ? [ins.operands[0], ins.operands[1]] : [ins.operands[1], ins.operands[0]];
    if (space === 'local' || space === 'const') this.fail(`.${space} memory is not supported by the PTX interpreter`);
    const elem = t === 'u8' || t === 'b8' ? Elem.U8 : t === 's8' ? Elem.S8 : t === 'u16' || t === 'b16' || t === 'f16' || t === 'bf16' ? Elem.U16 : t === 's16' ? Elem.S16 : INT32.has(t) || t === 'f32' ? Elem.B32 : INT64.has(t) ? Elem.N64 : t === 'f64' ? Elem.D64 : this.unsupported(ins);
    if (addrOp?.kind !== 'addr') return this.fail(`${ins.op} needs an address operand`);
    const items = dataOp?.kind === 'vec' ? dataOp.items : [dataOp];
    if (items.length !== lanes) this.fail(`${lanes} data operands expected, found ${items.length}`);
    const dataType = elem === Elem.N64 ? 'b64' : elem === Elem.D64 ? 'f64' : t === 'f32' ? 'f32' : 'b32';
    const data = items.map((x) => (isLoad ? this.dst(x, dataType) : this.src(x, dataType)));
    if (space === 'param') {
      if (!isLoad || lanes !== 1) this.unsupported(ins);
      const p = this.params.get(addrOp.base ?? '');
      if (p === undefined) return this.fail(`unknown parameter '${addrOp.base}'`);
      return this.push(Op.LD_PARAM, g, data[0] ?? 0, -1, p.offset + addrOp.offset, elem);
    }
    let base = -1;
    let offset = addrOp.offset;
    let wide = 0;
    if (addrOp.base !== undefined) {
      const sh = this.shared.get(addrOp.base);
      if (sh !== undefined) {
        if (space !== 'shared') this.fail(`shared symbol '${addrOp.base}' used by a .${space} access`);
        if (sh < 0) this.fail('dynamic shared arrays are not supported by the PTX interpreter');
        offset += sh;
      } else {
        const f = this.fileOfReg({ kind: 'reg', name: addrOp.base });
        wide = f === 'n64' ? 1 : 0;
        base = f === 'n64' ? this.sN({ kind: 'reg', name: addrOp.base }) : this.s32({ kind: 'reg', name: addrOp.base }, 'u32');
        if (space === 'global' && !wide) this.fail('32-bit addresses of global memory are not supported (.address_size 64)');
      }
    }
    const op = space === 'global' ? (isLoad ? Op.LD_GLOBAL : Op.ST_GLOBAL) : space === 'shared' ? (isLoad ? Op.LD_SHARED : Op.ST_SHARED) : isLoad ? Op.LD_GENERIC : Op.ST_GENERIC;
    this.push(op, g, data[0] ?? 0, base, offset, elem | (wide << 4), lanes, data[1] ?? 0, data[2] ?? 0, data[3] ?? 0);
  }
}

/** Decodes the named entry (or the only one) of a module. */
export function decodeEntry(mod: PtxModule, name?: string): DecodedEntry {
  const entry = name === undefined ? mod.entries[0] : mod.entries.find((e) => e.name === name);
  if (entry === undefined) throw new PtxDecodeError(name === undefined ? 'the module has no .entry' : `no entry '${name}' (entries: ${mod.entries.map((e) => e.name).join(', ')})`);
  if (mod.addressSize !== 64) throw new PtxDecodeError(`.address_size ${mod.addressSize} is not supported (only 64)`);
  return new Decoder(mod, entry).decode();
}

export { GLOBAL_BASE, PtxSyntaxError };
