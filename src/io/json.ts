/**
 * JSON from files, checked before JSON.parse for what it lacks: a nesting limit (deeply nested input would
 * otherwise overflow the stack of whatever walks the value next: validators, JSON.stringify in messages),
 * optionally duplicate object keys (JSON.parse silently keeps the last one; formats like safetensors forbid them),
 * and syntax errors reported with line and column (V8's messages often give neither). The limit is serde_json's
 * default recursion limit, which the safetensors and tokenizers libraries parse with.
 */

export const MAX_JSON_DEPTH = 128;

/** Where and why a JSON text is refused: `index` is a UTF-16 index into the text. */
export interface JsonProblem {
  readonly index: number;
  readonly message: string;
}

export interface JsonScanOptions {
  readonly maxDepth?: number;
  /** Refuse an object that has the same key twice (at any depth). */
  readonly uniqueKeys?: boolean;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Problem extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A validating pass over JSON text (RFC 8259 grammar) that builds no values. It recurses once per nesting level,
 * and fails before passing the limit, so it cannot overflow the stack itself.
 */
class Scanner {
  private pos = 0;
  private readonly path: string[] = [];

  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
    private readonly uniqueKeys: boolean,
  ) {}

  run(): void {
    this.value();
    this.ws();
    if (this.pos < this.text.length) this.fail('unexpected text after the JSON value');
  }

  private fail(message: string, at = this.pos): never {
    throw new Problem(at, at >= this.text.length ? `unexpected end of the JSON text (${message})` : message);
  }

  private ws(): void {
    while (WS.has(this.text.charCodeAt(this.pos))) this.pos++;
  }

  private value(): void {
    this.ws();
    const c = this.text[this.pos];
    if (c === '{' || c === '[') {
      if (this.path.length >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`);
      if (c === '{') this.object();
      else this.array();
    } else if (c === '"') this.string();
    else if (c === 't' || c === 'f' || c === 'n') {
      const word = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
      if (!this.text.startsWith(word, this.pos)) this.fail(`unexpected character ${JSON.stringify(c)}`);
      this.pos += word.length;
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = this.pos;
      const m = NUMBER.exec(this.text);
      if (m === null) this.fail('malformed number');
      this.pos += m[0].length;
    } else this.fail(c === undefined ? 'expected a value' : `unexpected character ${JSON.stringify(c)}`);
  }

  /** Reads a string literal; returns its raw text (quotes included). */
  private string(): string {
    const start = this.pos++;
    for (;;) {
      const code = this.text.charCodeAt(this.pos);
      if (Number.isNaN(code)) this.fail('unterminated string', start);
      if (code === 0x22) break;
      if (code < 0x20) this.fail('control character in a string (it must be escaped)');
      if (code === 0x5c) {
        const e = this.text[this.pos + 1] ?? '';
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail('bad \\u escape');
          this.pos += 6;
          continue;
        }
        if (!ESCAPES.has(e)) this.fail(`bad escape \\${e}`);
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    this.pos++;
    return this.text.slice(start, this.pos);
  }

  private expect(ch: string, what: string): void {
    this.ws();
    if (this.text[this.pos] !== ch) this.fail(`expected ${what}`);
    this.pos++;
  }

  private object(): void {
    this.pos++;
    const keys = this.uniqueKeys ? new Set<string>() : undefined;
    this.ws();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.text[this.pos] !== '"') this.fail('expected a property name in double quotes');
      const at = this.pos;
      const raw = this.string();
      const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      if (keys?.has(key)) this.fail(`duplicate key ${JSON.stringify(key)}${this.path.length ? ` in ${this.where()}` : ''}`, at);
      keys?.add(key);
      this.expect(':', "':' after the property name");
      this.path.push(`${this.path.length ? '.' : ''}${key}`);
      this.value();
      this.path.pop();
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === '}') return;
      if (c !== ',') this.fail("expected ',' or '}' after a property value", this.pos - 1);
    }
  }

  private array(): void {
    this.pos++;
    this.ws();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (let i = 0; ; i++) {
      this.path.push(`[${i}]`);
      this.value();
      this.path.pop();
      this.ws();
      const c = this.text[this.pos];
      this.pos++;
      if (c === ']') return;
      if (c !== ',') this.fail("expected ',' or ']' after an array element", this.pos - 1);
    }
  }

  /** `weight_map`, `model.vocab`, `added_tokens[3]`: where the current object sits, for messages. */
  private where(): string {
    return this.path.join('');
  }
}

/**
 * Checks that `text` is JSON nested at most `maxDepth` levels and, optionally, without duplicate keys; returns the
 * first problem (with its index) or undefined. Values are not built: JSON.parse does that afterwards.
 */
export function scanJson(text: string, opts: JsonScanOptions = {}): JsonProblem | undefined {
  try {
    new Scanner(text, opts.maxDepth ?? MAX_JSON_DEPTH, opts.uniqueKeys ?? false).run();
    return undefined;
  } catch (e) {
    if (e instanceof Problem) return { index: e.index, message: e.message };
    throw e;
  }
}

/** 1-based line and column of a UTF-16 index, for messages about text files. */
export function lineColumn(text: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < index && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: index - lineStart + 1 };
}

/** JSON.parse after the scan. Throws `fail(message)` for the scan's first problem, with its line and column. */
export function parseJsonText(text: string, fail: (message: string) => Error, opts: JsonScanOptions = {}): unknown {
  const problem = scanJson(text, opts);
  if (problem !== undefined) {
    const { line, column } = lineColumn(text, problem.index);
    throw fail(`${problem.message} at line ${line}, column ${column}`);
  }
  return JSON.parse(text) as unknown;
}

/**
 * A value as error messages show it: its JSON, cut to `max` characters, and never a stack overflow or a
 * megabyte of text, whatever the input holds.
 */
export function showValue(v: unknown, max = 80): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined; // nested too deeply to print (or cyclic)
  }
  if (text === undefined) return Array.isArray(v) ? 'a deeply nested array' : typeof v === 'object' && v !== null ? 'a deeply nested object' : String(v);
  return text.length > max ? `${text.slice(0, max)}... (${text.length} characters)` : text;
}
