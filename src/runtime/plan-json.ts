/**
 * JSON for compiled plans: every number survives the round trip (JSON has no NaN, infinities or -0, which kernel
 * constants use: a max starts at -Infinity), and reading checks each field's type with the path of the field in
 * the error, so a damaged or hand-edited plan.json gives a message naming what is wrong instead of a crash or a
 * wrong result later. Browser-safe.
 */

/** A plan file (or a part of one) that cannot be read; the message names the file and the field. */
export class PlanFormatError extends Error {
  override name = 'PlanFormatError';
}

const SPECIAL: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY, '-0': -0 };

function specialName(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return undefined;
}

/**
 * A number from plan JSON: a JSON number, or one of the strings "NaN", "Infinity", "-Infinity", "-0" that
 * planStringify writes for the values JSON cannot hold. Undefined for anything else.
 */
export function planNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  return typeof v === 'string' ? SPECIAL[v] : undefined;
}

/** JSON text in which NaN, +-Infinity and -0 are written as the strings "NaN", "Infinity", "-Infinity", "-0". */
export function planStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' ? (specialName(v) ?? v) : v));
}

/** Parses plan JSON (special numbers stay strings until a typed reader takes them as numbers). */
export function planParse(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new PlanFormatError(`${file}: not a plan (${(e as Error).message})`);
  }
}

/** A typed view of parsed JSON that reports the path of every field it rejects. */
export class Field {
  constructor(
    readonly value: unknown,
    /** 'plan.json: programs[0].steps[3]' */
    readonly path: string,
  ) {}

  fail(msg: string): never {
    throw new PlanFormatError(`${this.path}: ${msg}`);
  }

  private kind(): string {
    const v = this.value;
    return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
  }

  /** A member of an object (absent members read as undefined, which the typed getters reject). */
  get(key: string): Field {
    const v = this.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`expected an object, found ${this.kind()}`);
    return new Field(Object.prototype.hasOwnProperty.call(v, key) ? (v as Record<string, unknown>)[key] : undefined, `${this.path}.${key}`);
  }

  has(key: string): boolean {
    const v = this.value;
    return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, key) && (v as Record<string, unknown>)[key] !== undefined;
  }

  /** The keys of an object. */
  keys(): string[] {
    const v = this.value;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`expected an object, found ${this.kind()}`);
    return Object.keys(v);
  }

  items(): Field[] {
    const v = this.value;
    if (!Array.isArray(v)) this.fail(`expected an array, found ${this.kind()}`);
    return v.map((x, i) => new Field(x, `${this.path}[${i}]`));
  }

  str(): string {
    if (typeof this.value !== 'string') this.fail(`expected a string, found ${this.kind()}`);
    return this.value;
  }

  bool(): boolean {
    if (typeof this.value !== 'boolean') this.fail(`expected true or false, found ${this.kind()}`);
    return this.value;
  }

  num(): number {
    const n = planNumber(this.value);
    if (n === undefined) this.fail(`expected a number, found ${this.kind()}`);
    return n;
  }

  /** An integer in [min, max]. */
  int(min = 0, max = Number.MAX_SAFE_INTEGER): number {
    if (typeof this.value !== 'number') this.fail(`expected an integer, found ${this.kind()}`);
    const n = this.value;
    if (!Number.isInteger(n) || n < min || n > max) this.fail(`expected an integer in [${min}, ${max}], found ${n}`);
    return n;
  }

  oneOf<T extends string>(choices: readonly T[]): T {
    const s = this.str();
    if (!(choices as readonly string[]).includes(s)) this.fail(`expected one of ${choices.join(', ')}, found '${s}'`);
    return s as T;
  }

  /** An array of integers in [min, max]. */
  ints(min = 0, max = Number.MAX_SAFE_INTEGER): number[] {
    return this.items().map((f) => f.int(min, max));
  }

  /** The optional member `key`, read by `read` when present. */
  opt<T>(key: string, read: (f: Field) => T): T | undefined {
    return this.has(key) ? read(this.get(key)) : undefined;
  }
}
