/**
 * JSON from files, parsed with the two checks JSON.parse lacks: a nesting limit (deeply nested input would
 * otherwise overflow the stack of whatever walks the value next: validators, JSON.stringify in messages), and
 * optionally duplicate object keys (JSON.parse silently keeps the last one; formats like safetensors forbid them).
 * The limit is serde_json's default recursion limit, which the safetensors and tokenizers libraries parse with.
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

interface Frame {
  readonly isObject: boolean;
  /** Keys seen so far, for objects when keys are checked. */
  readonly keys: Set<string> | undefined;
  expectKey: boolean;
  /** The member being read: the last key of an object, the element index of an array (for messages). */
  key: string;
  element: number;
}

/** The end index (exclusive) of the string literal starting at `start`, or -1 if it is unterminated. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) i++;
    else if (c === 0x22) return i + 1;
  }
  return -1;
}

function keyText(literal: string): string | undefined {
  if (!literal.includes('\\')) return literal.slice(1, -1);
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined; // a bad escape: JSON.parse of the whole text reports it
  }
}

/** `weight_map`, `model.vocab`, `added_tokens[3]`: where the innermost container sits, for messages. */
function pathOf(stack: readonly Frame[]): string {
  let out = '';
  for (const f of stack.slice(0, -1)) out += f.isObject ? `${out ? '.' : ''}${f.key}` : `[${f.element}]`;
  return out;
}

/**
 * Scans `text` for nesting deeper than the limit and (optionally) duplicate keys, without building values.
 * Syntax errors are left to JSON.parse: the scan only reports what JSON.parse would accept silently.
 */
export function scanJson(text: string, opts: JsonScanOptions = {}): JsonProblem | undefined {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = stack[stack.length - 1];
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      if (top?.isObject && top.expectKey) {
        const key = keyText(text.slice(i, end));
        if (key === undefined) return undefined;
        if (top.keys?.has(key)) {
          const where = pathOf(stack);
          return { index: i, message: `duplicate key ${JSON.stringify(key)}${where ? ` in ${where}` : ''}` };
        }
        top.keys?.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end - 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth) return { index: i, message: `nesting deeper than ${maxDepth} levels` };
      const isObject = c === 0x7b;
      stack.push({ isObject, keys: isObject && opts.uniqueKeys ? new Set() : undefined, expectKey: isObject, key: '', element: 0 });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c && top !== undefined) {
      if (top.isObject) top.expectKey = true;
      else top.element++;
    }
  }
  return undefined;
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

/**
 * JSON.parse after the scan. Throws `fail(message)`: the scan's problems with their line and column, syntax
 * errors with JSON.parse's own message (which gives the position).
 */
export function parseJsonText(text: string, fail: (message: string) => Error, opts: JsonScanOptions = {}): unknown {
  const problem = scanJson(text, opts);
  if (problem !== undefined) {
    const { line, column } = lineColumn(text, problem.index);
    throw fail(`${problem.message} at line ${line}, column ${column}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw fail((e as Error).message);
  }
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
