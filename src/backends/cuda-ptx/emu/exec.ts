/**
 * The PTX interpreter's executor. A launch runs the grid's CTAs one after another; the threads of a CTA run in
 * lockstep between barriers (each thread runs until it reaches bar.sync or exits, then the next, and the CTA
 * passes the barrier once every live thread waits at it), which is PTX's meaning of bar.sync for programs
 * without warp-level operations. Register files are typed arrays per thread; every memory access is checked
 * for alignment and for landing in a live allocation (global) or in the CTA's shared window.
 */
import { f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from '../../../ir/half.js';
import type { DecodedEntry } from './decode.js';
import type { DeviceMemory } from './memory.js';
import { big, exact64, floatToIntSat, fmaF32, fmaF64, mulHiS32, mulHiU32, roundInt } from './numerics.js';
import { GLOBAL_BASE, Op, SHARED_WINDOW, SPECIAL_SLOTS, STRIDE, W } from './opcodes.js';

// Globals captured once: in a vm context (jest) every global lookup goes through the context's interceptor,
// which made each Math.* call of the interpreter cost hundreds of nanoseconds.
const M = Math;
const N = Number;
const objectIs = Object.is;

export class PtxRuntimeError extends Error {
  override name = 'PtxRuntimeError';
}

export interface LaunchConfig {
  readonly grid: readonly [number, number, number];
  readonly block: readonly [number, number, number];
  /** The kernel parameter buffer, laid out as the entry's .param declarations. */
  readonly params: Uint8Array;
  readonly dynamicShared?: number;
}

export interface LaunchStats {
  /** Instructions executed (guarded-off instructions included), over all threads. */
  readonly instructions: number;
  readonly ctas: number;
}

const TWO32 = 2 ** 32;
const scratch = new Float64Array(1);
const scratchI = new Int32Array(scratch.buffer);

const ELEM_BYTES = [1, 1, 2, 2, 4, 8, 8];

function setp(cmp: number, a: number, b: number): boolean {
  switch (cmp) {
    case 0 /* Cmp.eq */:
      return a === b;
    case 1 /* Cmp.ne */:
      return a !== b && a === a && b === b;
    case 2 /* Cmp.lt */:
      return a < b;
    case 3 /* Cmp.le */:
      return a <= b;
    case 4 /* Cmp.gt */:
      return a > b;
    case 5 /* Cmp.ge */:
      return a >= b;
    case 6 /* Cmp.equ */:
      return !(a < b || a > b);
    case 7 /* Cmp.neu */:
      return !(a === b);
    case 8 /* Cmp.ltu */:
      return !(a >= b);
    case 9 /* Cmp.leu */:
      return !(a > b);
    case 10 /* Cmp.gtu */:
      return !(a <= b);
    case 11 /* Cmp.geu */:
      return !(a < b);
    case 12 /* Cmp.num */:
      return a === a && b === b;
    default:
      return a !== a || b !== b;
  }
}

function testp(kind: number, x: number, minNormal: number): boolean {
  const ax = M.abs(x);
  switch (kind) {
    case 0:
      return N.isFinite(x);
    case 1:
      return ax === Infinity;
    case 2:
      return x === x;
    case 3:
      return x !== x;
    case 4:
      return N.isFinite(x) && (ax >= minNormal || x === 0);
    default:
      return x !== 0 && ax < minNormal;
  }
}

function lop3(a: number, b: number, c: number, lut: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) if ((lut >> i) & 1) r |= (i & 4 ? a : ~a) & (i & 2 ? b : ~b) & (i & 1 ? c : ~c);
  return r;
}

function prmt(a: number, b: number, sel: number): number {
  const bytes = [a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, (a >>> 24) & 0xff, b & 0xff, (b >>> 8) & 0xff, (b >>> 16) & 0xff, (b >>> 24) & 0xff];
  let r = 0;
  for (let i = 0; i < 4; i++) {
    const s = (sel >>> (4 * i)) & 0xf;
    let v = bytes[s & 7] ?? 0;
    if (s & 8) v = v & 0x80 ? 0xff : 0;
    r |= v << (8 * i);
  }
  return r;
}

function split64(v: number): [number, number] {
  const hi = M.floor(v / TWO32);
  return [(v - hi * TWO32) | 0, hi | 0];
}

/** One launch's state: views of device memory, the CTA's shared window and each thread's register files. */
class Launch {
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly u16: Uint16Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly pages: Uint8Array;
  readonly sh: Uint8Array;
  readonly shI8: Int8Array;
  readonly shU16: Uint16Array;
  readonly shI16: Int16Array;
  readonly shI32: Int32Array;
  readonly shF64: Float64Array;
  readonly param: DataView;
  readonly r32: Int32Array[] = [];
  readonly u32: Uint32Array[] = [];
  readonly f32: Float32Array[] = [];
  readonly n64: Float64Array[] = [];
  readonly d64: Float64Array[] = [];
  readonly pcs: Int32Array;
  instructions = 0;
  cta = [0, 0, 0];

