/**
 * Reads the text form written by `printGraph` back into a Graph. Types are taken as written (not inferred), so
 * `verify` can then tell a hand-edited or corrupted graph from a well-typed one. Errors name line and column.
 */
import { type DType, isDType } from './dtype.js';
import { ParseError } from './errors.js';
import { ExprParseError, parseExprPrefix } from './expr.js';
import { freezeGraph, type Graph, type GraphOutput, type Node, type ValueRef } from './graph.js';
import { ATTR_SCHEMA, type AttrKind, isOpKind } from './ops.js';
import { type Dim, parseDim, type SymbolDecl, SymError } from './sym.js';
import type { TensorType } from './types.js';

/**
 * Nesting limits: deeper text is refused with its line and column instead of overflowing the stack of the
 * recursive parsers (and of the passes that walk the result). Printed graphs nest regions once or twice and
 * brackets a few levels; expression trees of fused ops stay far below the limit.
 */
export const MAX_REGION_DEPTH = 64;
export const MAX_BRACKET_DEPTH = 256;

class Parser {
  private pos = 0;
  private regionDepth = 0;
  constructor(private readonly src: string) {}

  private where(): string {
    const before = this.src.slice(0, this.pos);
    const line = before.split('\n').length;
    const col = this.pos - before.lastIndexOf('\n');
    return `line ${line}, column ${col}`;
  }

  fail(msg: string): never {
    throw new ParseError(`${msg} at ${this.where()}`);
  }

  /** Skips spaces and tabs, and newlines too when `lines` is set. */
  ws(lines = true): void {
    const re = lines ? /[ \t\r\n]/ : /[ \t]/;
    while (this.pos < this.src.length && re.test(this.src[this.pos] ?? '')) this.pos++;
  }

  peek(s: string): boolean {
    this.ws();
    return this.src.startsWith(s, this.pos);
  }

  eat(s: string): void {
    if (!this.peek(s)) this.fail(`expected '${s}'`);
    this.pos += s.length;
  }

  tryEat(s: string): boolean {
    if (!this.peek(s)) return false;
    this.pos += s.length;
    return true;
  }

  ident(): string {
    this.ws();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected an identifier');
    this.pos += m[0].length;
    return m[0];
  }

  int(): number {
    const n = this.number();
    if (!Number.isInteger(n)) this.fail(`expected an integer, got ${n}`);
    return n;
  }

  number(): number {
    this.ws();
    const m = /^(-?inf|nan|-?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?)/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a number');
    this.pos += m[0].length;
    const t = m[0];
    if (t === 'inf') return Number.POSITIVE_INFINITY;
    if (t === '-inf') return Number.NEGATIVE_INFINITY;
    if (t === 'nan') return Number.NaN;
    return Number(t);
  }

  string(): string {
    this.ws();
    if (this.src[this.pos] !== '"') this.fail('expected a string');
    let i = this.pos + 1;
    while (i < this.src.length && this.src[i] !== '"') i += this.src[i] === '\\' ? 2 : 1;
    if (i >= this.src.length) this.fail('unterminated string');
    const raw = this.src.slice(this.pos, i + 1);
    this.pos = i + 1;
    try {
      return JSON.parse(raw) as string;
    } catch {
      return this.fail(`invalid string literal ${raw}`);
    }
  }

