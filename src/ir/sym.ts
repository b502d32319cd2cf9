/**
 * Symbolic dimensions. A Dim is a non-negative integer constant or a canonical expression over named symbols
 * (token counts such as T and N_v). Every constructor returns the canonical form, so structural equality of
 * the printed form is semantic equality for the linear fragment the compiler needs (T + N_v - N_v + k == T + k).
 */

export type Dim = number | SymExpr;

/** An atom is a non-linear leaf of a linear combination. */
export type SymAtom =
  | { readonly k: 'sym'; readonly name: string }
  /** trunc(f32(a * f32(r))): the p-MoD capacity rule, computed in float32 exactly like the reference code. */
  | { readonly k: 'floorMul'; readonly a: Dim; readonly r: number }
  /** floor(a / b) for a positive integer b. */
  | { readonly k: 'floorDiv'; readonly a: Dim; readonly b: number }
  | { readonly k: 'mul'; readonly a: Dim; readonly b: Dim }
  | { readonly k: 'min'; readonly a: Dim; readonly b: Dim }
  | { readonly k: 'max'; readonly a: Dim; readonly b: Dim };

export interface SymTerm {
  readonly coeff: number;
  readonly atom: SymAtom;
}

export type SymExpr = SymAtom | { readonly k: 'lin'; readonly terms: readonly SymTerm[]; readonly c: number };

export class SymError extends Error {
  override name = 'SymError';
}

export interface SymbolDecl {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

export const sym = (name: string): Dim => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new SymError(`invalid symbol name '${name}'`);
  return { k: 'sym', name };
};

/** Float32 capacity rule shared by the IR, the interpreter and the cost model. */
export function floorMulF32(a: number, r: number): number {
  return Math.trunc(Math.fround(a * Math.fround(r)));
}

// ---- canonical linear form ----

interface Lin {
  terms: Map<string, SymTerm>;
  c: number;
}

function toLin(d: Dim): Lin {
  const terms = new Map<string, SymTerm>();
  if (typeof d === 'number') return { terms, c: d };
  if (d.k === 'lin') {
    for (const t of d.terms) terms.set(atomKey(t.atom), t);
    return { terms, c: d.c };
  }
  terms.set(atomKey(d), { coeff: 1, atom: d });
  return { terms, c: 0 };
}

function fromLin(l: Lin): Dim {
  const terms = [...l.terms.entries()]
    .filter(([, t]) => t.coeff !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, t]) => t);
  if (terms.length === 0) return l.c;
  const only = terms[0];
  if (terms.length === 1 && only !== undefined && only.coeff === 1 && l.c === 0) return only.atom;
  return { k: 'lin', terms, c: l.c };
}

function addLin(a: Lin, b: Lin, sign: number): Lin {
  const terms = new Map(a.terms);
  for (const [key, t] of b.terms) {
    const prev = terms.get(key);
    terms.set(key, { coeff: (prev?.coeff ?? 0) + sign * t.coeff, atom: t.atom });
  }
  return { terms, c: a.c + sign * b.c };
}

function scaleLin(a: Lin, s: number): Lin {
  const terms = new Map<string, SymTerm>();
  for (const [key, t] of a.terms) terms.set(key, { coeff: t.coeff * s, atom: t.atom });
  return { terms, c: a.c * s };
}

export function add(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  return fromLin(addLin(toLin(a), toLin(b), 1));
}

export function sub(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return fromLin(addLin(toLin(a), toLin(b), -1));
}

export function mul(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (typeof a === 'number') return fromLin(scaleLin(toLin(b), a));
  if (typeof b === 'number') return fromLin(scaleLin(toLin(a), b));
  const [x, y] = dimKey(a) <= dimKey(b) ? [a, b] : [b, a];
  return { k: 'mul', a: x, b: y };
}

/** floor(a * r) with the float32 rounding of the p-MoD reference code. */
export function floorMul(a: Dim, r: number): Dim {
  if (!Number.isFinite(r) || r < 0) throw new SymError(`floorMul ratio must be a finite number >= 0, got ${r}`);
  if (typeof a === 'number') return floorMulF32(a, r);
  if (r === 0) return 0;
  if (r === 1) return a;
  return { k: 'floorMul', a, r };
}