  constructor(readonly e: DecodedEntry, readonly mem: DeviceMemory, readonly threads: number, cfg: LaunchConfig) {
    const buf = mem.bytes.buffer;
    this.u8 = mem.bytes;
    this.i8 = new Int8Array(buf);
    this.u16 = new Uint16Array(buf);
    this.i16 = new Int16Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.pages = mem.pages;
    const shBytes = e.staticShared + (cfg.dynamicShared ?? 0);
    const sb = new ArrayBuffer(M.max(16, M.ceil(shBytes / 8) * 8));
    this.sh = new Uint8Array(sb, 0, shBytes);
    this.shI8 = new Int8Array(sb);
    this.shU16 = new Uint16Array(sb);
    this.shI16 = new Int16Array(sb);
    this.shI32 = new Int32Array(sb);
    this.shF64 = new Float64Array(sb);
    this.param = new DataView(cfg.params.buffer, cfg.params.byteOffset, cfg.params.byteLength);
    const n32 = e.init32.length;
    const nN = M.max(1, e.initN64.length);
    const nD = M.max(1, e.initD64.length);
    const b32 = new ArrayBuffer(threads * n32 * 4);
    const bN = new Float64Array(threads * nN);
    const bD = new Float64Array(threads * nD);
    for (let t = 0; t < threads; t++) {
      this.r32.push(new Int32Array(b32, t * n32 * 4, n32));
      this.u32.push(new Uint32Array(b32, t * n32 * 4, n32));
      this.f32.push(new Float32Array(b32, t * n32 * 4, n32));
      this.n64.push(bN.subarray(t * nN, (t + 1) * nN));
      this.d64.push(bD.subarray(t * nD, (t + 1) * nD));
    }
    this.pcs = new Int32Array(threads);
  }

  fail(t: number, pc: number, msg: string): never {
    const line = this.e.lines[pc / STRIDE] ?? 0;
    const [x, y, z] = this.cta;
    throw new PtxRuntimeError(`ptx-emu: entry '${this.e.name}', PTX line ${line}, CTA (${x},${y},${z}) thread ${t}: ${msg}`);
  }

  /** Byte offset into device memory of a checked global access. */
  global(t: number, pc: number, addr: number, bytes: number): number {
    const off = addr - GLOBAL_BASE;
    if (!(off >= 0 && off + bytes <= this.u8.length) || this.pages[off >>> 8] !== 1 || this.pages[(off + bytes - 1) >>> 8] !== 1)
      this.fail(t, pc, `global access of ${bytes} bytes at 0x${addr.toString(16)} outside every live allocation (${this.mem.describe(addr)})`);
    if (off % bytes !== 0) this.fail(t, pc, `misaligned ${bytes}-byte global access at 0x${addr.toString(16)}`);
    return off;
  }

  shared(t: number, pc: number, addr: number, bytes: number): number {
    if (!(addr >= 0 && addr + bytes <= this.sh.length)) this.fail(t, pc, `shared access of ${bytes} bytes at ${addr} outside the ${this.sh.length}-byte shared window`);
    if (addr % bytes !== 0) this.fail(t, pc, `misaligned ${bytes}-byte shared access at ${addr}`);
    return addr;
  }

  /** Loads one element of `kind` at byte offset `off` of global (or shared) memory into register slot `d`. */
  loadElem(t: number, kind: number, off: number, shared: boolean, d: number): void {
    const r = this.r32[t] as Int32Array;
    switch (kind) {
      case 0 /* Elem.U8 */:
        r[d] = (shared ? this.sh : this.u8)[off] ?? 0;
        return;
      case 1 /* Elem.S8 */:
        r[d] = (shared ? this.shI8 : this.i8)[off] ?? 0;
        return;
      case 2 /* Elem.U16 */:
        r[d] = (shared ? this.shU16 : this.u16)[off >> 1] ?? 0;
        return;
      case 3 /* Elem.S16 */:
        r[d] = (shared ? this.shI16 : this.i16)[off >> 1] ?? 0;
        return;
      case 4 /* Elem.B32 */:
        r[d] = (shared ? this.shI32 : this.i32)[off >> 2] ?? 0;
        return;
      case 5 /* Elem.N64 */: {
        const w = shared ? this.shI32 : this.i32;
        (this.n64[t] as Float64Array)[d] = ((w[(off >> 2) + 1] ?? 0) * TWO32) + ((w[off >> 2] ?? 0) >>> 0);
        return;
      }
      default:
        (this.d64[t] as Float64Array)[d] = (shared ? this.shF64 : this.f64)[off >> 3] ?? 0;
    }
  }