  /** Text up to the first of `stops` at bracket depth 0 (used for dims, which have their own parser). */
  chunk(stops: string): string {
    this.ws();
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos] ?? '';
      if (depth === 0 && stops.includes(c)) break;
      if (c === '(' || c === '[') depth++;
      if (c === ')' || c === ']') depth--;
      if (depth > MAX_BRACKET_DEPTH) this.fail(`brackets nested deeper than ${MAX_BRACKET_DEPTH} levels`);
      if (c === '\n') this.fail('unexpected end of line');
      this.pos++;
    }
    return this.src.slice(start, this.pos).trim();
  }

  /** Fails at the first parenthesis nested deeper than the limit in the expression starting here. */
  checkExprNesting(): void {
    let depth = 0;
    for (let i = this.pos; i < this.src.length; i++) {
      const c = this.src[i];
      if (c === '(') depth++;
      else if (c === ')') depth--;
      else if (c === '\n' || (depth === 0 && (c === ',' || c === '}'))) return;
      if (depth < 0) return;
      if (depth > MAX_BRACKET_DEPTH) {
        this.pos = i;
        this.fail(`expression nested deeper than ${MAX_BRACKET_DEPTH} levels`);
      }
    }
  }

  dim(stops: string): Dim {
    const at = this.pos;
    const text = this.chunk(stops);
    try {
      return parseDim(text);
    } catch (e) {
      this.pos = at;
      if (e instanceof SymError) this.fail(e.message);
      throw e;
    }
  }

  dims(): Dim[] {
    this.eat('[');
    const out: Dim[] = [];
    if (this.tryEat(']')) return out;
    for (;;) {
      out.push(this.dim(',]'));
      if (this.tryEat(']')) return out;
      this.eat(',');
    }
  }

  dtype(): DType {
    const d = this.ident();
    if (!isDType(d)) this.fail(`unknown dtype '${d}'`);
    return d;
  }

  type(): TensorType {
    const dtype = this.dtype();
    return { dtype, shape: this.dims() };
  }

  /** Rest of the current line after '#', or '' when there is none. */
  nameComment(): string {
    this.ws(false);
    if (this.src[this.pos] !== '#') return '';
    const end = this.src.indexOf('\n', this.pos);
    const stop = end < 0 ? this.src.length : end;
    const name = this.src.slice(this.pos + 1, stop).trim();
    this.pos = stop;
    return name;
  }

  ref(renum: ReadonlyMap<number, number>): ValueRef {
    this.eat('%');
    const local = this.int();
    const node = renum.get(local);
    if (node === undefined) this.fail(`value %${local} is used before it is defined`);
    const output = this.tryEat('#') ? this.int() : 0;
    return { node, output };
  }

  attr(kind: AttrKind): unknown {
    if (typeof kind === 'object') {
      const v = this.ident();
      if (!kind.enum.includes(v)) this.fail(`'${v}' is not one of ${kind.enum.join('|')}`);
      return v;
    }
    switch (kind) {
      case 'int':
        return this.int();
      case 'float':
        return this.number();
      case 'bool': {
        const v = this.ident();
        if (v !== 'true' && v !== 'false') this.fail(`expected true or false, got '${v}'`);
        return v === 'true';
      }
      case 'string':
        return this.string();
      case 'dtype':
        return this.dtype();
      case 'dim':
        return this.dim(',}');
      case 'dims':
        return this.dims();
      case 'ints': {
        this.eat('[');
        const out: number[] = [];
        if (this.tryEat(']')) return out;
        for (;;) {
          out.push(this.int());
          if (this.tryEat(']')) return out;
          this.eat(',');
        }
      }
      case 'expr': {
        this.ws();
        this.checkExprNesting();
        try {
          const { expr, end } = parseExprPrefix(this.src, this.pos);
          this.pos = end;
          return expr;
        } catch (e) {
          if (e instanceof ExprParseError) this.fail(e.message);
          throw e;
        }
      }
      case 'region':
        return this.fail('regions are written as a block after the node');
    }
  }

  node(id: number, renum: Map<number, number>): Node {
    this.eat('%');
    const local = this.int();
    this.eat('=');
    const op = this.ident();
    if (!isOpKind(op)) this.fail(`unknown op '${op}'`);
    if (op === 'input' || op === 'weight') {
      const bind = this.string();
      this.eat(':');
      const t = this.type();
      const name = this.nameComment() || bind;
      renum.set(local, id);
      return { id, op, name, inputs: [], attrs: { name: bind, dtype: t.dtype, shape: t.shape }, outputs: [t] } as Node;
    }
    const inputs: ValueRef[] = [];
    this.eat('(');
    if (!this.tryEat(')')) {
      for (;;) {
        inputs.push(this.ref(renum));
        if (this.tryEat(')')) break;
        this.eat(',');
      }
    }
    const schema = ATTR_SCHEMA[op] as Readonly<Record<string, AttrKind>>;
    const attrs: Record<string, unknown> = {};
    if (this.tryEat('{')) {
      for (;;) {
        const key = this.ident();
        const kind = schema[key];
        if (kind === undefined) this.fail(`op ${op} has no attribute '${key}'`);
        this.eat('=');
        attrs[key] = this.attr(kind);
        if (this.tryEat('}')) break;
        this.eat(',');
      }
    }
    this.eat(':');
    const outputs: TensorType[] = [];
    if (this.tryEat('(')) {
      for (;;) {
        outputs.push(this.type());
        if (this.tryEat(')')) break;
        this.eat(',');
      }
    } else outputs.push(this.type());
    const name = this.nameComment();
    if (op === 'modRoute') attrs.body = this.region(`${name || 'modRoute'}.body`);
    renum.set(local, id);
    // Attributes are checked against the op's schema by `verify`, not here.
    return { id, op, name, inputs, attrs, outputs } as unknown as Node;
  }

  region(name: string): Graph {
    this.ws();
    if (++this.regionDepth > MAX_REGION_DEPTH) this.fail(`regions nested deeper than ${MAX_REGION_DEPTH} levels`);
    this.eat('{');
    const g = this.body(name, []);
    this.eat('}');
    this.regionDepth--;
    return g;
  }

  body(name: string, symbols: readonly SymbolDecl[]): Graph {
    const nodes: Node[] = [];
    const renum = new Map<number, number>();
    while (this.peek('%')) nodes.push(this.node(nodes.length, renum));
    this.eat('return');
    const outputs: GraphOutput[] = [];
    this.ws(false);
    if (this.src[this.pos] === '"') {
      for (;;) {
        const oname = this.string();
        this.eat('=');
        outputs.push({ name: oname, value: this.ref(renum) });
        this.ws(false);
        if (this.src[this.pos] !== ',') break;
        this.pos++;
      }
    }
    return { name, symbols, nodes, outputs };
  }

  graph(): Graph {
    this.eat('graph');
    const name = this.string();
    this.eat('(');
    const symbols: SymbolDecl[] = [];
    if (!this.tryEat(')')) {
      for (;;) {
        const s = this.ident();
        this.eat(':');
        this.eat('[');
        const lo = this.int();
        this.eat(',');
        const hi = this.int();
        this.eat(']');
        symbols.push({ name: s, min: lo, max: hi });
        if (this.tryEat(')')) break;
        this.eat(',');
      }
    }
    this.eat('{');
    const g = this.body(name, symbols);
    this.eat('}');
    this.ws();
    if (this.pos < this.src.length) this.fail('unexpected text after the graph');
    return g;
  }
}

/** Parses printed IR. The result is frozen but not verified: call `verify` to check it. */
export function parseGraph(text: string): Graph {
  return freezeGraph(new Parser(text).graph());
}