export function floorDiv(a: Dim, b: number): Dim {
  if (!Number.isInteger(b) || b <= 0) throw new SymError(`floorDiv divisor must be a positive integer, got ${b}`);
  if (typeof a === 'number') return Math.floor(a / b);
  if (b === 1) return a;
  return { k: 'floorDiv', a, b };
}

export function min(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return Math.min(a, b);
  if (dimEq(a, b)) return a;
  const [x, y] = dimKey(a) <= dimKey(b) ? [a, b] : [b, a];
  return { k: 'min', a: x, b: y };
}

export function max(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return Math.max(a, b);
  if (dimEq(a, b)) return a;
  const [x, y] = dimKey(a) <= dimKey(b) ? [a, b] : [b, a];
  return { k: 'max', a: x, b: y };
}

// ---- queries ----

export function isConst(d: Dim): d is number {
  return typeof d === 'number';
}

export function dimEq(a: Dim, b: Dim): boolean {
  if (typeof a === 'number' || typeof b === 'number') return a === b;
  return a === b || dimKey(a) === dimKey(b);
}

export function shapeEq(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => dimEq(d, b[i] as Dim));
}

/** The names of every symbol a dim mentions. */
export function dimSymbols(d: Dim, out: Set<string> = new Set()): Set<string> {
  if (typeof d === 'number') return out;
  switch (d.k) {
    case 'sym':
      out.add(d.name);
      break;
    case 'lin':
      for (const t of d.terms) dimSymbols(t.atom, out);
      break;
    case 'floorMul':
    case 'floorDiv':
      dimSymbols(d.a, out);
      break;
    case 'mul':
    case 'min':
    case 'max':
      dimSymbols(d.a, out);
      dimSymbols(d.b, out);
      break;
  }
  return out;
}

export type SymEnv = Readonly<Record<string, number>>;

export function evalDim(d: Dim, env: SymEnv): number {
  if (typeof d === 'number') return d;
  switch (d.k) {
    case 'sym': {
      const v = env[d.name];
      if (v === undefined) throw new SymError(`unbound symbol '${d.name}'`);
      return v;
    }
    case 'lin':
      return d.terms.reduce((acc, t) => acc + t.coeff * evalDim(t.atom, env), d.c);
    case 'floorMul':
      return floorMulF32(evalDim(d.a, env), d.r);
    case 'floorDiv':
      return Math.floor(evalDim(d.a, env) / d.b);
    case 'mul':
      return evalDim(d.a, env) * evalDim(d.b, env);
    case 'min':
      return Math.min(evalDim(d.a, env), evalDim(d.b, env));
    case 'max':
      return Math.max(evalDim(d.a, env), evalDim(d.b, env));
  }
}

/** Replaces bound symbols by constants (partial evaluation) and re-canonicalises. */
export function substDim(d: Dim, env: SymEnv): Dim {
  if (typeof d === 'number') return d;
  switch (d.k) {
    case 'sym': {
      const v = env[d.name];
      return v === undefined ? d : v;
    }
    case 'lin':
      return d.terms.reduce<Dim>((acc, t) => add(acc, mul(t.coeff, substDim(t.atom, env))), d.c);
    case 'floorMul':
      return floorMul(substDim(d.a, env), d.r);
    case 'floorDiv':
      return floorDiv(substDim(d.a, env), d.b);
    case 'mul':
      return mul(substDim(d.a, env), substDim(d.b, env));
    case 'min':
      return min(substDim(d.a, env), substDim(d.b, env));
    case 'max':
      return max(substDim(d.a, env), substDim(d.b, env));
  }
}

// ---- printing ----

/** Shortest text that reads back as the same float64. */
export function formatNumber(n: number): string {
  if (Object.is(n, -0)) return '-0.0';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  return String(n);
}

function atomText(a: SymAtom): string {
  switch (a.k) {
    case 'sym':
      return a.name;
    case 'floorMul':
      return `floor(${factorText(a.a)} * ${formatRatio(a.r)})`;
    case 'floorDiv':
      return `floor(${factorText(a.a)} / ${a.b})`;
    case 'mul':
      return `${factorText(a.a)}*${factorText(a.b)}`;
    case 'min':
      return `min(${dimText(a.a)}, ${dimText(a.b)})`;
    case 'max':
      return `max(${dimText(a.a)}, ${dimText(a.b)})`;
  }
}

