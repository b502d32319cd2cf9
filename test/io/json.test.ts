/** The JSON pre-scan: nesting limit and duplicate keys, with strings (braces, quotes, escapes) read correctly. */
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

  it('reports line and column, and leaves syntax errors to JSON.parse', () => {
    expect(() => parseJsonText('{\n "a": 1,\n "a": 2}', (m) => new Error(m), { uniqueKeys: true })).toThrow('duplicate key "a" at line 3, column 2');
    expect(() => parseJsonText('{"a": tru}', (m) => new Error(m))).toThrow(/Unexpected token/);
  });
});
