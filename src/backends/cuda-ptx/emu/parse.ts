/**
 * A parser for PTX modules: the subset that modc's renderer and nvcc emit for compute kernels (entries with
 * parameters, register / shared declarations, nested `{ }` scopes, labels, predicated instructions with vector,
 * address and immediate operands). Errors name the line. The result is a plain syntax tree that decode.ts turns
 * into the interpreter's instruction array.
 */

export class PtxSyntaxError extends Error {
  override name = 'PtxSyntaxError';
}

export type Operand =
  | { readonly kind: 'reg'; readonly name: string }
  | { readonly kind: 'imm'; readonly text: string }
  | { readonly kind: 'sym'; readonly name: string }
  /** [base+offset]: base is a register or a symbol (or absent for an absolute address). */
  | { readonly kind: 'addr'; readonly base?: string; readonly offset: number }
  | { readonly kind: 'vec'; readonly items: readonly Operand[] };

export interface Instruction {
  readonly kind: 'ins';
  readonly line: number;
  /** The guard predicate (`@%p` / `@!%p`). */
  readonly guard?: { readonly reg: string; readonly negate: boolean };
  /** The opcode without modifiers ('ld') and its modifiers in order (['global', 'nc', 'v4', 'f32']). */
  readonly op: string;
  readonly mods: readonly string[];
  readonly operands: readonly Operand[];
}

export interface RegDecl {
  readonly kind: 'reg';
  readonly line: number;
  readonly type: string;
  /** Either a range `%r<N>` (names %r0 .. %r(N-1)) or explicit names. */
  readonly names: readonly string[];
}

export interface ArrayVarDecl {
  readonly kind: 'var';
  readonly line: number;
  readonly space: 'shared' | 'local' | 'global' | 'const';
  readonly name: string;
  readonly align: number;
  readonly type: string;
  /** Elements; undefined for an extern (dynamically sized) shared array. */
  readonly count: number | undefined;
}

export type Statement =
  | Instruction
  | RegDecl
  | ArrayVarDecl
  | { readonly kind: 'label'; readonly line: number; readonly name: string }
  | { readonly kind: 'open'; readonly line: number }
  | { readonly kind: 'close'; readonly line: number };

export interface ParamDecl {
  readonly name: string;
  readonly type: string;
  readonly align: number;
  /** Elements for array params (`.param .align 8 .b8 p[16]`). */
  readonly count: number;
}

export interface EntryDecl {
  readonly name: string;
  readonly line: number;
  readonly params: readonly ParamDecl[];
  readonly reqntid?: readonly number[];
  readonly maxntid?: readonly number[];
  readonly body: readonly Statement[];
}

export interface PtxModule {
  readonly version: string;
  readonly target: string;
  readonly addressSize: number;
  readonly globals: readonly ArrayVarDecl[];
  readonly entries: readonly EntryDecl[];
}

interface Token {
  readonly text: string;
  readonly line: number;
}