  storeElem(t: number, kind: number, off: number, shared: boolean, s: number): void {
    const r = this.r32[t] as Int32Array;
    switch (kind) {
      case 0 /* Elem.U8 */:
      case 1 /* Elem.S8 */:
        (shared ? this.sh : this.u8)[off] = r[s] ?? 0;
        return;
      case 2 /* Elem.U16 */:
      case 3 /* Elem.S16 */:
        (shared ? this.shU16 : this.u16)[off >> 1] = r[s] ?? 0;
        return;
      case 4 /* Elem.B32 */:
        (shared ? this.shI32 : this.i32)[off >> 2] = r[s] ?? 0;
        return;
      case 5 /* Elem.N64 */: {
        const [lo, hi] = split64((this.n64[t] as Float64Array)[s] ?? 0);
        const w = shared ? this.shI32 : this.i32;
        w[off >> 2] = lo;
        w[(off >> 2) + 1] = hi;
        return;
      }
      default:
        (shared ? this.shF64 : this.f64)[off >> 3] = (this.d64[t] as Float64Array)[s] ?? 0;
    }
  }

  /** A load or store of `lanes` elements (slots d, f, g, h). */
  access(t: number, pc: number, code: Int32Array, load: boolean, space: 'global' | 'shared' | 'generic'): void {
    const a = code[pc + W.a] ?? -1;
    const cw = code[pc + W.c] ?? 0;
    const kind = cw & 15;
    const wide = cw >> 4;
    const lanes = code[pc + W.e] ?? 1;
    const bytes = ELEM_BYTES[kind] ?? 4;
    const base = a < 0 ? 0 : wide ? ((this.n64[t] as Float64Array)[a] ?? 0) : ((this.u32[t] as Uint32Array)[a] ?? 0);
    let addr = base + (code[pc + W.b] ?? 0);
    let shared = space === 'shared';
    if (space === 'generic') {
      if (addr >= SHARED_WINDOW && addr < SHARED_WINDOW + TWO32) {
        shared = true;
        addr -= SHARED_WINDOW;
      } else if (addr < GLOBAL_BASE) this.fail(t, pc, `generic address 0x${addr.toString(16)} is in no supported state space`);
    }
    const total = bytes * lanes;
    const off0 = shared ? this.shared(t, pc, addr, total) : this.global(t, pc, addr, total);
    for (let i = 0; i < lanes; i++) {
      const slot = code[pc + (i === 0 ? W.d : W.e + i)] ?? 0;
      if (load) this.loadElem(t, kind, off0 + i * bytes, shared, slot);
      else this.storeElem(t, kind, off0 + i * bytes, shared, slot);
    }
  }

  loadParam(t: number, pc: number, code: Int32Array): void {
    const off = code[pc + W.b] ?? 0;
    const kind = code[pc + W.c] ?? 0;
    const d = code[pc + W.d] ?? 0;
    const bytes = ELEM_BYTES[kind] ?? 4;
    if (off + bytes > this.param.byteLength) this.fail(t, pc, `parameter read at byte ${off} past the ${this.param.byteLength}-byte parameter buffer`);
    const p = this.param;
    const r = this.r32[t] as Int32Array;
    switch (kind) {
      case 0 /* Elem.U8 */:
        r[d] = p.getUint8(off);
        return;
      case 1 /* Elem.S8 */:
        r[d] = p.getInt8(off);
        return;
      case 2 /* Elem.U16 */:
        r[d] = p.getUint16(off, true);
        return;
      case 3 /* Elem.S16 */:
        r[d] = p.getInt16(off, true);
        return;
      case 4 /* Elem.B32 */:
        r[d] = p.getInt32(off, true);
        return;
      case 5 /* Elem.N64 */:
        (this.n64[t] as Float64Array)[d] = p.getInt32(off + 4, true) * TWO32 + p.getUint32(off, true);
        return;
      default:
        (this.d64[t] as Float64Array)[d] = p.getFloat64(off, true);
    }
  }

