/** The JSON pre-scan: nesting limit and duplicate keys, with strings (braces, quotes, escapes) read correctly. */
import fc from 'fast-check';
import { MAX_JSON_DEPTH, parseJsonText, scanJson } from '../../src/io/json.js';

describe('scanJson', () => {
  it('ignores brackets and quotes inside strings', () => {
    const text = JSON.stringify({ a: '{[{[', b: 'say "hi" \\ [', c: [{ d: '}' }] });
    expect(scanJson(text, { uniqueKeys: true, maxDepth: 3 })).toBeUndefined();
    expect(parseJsonText(text, (m) => new Error(m), { uniqueKeys: true })).toEqual(JSON.parse(text));
  });

  it('compares keys as decoded strings', () => {
    expect(scanJson('{"a":1,"\\u0061":2}', { uniqueKeys: true })).toEqual({ index: 7, message: 'duplicate key "a"' });
    expect(scanJson('{"a":{"x":1},"b":{"x":2}}', { uniqueKeys: true })).toBeUndefined();
    expect(scanJson('{"a":[{"x":1},{"x":2,"x":3}]}', { uniqueKeys: true })?.message).toBe('duplicate key "x" in a[1]');
    expect(scanJson('{"a":1,"a":2}')).toBeUndefined();
  });

  it('counts depth over objects and arrays together', () => {
    const deep = (n: number): string => '[{"k":'.repeat(n / 2) + '0' + '}]'.repeat(n / 2);
    expect(scanJson(deep(MAX_JSON_DEPTH))).toBeUndefined();
    expect(scanJson(deep(MAX_JSON_DEPTH + 2))?.message).toBe(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('reports syntax errors and duplicates with line and column', () => {
    const err = (t: string, uniqueKeys = false): string => {
      try {
        parseJsonText(t, (m) => new Error(m), { uniqueKeys });
      } catch (e) {
        return (e as Error).message;
      }
      return 'parsed';
    };
    expect(err('{\n "a": 1,\n "a": 2}', true)).toBe('duplicate key "a" at line 3, column 2');
    expect(err('{"a": tru}')).toBe('unexpected character "t" at line 1, column 7');
    expect(err('')).toBe('unexpected end of the JSON text (expected a value) at line 1, column 1');
    expect(err('[1,\n]')).toBe('unexpected character "]" at line 2, column 1');
    expect(err('{"a":1} x')).toBe('unexpected text after the JSON value at line 1, column 9');
    expect(err('"tab\there"')).toBe('control character in a string (it must be escaped) at line 1, column 5');
    expect(err('"\\q"')).toBe('bad escape \\q at line 1, column 2');
    expect(err('01')).toBe('unexpected text after the JSON value at line 1, column 2');
  });

  it('accepts exactly what JSON.parse accepts (below the nesting limit)', () => {
    const parses = (t: string): boolean => {
      try {
        JSON.parse(t);
        return true;
      } catch {
        return false;
      }
    };
    const text = fc.oneof(
      fc.json({ maxDepth: 4 }),
      fc.tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.constantFrom('', ',', ']', '}', '"', '\\', '-', '.', 'e', '0', ' ', '\u0001', 'tru', '[', '{')).map(([j, at, ins]) => j.slice(0, at % (j.length + 1)) + ins + j.slice(at % (j.length + 1))),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(fc.property(text, (t) => (scanJson(t) === undefined) === parses(t)), { numRuns: 3000, seed: 7 });
  });
});