const TOKEN =
  /\s+|\/\/[^\n]*|\/\*[\s\S]*?\*\/|(0[fF][0-9a-fA-F]{8}|0[dD][0-9a-fA-F]{16}|0[xX][0-9a-fA-F]+U?|\d+\.\d*(?:[eE][+-]?\d+)?|\d+U?|"[^"]*"|[%$A-Za-z_.][%$A-Za-z0-9_.]*|[,;:{}[\]()+\-!@<>=|])/y;

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (m === null) throw new PtxSyntaxError(`line ${line}: unexpected character '${src[at]}'`);
    if (m[1] !== undefined) out.push({ text: m[1], line });
    for (const ch of m[0]) if (ch === '\n') line++;
  }
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly toks: readonly Token[]) {}

  private peek(k = 0): string | undefined {
    return this.toks[this.i + k]?.text;
  }
  private get line(): number {
    return this.toks[Math.min(this.i, this.toks.length - 1)]?.line ?? 0;
  }
  private next(): string {
    const t = this.toks[this.i++];
    if (t === undefined) throw new PtxSyntaxError('unexpected end of the module');
    return t.text;
  }
  private expect(s: string): void {
    const line = this.line;
    const t = this.next();
    if (t !== s) throw new PtxSyntaxError(`line ${line}: expected '${s}', found '${t}'`);
  }
  private int(): number {
    const line = this.line;
    const t = this.next();
    const v = parseIntLiteral(t);
    if (v === undefined) throw new PtxSyntaxError(`line ${line}: expected an integer, found '${t}'`);
    return v;
  }
  private skipStatement(): void {
    while (this.peek() !== undefined && this.peek() !== ';') this.next();
    this.next();
  }

  module(): PtxModule {
    let version = '';
    let target = '';
    let addressSize = 64;
    const globals: ArrayVarDecl[] = [];
    const entries: EntryDecl[] = [];
    while (this.peek() !== undefined) {
      const t = this.peek() ?? '';
      const line = this.line;
      if (t === '.version') {
        this.next();
        version = this.next();
      } else if (t === '.target') {
        this.next();
        target = this.next();
        while (this.peek() === ',') {
          this.next();
          this.next();
        }
      } else if (t === '.address_size') {
        this.next();
        addressSize = this.int();
      } else if (t === '.file' || t === '.pragma') {
        this.next();
        while (this.peek() !== undefined && !this.peek()?.startsWith('.')) this.next();
      } else if (t === '.visible' || t === '.weak' || t === '.extern' || t === '.entry' || t === '.func' || t === '.shared' || t === '.global' || t === '.const') {
        const linkage: string[] = [];
        while (this.peek() === '.visible' || this.peek() === '.weak' || this.peek() === '.extern') linkage.push(this.next());
        const what = this.peek();
        if (what === '.entry') entries.push(this.entry());
        else if (what === '.func') throw new PtxSyntaxError(`line ${line}: .func (device functions and calls) is not supported by the PTX interpreter`);
        else if (what === '.shared' || what === '.global' || what === '.const') globals.push(this.varDecl(linkage.includes('.extern')));
        else throw new PtxSyntaxError(`line ${line}: unexpected '${what}' after ${linkage.join(' ')}`);
      } else throw new PtxSyntaxError(`line ${line}: unexpected '${t}' at module scope`);
    }
    if (!version) throw new PtxSyntaxError('line 1: the module has no .version directive');
    if (!target) throw new PtxSyntaxError('line 1: the module has no .target directive');
    return { version, target, addressSize, globals, entries };
  }

  private varDecl(external: boolean): ArrayVarDecl {
    const line = this.line;
    const space = this.next().slice(1) as ArrayVarDecl['space'];
    let align = 0;
    let type = '';
    while (this.peek()?.startsWith('.')) {
      const d = this.next();
      if (d === '.align') align = this.int();
      else type = d.slice(1);
    }
    const name = this.next();
    let count: number | undefined = 1;
    if (this.peek() === '[') {
      this.next();
      if (this.peek() === ']') count = undefined;
      else count = this.int();
      this.expect(']');
    }
    if (this.peek() === '=') throw new PtxSyntaxError(`line ${line}: initialised variables are not supported by the PTX interpreter`);
    this.expect(';');
    if (count === undefined && !external) throw new PtxSyntaxError(`line ${line}: array '${name}' has no size`);
    return { kind: 'var', line, space, name, align: align || typeBytes(type), type, count };
  }

  private entry(): EntryDecl {
    const line = this.line;
    this.expect('.entry');
    const name = this.next();
    const params: ParamDecl[] = [];
    if (this.peek() === '(') {
      this.next();
      while (this.peek() !== ')') {
        this.expect('.param');
        let align = 0;
        let type = '';
        while (this.peek()?.startsWith('.')) {
          const d = this.next();
          if (d === '.align') align = this.int();
          else if (d !== '.ptr' && d !== '.global' && d !== '.shared' && d !== '.const' && d !== '.local') type = d.slice(1);
        }
        const pname = this.next();
        let count = 1;
        if (this.peek() === '[') {
          this.next();
          count = this.int();
          this.expect(']');
        }
        params.push({ name: pname, type, align: align || typeBytes(type), count });
        if (this.peek() === ',') this.next();
      }
      this.expect(')');
    }
    let reqntid: number[] | undefined;
    let maxntid: number[] | undefined;
    while (this.peek() !== '{') {
      const d = this.next();
      const dims: number[] = [this.int()];
      while (this.peek() === ',') {
        this.next();
        dims.push(this.int());
      }
      if (d === '.reqntid') reqntid = dims;
      else if (d === '.maxntid') maxntid = dims;
      else if (d !== '.minnctapersm' && d !== '.maxnreg' && d !== '.maxnctapersm') throw new PtxSyntaxError(`line ${this.line}: unsupported entry directive '${d}'`);
    }
    const body = this.block();
    return { name, line, params, ...(reqntid ? { reqntid } : {}), ...(maxntid ? { maxntid } : {}), body };
  }

  /** The statements of a `{ ... }` body, with nested scopes as open / close markers. */
  private block(): Statement[] {
    this.expect('{');
    const out: Statement[] = [];
    let depth = 1;
    while (depth > 0) {
      const t = this.peek();
      const line = this.line;
      if (t === undefined) throw new PtxSyntaxError(`line ${line}: unterminated function body`);
      if (t === '{') {
        this.next();
        depth++;
        out.push({ kind: 'open', line });
      } else if (t === '}') {
        this.next();
        depth--;
        if (depth > 0) out.push({ kind: 'close', line });
      } else if (t === '.reg') out.push(this.regDecl());
      else if (t === '.shared' || t === '.local') out.push(this.varDecl(false));
      else if (t === '.loc' || t === '.pragma') this.skipStatement();
      else if (this.peek(1) === ':' && t !== '@') {
        this.next();
        this.next();
        out.push({ kind: 'label', line, name: t });
      } else out.push(this.instruction());
    }
    return out;
  }

  private regDecl(): RegDecl {
    const line = this.line;
    this.expect('.reg');
    let type = '';
    while (this.peek()?.startsWith('.')) {
      const d = this.next();
      if (d !== '.v2' && d !== '.v4') type = d.slice(1);
      else throw new PtxSyntaxError(`line ${line}: vector registers are not supported by the PTX interpreter`);
    }
    const names: string[] = [];
    for (;;) {
      const n = this.next();
      if (this.peek() === '<') {
        this.next();
        const count = this.int();
        this.expect('>');
        for (let i = 0; i < count; i++) names.push(`${n}${i}`);
      } else names.push(n);
      if (this.peek() !== ',') break;
      this.next();
    }
    this.expect(';');
    return { kind: 'reg', line, type, names };
  }

  private instruction(): Instruction {
    const line = this.line;
    let guard: Instruction['guard'];
    if (this.peek() === '@') {
      this.next();
      const negate = this.peek() === '!';
      if (negate) this.next();
      guard = { reg: this.next(), negate };
    }
    const full = this.next();
    const [op = '', ...mods] = full.split('.');
    const operands: Operand[] = [];
    while (this.peek() !== ';') {
      operands.push(this.operand());
      if (this.peek() === ',') this.next();
      else if (this.peek() !== ';') throw new PtxSyntaxError(`line ${line}: expected ',' or ';' in '${full}', found '${this.peek()}'`);
    }
    this.expect(';');
    return { kind: 'ins', line, ...(guard ? { guard } : {}), op, mods, operands };
  }

  private operand(): Operand {
    const line = this.line;
    const t = this.peek();
    if (t === '[') {
      this.next();
      let base: string | undefined;
      let offset = 0;
      if (this.peek() === '-' || /^\d|^0[xX]/.test(this.peek() ?? '')) offset = this.signedInt();
      else {
        base = this.next();
        if (this.peek() === '+') {
          this.next();
          offset = this.signedInt();
        } else if (this.peek() === '-') offset = this.signedInt();
      }
      this.expect(']');
      return { kind: 'addr', ...(base !== undefined ? { base } : {}), offset };
    }
    if (t === '{') {
      this.next();
      const items: Operand[] = [];
      while (this.peek() !== '}') {
        items.push(this.operand());
        if (this.peek() === ',') this.next();
      }
      this.next();
      return { kind: 'vec', items };
    }
    if (t === '-') {
      this.next();
      const v = this.next();
      return { kind: 'imm', text: `-${v}` };
    }
    if (t === '!') {
      this.next();
      return { kind: 'reg', name: `!${this.next()}` };
    }
    const v = this.next();
    if (v.startsWith('%')) return { kind: 'reg', name: v };
    if (/^\d/.test(v)) return { kind: 'imm', text: v };
    if (v === undefined) throw new PtxSyntaxError(`line ${line}: missing operand`);
    return { kind: 'sym', name: v };
  }

  private signedInt(): number {
    let sign = 1;
    if (this.peek() === '-') {
      this.next();
      sign = -1;
    }
    return sign * this.int();
  }
}

export function parseIntLiteral(t: string): number | undefined {
  const s = t.endsWith('U') ? t.slice(0, -1) : t;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return Number.parseInt(s.slice(2), 16);
  if (/^\d+$/.test(s)) return Number(s);
  return undefined;
}

/** Bytes of a PTX fundamental type ('f32' -> 4). */
export function typeBytes(t: string): number {
  const m = /(\d+)$/.exec(t);
  if (t === 'pred') return 1;
  return m ? Number(m[1]) / 8 : 4;
}

/** Parses PTX module text. */
export function parsePtx(src: string): PtxModule {
  return new Parser(tokenize(src)).module();
}