  /** Runs thread t from its pc until it waits at a barrier (returns 1) or exits (returns 0). */
  run(t: number): number {
    const code = this.e.code;
    const r = this.r32[t] as Int32Array;
    const u = this.u32[t] as Uint32Array;
    const f = this.f32[t] as Float32Array;
    const n = this.n64[t] as Float64Array;
    const dd = this.d64[t] as Float64Array;
    let pc = this.pcs[t] ?? 0;
    let count = 0;
    for (;;) {
      count++;
      const guard = code[pc + 1] as number;
      if (guard !== 0 && (guard > 0 ? r[guard - 1] === 0 : r[-guard - 1] !== 0)) {
        pc += STRIDE;
        continue;
      }
      const d = code[pc + 2] as number;
      const a = code[pc + 3] as number;
      const b = code[pc + 4] as number;
      const c = code[pc + 5] as number;
      switch (code[pc]) {
        case 0 /* Op.MOV32 */: r[d] = r[a] as number; break;
        case 1 /* Op.MOV_N64 */: n[d] = n[a] as number; break;
        case 2 /* Op.MOV_D64 */: dd[d] = dd[a] as number; break;
        case 3 /* Op.MOV_N64_D64 */: {
          const [lo, hi] = split64(n[a] as number);
          scratchI[0] = lo;
          scratchI[1] = hi;
          dd[d] = scratch[0] as number;
          break;
        }
        case 4 /* Op.MOV_D64_N64 */:
          scratch[0] = dd[a] as number;
          n[d] = exact64((big(scratchI[1] as number) << 32n) | big((scratchI[0] as number) >>> 0));
          break;
        case 5 /* Op.PACK64_N */: n[d] = (r[b] as number) * TWO32 + (u[a] as number); break;
        case 6 /* Op.PACK64_D */:
          scratchI[0] = r[a] as number;
          scratchI[1] = r[b] as number;
          dd[d] = scratch[0] as number;
          break;
        case 7 /* Op.UNPACK64_N */: {
          const [lo, hi] = split64(n[a] as number);
          r[d] = lo;
          r[b] = hi;
          break;
        }
        case 8 /* Op.UNPACK64_D */:
          scratch[0] = dd[a] as number;
          r[d] = scratchI[0] as number;
          r[b] = scratchI[1] as number;
          break;
        case 9 /* Op.PACK32 */: r[d] = ((r[a] as number) & 0xffff) | ((r[b] as number) << 16); break;
        case 10 /* Op.UNPACK32 */: {
          const v = r[a] as number;
          r[d] = v & 0xffff;
          r[b] = v >>> 16;
          break;
        }
        case 11 /* Op.SELP32 */: r[d] = r[c] !== 0 ? (r[a] as number) : (r[b] as number); break;
        case 12 /* Op.SELP_N64 */: n[d] = r[c] !== 0 ? (n[a] as number) : (n[b] as number); break;
        case 13 /* Op.SELP_D64 */: dd[d] = r[c] !== 0 ? (dd[a] as number) : (dd[b] as number); break;

        case 14 /* Op.ADD_I32 */: r[d] = ((r[a] as number) + (r[b] as number)) | 0; break;
        case 15 /* Op.SUB_I32 */: r[d] = ((r[a] as number) - (r[b] as number)) | 0; break;
        case 16 /* Op.MUL_LO_I32 */: r[d] = M.imul(r[a] as number, r[b] as number); break;
        case 17 /* Op.MUL_HI_S32 */: r[d] = mulHiS32(r[a] as number, r[b] as number); break;
        case 18 /* Op.MUL_HI_U32 */: r[d] = mulHiU32(u[a] as number, u[b] as number); break;
        case 19 /* Op.MAD_LO_I32 */: r[d] = (M.imul(r[a] as number, r[b] as number) + (r[c] as number)) | 0; break;
        // Division by zero is machine-specific in PTX; the interpreter gives all ones (quotient) and the dividend (rest).
        case 20 /* Op.DIV_S32 */: r[d] = r[b] === 0 ? -1 : ((r[a] as number) / (r[b] as number)) | 0; break;
        case 21 /* Op.DIV_U32 */: r[d] = u[b] === 0 ? -1 : M.floor((u[a] as number) / (u[b] as number)) | 0; break;
        case 22 /* Op.REM_S32 */: r[d] = r[b] === 0 ? (r[a] as number) : r[b] === -1 ? 0 : (r[a] as number) % (r[b] as number) | 0; break;
        case 23 /* Op.REM_U32 */: r[d] = u[b] === 0 ? (r[a] as number) : (u[a] as number) % (u[b] as number) | 0; break;
        case 24 /* Op.MIN_S32 */: r[d] = M.min(r[a] as number, r[b] as number); break;
        case 25 /* Op.MAX_S32 */: r[d] = M.max(r[a] as number, r[b] as number); break;
        case 26 /* Op.MIN_U32 */: u[d] = M.min(u[a] as number, u[b] as number); break;
        case 27 /* Op.MAX_U32 */: u[d] = M.max(u[a] as number, u[b] as number); break;
        case 28 /* Op.NEG_S32 */: r[d] = -(r[a] as number) | 0; break;
        case 29 /* Op.ABS_S32 */: r[d] = M.abs(r[a] as number) | 0; break;
        case 30 /* Op.AND32 */: r[d] = (r[a] as number) & (r[b] as number); break;
        case 31 /* Op.OR32 */: r[d] = (r[a] as number) | (r[b] as number); break;
        case 32 /* Op.XOR32 */: r[d] = (r[a] as number) ^ (r[b] as number); break;
        case 33 /* Op.NOT32 */: r[d] = ~(r[a] as number); break;
        case 34 /* Op.NOT16 */: r[d] = ~(r[a] as number) & 0xffff; break;
        case 35 /* Op.NOT_PRED */: r[d] = (r[a] as number) ^ 1; break;
        // Shift amounts past the width are clamped to it (PTX shl / shr).
        case 36 /* Op.SHL32 */: r[d] = (u[b] as number) > 31 ? 0 : (r[a] as number) << (u[b] as number); break;
        case 37 /* Op.SHR_S32 */: r[d] = (r[a] as number) >> M.min(31, u[b] as number); break;
        case 38 /* Op.SHR_U32 */: r[d] = (u[b] as number) > 31 ? 0 : (u[a] as number) >>> (u[b] as number); break;
        case 39 /* Op.POPC32 */: {
          let v = u[a] as number;
          let k = 0;
          while (v) {
            v &= v - 1;
            k++;
          }
          r[d] = k;
          break;
        }
        case 40 /* Op.CLZ32 */: r[d] = M.clz32(r[a] as number); break;
        case 41 /* Op.BREV32 */: {
          let v = u[a] as number;
          let o = 0;
          for (let i = 0; i < 32; i++, v >>>= 1) o = (o << 1) | (v & 1);
          r[d] = o;
          break;
        }
        case 42 /* Op.LOP3 */: r[d] = lop3(r[a] as number, r[b] as number, r[c] as number, code[pc + W.e] as number); break;
        case 43 /* Op.PRMT */: r[d] = prmt(r[a] as number, r[b] as number, u[c] as number); break;
        case 44 /* Op.BFE_U32 */:
        case 45 /* Op.BFE_S32 */: {
          const pos = (u[b] as number) & 0xff;
          const len = (u[c] as number) & 0xff;
          const v = u[a] as number;
          if (len === 0 || pos > 31) r[d] = code[pc] === Op.BFE_S32 && pos > 31 && len > 0 ? (r[a] as number) >> 31 : 0;
          else {
            const l = M.min(len, 32 - pos);
            const x = l === 32 ? v : (v >>> pos) & ((2 ** l - 1) >>> 0);
            r[d] = code[pc] === Op.BFE_S32 && len + pos >= 32 ? (r[a] as number) >> pos : code[pc] === Op.BFE_S32 ? (x << (32 - l)) >> (32 - l) : x;
          }
          break;
        }

        case 46 /* Op.ADD_N64 */: n[d] = (n[a] as number) + (n[b] as number); break;
        case 47 /* Op.SUB_N64 */: n[d] = (n[a] as number) - (n[b] as number); break;
        case 48 /* Op.MUL_LO_N64 */: {
          const p = (n[a] as number) * (n[b] as number);
          n[d] = N.isSafeInteger(p) ? p : exact64(big(n[a] as number) * big(n[b] as number));
          break;
        }
        case 49 /* Op.MUL_WIDE_S32 */: n[d] = (r[a] as number) * (r[b] as number); break;
        case 50 /* Op.MUL_WIDE_U32 */: {
          const p = (u[a] as number) * (u[b] as number);
          n[d] = N.isSafeInteger(p) ? p : exact64(big(u[a] as number) * big(u[b] as number));
          break;
        }
        case 51 /* Op.MAD_WIDE_S32 */: n[d] = (r[a] as number) * (r[b] as number) + (n[c] as number); break;
        case 52 /* Op.MAD_WIDE_U32 */: n[d] = (u[a] as number) * (u[b] as number) + (n[c] as number); break;
        case 53 /* Op.MAD_LO_N64 */: n[d] = exact64(big(n[a] as number) * big(n[b] as number) + big(n[c] as number)); break;
        case 54 /* Op.DIV_S64 */: n[d] = n[b] === 0 ? -1 : M.trunc((n[a] as number) / (n[b] as number)); break;
        case 55 /* Op.DIV_U64 */: n[d] = n[b] === 0 ? -1 : M.floor((n[a] as number) / (n[b] as number)); break;
        case 56 /* Op.REM_S64 */:
        case 57 /* Op.REM_U64 */: n[d] = n[b] === 0 ? (n[a] as number) : (n[a] as number) % (n[b] as number); break;
        case 58 /* Op.MIN_N64 */: n[d] = M.min(n[a] as number, n[b] as number); break;
        case 59 /* Op.MAX_N64 */: n[d] = M.max(n[a] as number, n[b] as number); break;
        case 60 /* Op.NEG_N64 */: n[d] = -(n[a] as number); break;
        case 61 /* Op.AND64 */: n[d] = exact64(big(n[a] as number) & big(n[b] as number)); break;
        case 62 /* Op.OR64 */: n[d] = exact64(big(n[a] as number) | big(n[b] as number)); break;
        case 63 /* Op.XOR64 */: n[d] = exact64(big(n[a] as number) ^ big(n[b] as number)); break;
        case 64 /* Op.NOT64 */: n[d] = -(n[a] as number) - 1; break;
        case 65 /* Op.SHL64 */: {
          const k = u[b] as number;
          const p = k > 63 ? 0 : (n[a] as number) * 2 ** k;
          n[d] = N.isSafeInteger(p) ? p : exact64(big(n[a] as number) << big(k));
          break;
        }
        case 66 /* Op.SHR_S64 */: n[d] = M.floor((n[a] as number) / 2 ** M.min(63, u[b] as number)); break;
        case 67 /* Op.SHR_U64 */: {
          const k = u[b] as number;
          const v = n[a] as number;
          n[d] = k > 63 ? 0 : v >= 0 ? M.floor(v / 2 ** k) : exact64(BigInt.asUintN(64, big(v)) >> big(k));
          break;
        }

        case 68 /* Op.ADD_F32 */: f[d] = (f[a] as number) + (f[b] as number); break;
        case 69 /* Op.SUB_F32 */: f[d] = (f[a] as number) - (f[b] as number); break;
        case 70 /* Op.MUL_F32 */: f[d] = (f[a] as number) * (f[b] as number); break;
        case 71 /* Op.DIV_F32 */: f[d] = (f[a] as number) / (f[b] as number); break;
        case 72 /* Op.FMA_F32 */: f[d] = fmaF32(f[a] as number, f[b] as number, f[c] as number); break;
        case 73 /* Op.NEG_F32 */: r[d] = (r[a] as number) ^ -2147483648; break;
        case 74 /* Op.ABS_F32 */: r[d] = (r[a] as number) & 0x7fffffff; break;
        case 75 /* Op.SQRT_F32 */: f[d] = M.sqrt(f[a] as number); break;
        case 76 /* Op.RCP_F32 */: f[d] = 1 / (f[a] as number); break;
        case 77 /* Op.RSQRT_F32 */: f[d] = 1 / M.sqrt(f[a] as number); break;
        // PTX min / max without .NaN return the other operand when one is NaN.
        case 78 /* Op.MIN_F32 */: {
          const x = f[a] as number;
          const y = f[b] as number;
          f[d] = x !== x ? y : y !== y ? x : M.min(x, y);
          break;
        }
        case 79 /* Op.MAX_F32 */: {
          const x = f[a] as number;
          const y = f[b] as number;
          f[d] = x !== x ? y : y !== y ? x : M.max(x, y);
          break;
        }
        case 80 /* Op.MIN_NAN_F32 */: f[d] = M.min(f[a] as number, f[b] as number); break;
        case 81 /* Op.MAX_NAN_F32 */: f[d] = M.max(f[a] as number, f[b] as number); break;
        case 82 /* Op.COPYSIGN_F32 */: r[d] = ((r[b] as number) & 0x7fffffff) | ((r[a] as number) & -2147483648); break;
        // The .approx instructions are modelled by the correctly rounded function (hardware differs by a few ulp).
        case 83 /* Op.EX2_F32 */: f[d] = 2 ** (f[a] as number); break;
        case 84 /* Op.LG2_F32 */: f[d] = M.log2(f[a] as number); break;
        case 85 /* Op.SIN_F32 */: f[d] = M.sin(f[a] as number); break;
        case 86 /* Op.COS_F32 */: f[d] = M.cos(f[a] as number); break;
        case 87 /* Op.TANH_F32 */: f[d] = M.tanh(f[a] as number); break;

        case 88 /* Op.ADD_F64 */: dd[d] = (dd[a] as number) + (dd[b] as number); break;
        case 89 /* Op.SUB_F64 */: dd[d] = (dd[a] as number) - (dd[b] as number); break;
        case 90 /* Op.MUL_F64 */: dd[d] = (dd[a] as number) * (dd[b] as number); break;
        case 91 /* Op.DIV_F64 */: dd[d] = (dd[a] as number) / (dd[b] as number); break;
        case 92 /* Op.FMA_F64 */: dd[d] = fmaF64(dd[a] as number, dd[b] as number, dd[c] as number); break;
        case 93 /* Op.NEG_F64 */: dd[d] = -(dd[a] as number); break;
        case 94 /* Op.ABS_F64 */: dd[d] = M.abs(dd[a] as number); break;
        case 95 /* Op.SQRT_F64 */: dd[d] = M.sqrt(dd[a] as number); break;
        case 96 /* Op.RCP_F64 */: dd[d] = 1 / (dd[a] as number); break;
        case 97 /* Op.RSQRT_F64 */: dd[d] = 1 / M.sqrt(dd[a] as number); break;
        case 98 /* Op.MIN_F64 */: {
          const x = dd[a] as number;
          const y = dd[b] as number;
          dd[d] = x !== x ? y : y !== y ? x : M.min(x, y);
          break;
        }
        case 99 /* Op.MAX_F64 */: {
          const x = dd[a] as number;
          const y = dd[b] as number;
          dd[d] = x !== x ? y : y !== y ? x : M.max(x, y);
          break;
        }
        case 100 /* Op.COPYSIGN_F64 */: {
          const mag = M.abs(dd[b] as number);
          dd[d] = objectIs(dd[a], -0) || (dd[a] as number) < 0 || (N.isNaN(dd[a]) && signBitNaN(dd[a] as number)) ? -mag : mag;
          break;
        }

        case 101 /* Op.SETP_S32 */:
        case 102 /* Op.SETP_U32 */:
        case 103 /* Op.SETP_F32 */:
        case 104 /* Op.SETP_F64 */:
        case 105 /* Op.SETP_S64 */:
        case 106 /* Op.SETP_U64 */: {
          const op = code[pc] as number;
          const x = op === Op.SETP_S32 ? (r[a] as number) : op === Op.SETP_U32 ? (u[a] as number) : op === Op.SETP_F32 ? (f[a] as number) : op === Op.SETP_F64 ? (dd[a] as number) : (n[a] as number);
          const y = op === Op.SETP_S32 ? (r[b] as number) : op === Op.SETP_U32 ? (u[b] as number) : op === Op.SETP_F32 ? (f[b] as number) : op === Op.SETP_F64 ? (dd[b] as number) : (n[b] as number);
          let v = setp(c, x, y);
          const combine = code[pc + W.e] as number;
          if (combine !== 0) {
            const q = r[code[pc + W.f] as number] !== 0;
            v = combine === 1 ? v && q : combine === 2 ? v || q : v !== q;
          }
          r[d] = v ? 1 : 0;
          break;
        }
        case 107 /* Op.TESTP_F32 */: r[d] = testp(b, f[a] as number, 2 ** -126) ? 1 : 0; break;
        case 108 /* Op.TESTP_F64 */: r[d] = testp(b, dd[a] as number, 2 ** -1022) ? 1 : 0; break;

        case 109 /* Op.CVT_F32_S32 */: f[d] = r[a] as number; break;
        case 110 /* Op.CVT_F32_U32 */: f[d] = u[a] as number; break;
        case 111 /* Op.CVT_F64_S32 */: dd[d] = r[a] as number; break;
        case 112 /* Op.CVT_F64_U32 */: dd[d] = u[a] as number; break;
        case 113 /* Op.CVT_F32_N64 */: f[d] = n[a] as number; break;
        case 114 /* Op.CVT_F64_N64 */: dd[d] = n[a] as number; break;
        case 115 /* Op.CVT_I32_F32 */:
        case 116 /* Op.CVT_I32_F64 */: {
          const x = code[pc] === Op.CVT_I32_F32 ? (f[a] as number) : (dd[a] as number);
          const v = floatToIntSat(x, b >> 8, (b >> 1) & 127, (b & 1) === 1, code[pc] === Op.CVT_I32_F64);
          r[d] = v | 0;
          break;
        }
        case 117 /* Op.CVT_N64_F32 */: n[d] = floatToIntSat(f[a] as number, b >> 8, 64, (b & 1) === 1, false); break;
        case 118 /* Op.CVT_N64_F64 */: n[d] = floatToIntSat(dd[a] as number, b >> 8, 64, (b & 1) === 1, true); break;
        case 119 /* Op.CVT_F64_F32 */: dd[d] = f[a] as number; break;
        case 120 /* Op.CVT_F32_F64 */: f[d] = dd[a] as number; break;
        case 121 /* Op.CVT_RI_F32 */: f[d] = roundInt(f[a] as number, b); break;
        case 122 /* Op.CVT_RI_F64 */: dd[d] = roundInt(dd[a] as number, b); break;
        case 123 /* Op.CVT_F16_F32 */: r[d] = numberToF16Bits(f[a] as number); break;
        case 124 /* Op.CVT_F32_F16 */: f[d] = f16BitsToNumber((r[a] as number) & 0xffff); break;
        case 125 /* Op.CVT_BF16_F32 */: r[d] = numberToBf16Bits(f[a] as number); break;
        case 126 /* Op.CVT_F32_BF16 */: r[d] = (r[a] as number) << 16; break;
        case 127 /* Op.CVT_F64_F16 */: dd[d] = f16BitsToNumber((r[a] as number) & 0xffff); break;
        case 128 /* Op.CVT_INT32 */: {
          const w = (b >> 1) & 63;
          const x = r[a] as number;
          r[d] = w >= 32 ? x : (b & 1) === 1 ? (x << (32 - w)) >> (32 - w) : x & ((1 << w) - 1);
          break;
        }
        case 129 /* Op.CVT_N64_I32 */: {
          const w = (b >> 1) & 63;
          const x = r[a] as number;
          n[d] = (b & 1) === 1 ? (w >= 32 ? x : (x << (32 - w)) >> (32 - w)) : w >= 32 ? x >>> 0 : x & ((1 << w) - 1);
          break;
        }
        case 130 /* Op.CVT_I32_N64 */: {
          const w = (b >> 1) & 63;
          const lo = split64(n[a] as number)[0];
          r[d] = w >= 32 ? lo : (b & 1) === 1 ? (lo << (32 - w)) >> (32 - w) : lo & ((1 << w) - 1);
          break;
        }

        case 131 /* Op.LD_GLOBAL */: this.access(t, pc, code, true, 'global'); break;
        case 132 /* Op.ST_GLOBAL */: this.access(t, pc, code, false, 'global'); break;
        case 133 /* Op.LD_SHARED */: this.access(t, pc, code, true, 'shared'); break;
        case 134 /* Op.ST_SHARED */: this.access(t, pc, code, false, 'shared'); break;
        case 135 /* Op.LD_GENERIC */: this.access(t, pc, code, true, 'generic'); break;
        case 136 /* Op.ST_GENERIC */: this.access(t, pc, code, false, 'generic'); break;
        case 137 /* Op.LD_PARAM */: this.loadParam(t, pc, code); break;
        case 138 /* Op.CVTA_TO_SHARED */: {
          const x = (n[a] as number) - SHARED_WINDOW;
          if (b === 1) r[d] = x;
          else n[d] = x;
          break;
        }
        case 139 /* Op.CVTA_SHARED */: n[d] = (b === 1 ? (u[a] as number) : (n[a] as number)) + SHARED_WINDOW; break;

        case 140 /* Op.BRA */:
          pc = d;
          continue;
        case 141 /* Op.BAR */:
          if (d >= 0 && u[d] !== this.threads) this.fail(t, pc, `bar.sync with a thread count of ${u[d]} in a CTA of ${this.threads}`);
          this.pcs[t] = pc + STRIDE;
          this.instructions += count;
          return 1;
        case 142 /* Op.RET */:
          this.instructions += count;
          return 0;
        case 143 /* Op.NOP */: break;
        default:
          this.fail(t, pc, `internal: opcode ${code[pc]}`);
      }
      pc += STRIDE;
    }
  }
}