/** Ratios always print with a decimal point so the parser can tell them from integer coefficients. */
function formatRatio(r: number): string {
  const s = String(r);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function factorText(d: Dim): string {
  if (typeof d === 'number') return String(d);
  return d.k === 'lin' ? `(${dimText(d)})` : atomText(d);
}

export function dimText(d: Dim): string {
  if (typeof d === 'number') return String(d);
  if (d.k !== 'lin') return atomText(d);
  const parts: string[] = [];
  d.terms.forEach((t, i) => {
    const mag = Math.abs(t.coeff);
    const body = mag === 1 ? atomText(t.atom) : `${mag}*${t.atom.k === 'mul' ? `(${atomText(t.atom)})` : atomText(t.atom)}`;
    if (i === 0) parts.push(t.coeff < 0 ? `-${body}` : body);
    else parts.push(t.coeff < 0 ? `- ${body}` : `+ ${body}`);
  });
  if (d.c !== 0) parts.push(d.c < 0 ? `- ${-d.c}` : `+ ${d.c}`);
  return parts.join(' ');
}

function atomKey(a: SymAtom): string {
  return atomText(a);
}

/** Keys of symbolic dims already printed: a dim is immutable, and type inference compares the same ones often. */
const keys = new WeakMap<SymExpr, string>();

export function dimKey(d: Dim): string {
  if (typeof d === 'number') return String(d);
  let key = keys.get(d);
  if (key === undefined) {
    key = dimText(d);
    keys.set(d, key);
  }
  return key;
}

export function shapeText(shape: readonly Dim[]): string {
  return `[${shape.map(dimText).join(', ')}]`;
}

// ---- parsing ----

/** Parses the printed form of a Dim (the inverse of dimText). */
export function parseDim(text: string): Dim {
  const p = new DimParser(text);
  const d = p.expr();
  p.expectEnd();
  return d;
}

class DimParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  private skip(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos] ?? '')) this.pos++;
  }

  private peek(): string {
    this.skip();
    return this.src[this.pos] ?? '';
  }

  private fail(msg: string): never {
    throw new SymError(`cannot parse dim '${this.src}' at offset ${this.pos}: ${msg}`);
  }

  private eat(ch: string): void {
    if (this.peek() !== ch) this.fail(`expected '${ch}'`);
    this.pos++;
  }

  expectEnd(): void {
    if (this.peek() !== '') this.fail('unexpected trailing text');
  }

  expr(): Dim {
    let acc: Dim;
    if (this.peek() === '-') {
      this.pos++;
      acc = mul(-1, this.term());
    } else acc = this.term();
    for (;;) {
      const c = this.peek();
      if (c === '+') {
        this.pos++;
        acc = add(acc, this.term());
      } else if (c === '-') {
        this.pos++;
        acc = sub(acc, this.term());
      } else return acc;
    }
  }

  private term(): Dim {
    let acc = this.factor();
    while (this.peek() === '*') {
      this.pos++;
      acc = mul(acc, this.factor());
    }
    return acc;
  }

  private number(): number {
    this.skip();
    const m = /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a number');
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private ident(): string {
    this.skip();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.src.slice(this.pos));
    if (!m) this.fail('expected a symbol');
    this.pos += m[0].length;
    return m[0];
  }

  private factor(): Dim {
    const c = this.peek();
    if (c === '(') {
      this.pos++;
      const d = this.expr();
      this.eat(')');
      return d;
    }
    if (/[0-9]/.test(c)) {
      const n = this.number();
      if (!Number.isInteger(n)) this.fail(`non-integer constant ${n} outside floor()`);
      return n;
    }
    const name = this.ident();
    if ((name === 'floor' || name === 'min' || name === 'max') && this.peek() === '(') {
      this.pos++;
      if (name === 'floor') {
        const a = this.factor();
        const op = this.peek();
        if (op === '*') {
          this.pos++;
          const r = this.number();
          this.eat(')');
          return floorMul(a, r);
        }
        if (op === '/') {
          this.pos++;
          const b = this.number();
          this.eat(')');
          return floorDiv(a, b);
        }
        this.fail("expected '*' or '/' in floor()");
      }
      const a = this.expr();
      this.eat(',');
      const b = this.expr();
      this.eat(')');
      return name === 'min' ? min(a, b) : max(a, b);
    }
    return sym(name);
  }
}
