/**
 * A small PTX assembler used by the renderer and the math expansions: typed virtual registers of six classes
 * (declared after counting, `%r<N>` style), instructions appended as text, labels, and immediate operands that
 * keep every float bit exact (0f / 0d hex forms).
 */

export type RegClass = 'pred' | 'b16' | 'b32' | 'f32' | 'f64' | 'b64';

const PREFIX: Readonly<Record<RegClass, string>> = { pred: '%p', b16: '%rs', b32: '%r', f32: '%f', f64: '%fd', b64: '%rd' };
const DECL_TYPE: Readonly<Record<RegClass, string>> = { pred: '.pred', b16: '.b16', b32: '.b32', f32: '.f32', f64: '.f64', b64: '.b64' };
const CLASS_ORDER: readonly RegClass[] = ['pred', 'b16', 'b32', 'f32', 'f64', 'b64'];

const f32Bits = new Float32Array(1);
const u32View = new Uint32Array(f32Bits.buffer);
const f64Bits = new Float64Array(1);
const u32x2View = new Uint32Array(f64Bits.buffer);
const hex = (v: number, digits: number): string => v.toString(16).toUpperCase().padStart(digits, '0');

/** An f32 immediate with the exact bits of fround(x) (NaN and infinities included). */
export function f32Imm(x: number): string {
  f32Bits[0] = x;
  return `0f${hex(u32View[0] ?? 0, 8)}`;
}

/** An f64 immediate with the exact bits of x. */
export function f64Imm(x: number): string {
  f64Bits[0] = x;
  return `0d${hex(u32x2View[1] ?? 0, 8)}${hex(u32x2View[0] ?? 0, 8)}`;
}

export const s32Imm = (x: number): string => `${x | 0}`;
export const u32Imm = (x: number): string => `${x >>> 0}`;

export const isImmediate = (op: string): boolean => !op.startsWith('%') && !op.startsWith('[') && !op.startsWith('{');

export class Asm {
  private readonly counts: Record<RegClass, number> = { pred: 0, b16: 0, b32: 0, f32: 0, f64: 0, b64: 0 };
  private readonly body: string[] = [];
  private labels = 0;

  constructor(private readonly labelPrefix: string) {}

  /** A fresh virtual register. */
  reg(cls: RegClass): string {
    this.counts[cls]++;
    return `${PREFIX[cls]}${this.counts[cls]}`;
  }

  /** Appends one instruction (without the trailing semicolon) or directive line. */
  emit(line: string): void {
    this.body.push(`\t${line};`);
  }

  comment(text: string): void {
    this.body.push(`\t// ${text.replace(/\n/g, ' ')}`);
  }

  /** `op d, srcs...` into a fresh register of class `cls`; returns d. */
  t(op: string, cls: RegClass, ...srcs: readonly string[]): string {
    const d = this.reg(cls);
    this.emit(`${op} ${d}, ${srcs.join(', ')}`);
    return d;
  }

  /** `op d, srcs...` into an existing register. */
  to(d: string, op: string, ...srcs: readonly string[]): void {
    this.emit(`${op} ${d}, ${srcs.join(', ')}`);
  }

  /** An operand in a register of class `cls` (immediates are moved into one). */
  inReg(op: string, cls: RegClass, movType: string): string {
    return isImmediate(op) ? this.t(`mov.${movType}`, cls, op) : op;
  }

  newLabel(hint: string): string {
    return `$${this.labelPrefix}_${hint}${++this.labels}`;
  }

  place(label: string): void {
    this.body.push(`${label}:`);
  }

  /** `.reg` declarations for every class used, in a fixed order. */
  declarations(): string[] {
    return CLASS_ORDER.filter((c) => this.counts[c] > 0).map((c) => `\t.reg ${DECL_TYPE[c]} ${PREFIX[c]}<${this.counts[c] + 1}>;`);
  }

  get lines(): readonly string[] {
    return this.body;
  }

  /** Registers used per class (for tests and reports). */
  get registerCounts(): Readonly<Record<RegClass, number>> {
    return { ...this.counts };
  }
}