function signBitNaN(x: number): boolean {
  scratch[0] = x;
  return (scratchI[1] as number) < 0;
}

/** Runs one launch of a decoded entry on device memory. */
export function launch(e: DecodedEntry, mem: DeviceMemory, cfg: LaunchConfig): LaunchStats {
  const [bx, by, bz] = cfg.block;
  const threads = bx * by * bz;
  if (threads < 1 || threads > 1024) throw new PtxRuntimeError(`ptx-emu: entry '${e.name}': ${threads} threads per CTA (1 - 1024 allowed)`);
  const req = e.reqntid;
  if (req && (req[0] ?? 1) * (req[1] ?? 1) * (req[2] ?? 1) !== threads)
    throw new PtxRuntimeError(`ptx-emu: entry '${e.name}' requires ${req.join('x')} threads per CTA (.reqntid), launched with ${cfg.block.join('x')}`);
  const max = e.maxntid;
  if (max && threads > (max[0] ?? 1) * (max[1] ?? 1) * (max[2] ?? 1)) throw new PtxRuntimeError(`ptx-emu: entry '${e.name}' allows at most ${max.join('x')} threads per CTA (.maxntid)`);
  if (cfg.params.byteLength < e.paramBytes) throw new PtxRuntimeError(`ptx-emu: entry '${e.name}' takes ${e.paramBytes} parameter bytes, got ${cfg.params.byteLength}`);
  const L = new Launch(e, mem, threads, cfg);
  const exited = new Uint8Array(threads);
  const [gx, gy, gz] = cfg.grid;
  const W_ = SPECIAL_SLOTS;
  for (let z = 0; z < gz; z++)
    for (let y = 0; y < gy; y++)
      for (let x = 0; x < gx; x++) {
        L.cta = [x, y, z];
        L.sh.fill(0);
        L.pcs.fill(0);
        exited.fill(0);
        for (let t = 0; t < threads; t++) {
          const r = L.r32[t] as Int32Array;
          r.set(e.init32);
          (L.n64[t] as Float64Array).set(e.initN64);
          (L.d64[t] as Float64Array).set(e.initD64);
          r[W_['%tid.x'] as number] = t % bx;
          r[W_['%tid.y'] as number] = M.floor(t / bx) % by;
          r[W_['%tid.z'] as number] = M.floor(t / (bx * by));
          r[W_['%ntid.x'] as number] = bx;
          r[W_['%ntid.y'] as number] = by;
          r[W_['%ntid.z'] as number] = bz;
          r[W_['%ctaid.x'] as number] = x;
          r[W_['%ctaid.y'] as number] = y;
          r[W_['%ctaid.z'] as number] = z;
          r[W_['%nctaid.x'] as number] = gx;
          r[W_['%nctaid.y'] as number] = gy;
          r[W_['%nctaid.z'] as number] = gz;
          r[W_['%laneid'] as number] = t % 32;
          r[W_['%warpid'] as number] = M.floor(t / 32);
        }
        for (;;) {
          let waiting = 0;
          for (let t = 0; t < threads; t++) {
            if (exited[t]) continue;
            if (L.run(t) === 0) exited[t] = 1;
            else waiting++;
          }
          if (waiting === 0) break;
        }
      }
  return { instructions: L.instructions, ctas: gx * gy * gz };
}

