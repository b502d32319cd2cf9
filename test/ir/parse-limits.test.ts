/** The IR parser refuses deep nesting with an error naming line and column, never a stack overflow. */
import { MAX_BRACKET_DEPTH, MAX_REGION_DEPTH, ParseError, parseGraph, printGraph, verifyGraph } from '../../src/ir/index.js';
import { thrown } from '../helpers/thrown.js';

const parseError = (text: string): ParseError => thrown(() => parseGraph(text), ParseError);

/** `depth` modRoute regions, each inside the previous one's body. */
function nestedRegions(depth: number): string {
  return `graph "g"() {\n${'%0 = modRoute() : f32[1] {\n'.repeat(depth)}${'return\n}\n'.repeat(depth)}return\n}\n`;
}

describe('IR parser nesting limits', () => {
  it('refuses 100,000 nested regions at the first region too deep', () => {
    const e = parseError(nestedRegions(100_000));
    expect(e.message).toBe(`regions nested deeper than ${MAX_REGION_DEPTH} levels at line ${MAX_REGION_DEPTH + 2}, column 26`);
  });

  it('reads regions nested up to the limit', () => {
    expect(parseGraph(nestedRegions(MAX_REGION_DEPTH)).nodes).toHaveLength(1);
  });

  it('refuses 100,000 nested brackets in a dim, naming line and column', () => {
    const text = `graph "g"(T: [0, 4]) {\n  %0 = input "x" : f32[${'('.repeat(100_000)}T${')'.repeat(100_000)}]\n  return "y" = %0\n}\n`;
    expect(parseError(text).message).toBe(`brackets nested deeper than ${MAX_BRACKET_DEPTH} levels at line 2, column ${'  %0 = input "x" : f32['.length + MAX_BRACKET_DEPTH + 1}`);
  });

  it('refuses an expression nested 100,000 deep, naming line and column', () => {
    const expr = `${'neg('.repeat(100_000)}$0${')'.repeat(100_000)}`;
    const text = `graph "g"() {\n  %0 = input "x" : f32[2]\n  %1 = fusedElementwise(%0) {expr = ${expr}} : f32[2]\n  return "y" = %1\n}\n`;
    expect(parseError(text).message).toBe(`expression nested deeper than ${MAX_BRACKET_DEPTH} levels at line 3, column ${'  %1 = fusedElementwise(%0) {expr = '.length + 4 * (MAX_BRACKET_DEPTH + 1)}`);
  });

  it('reads an expression nested up to the limit, and prints it back the same', () => {
    const expr = `${'neg('.repeat(MAX_BRACKET_DEPTH)}$0${')'.repeat(MAX_BRACKET_DEPTH)}`;
    const text = `graph "g"() {\n  %0 = input "x" : f32[2]\n  %1 = fusedElementwise(%0) {expr = ${expr}} : f32[2]\n  return "y" = %1\n}\n`;
    const g = parseGraph(text);
    expect(verifyGraph(g)).toEqual([]);
    expect(printGraph(g)).toBe(text);
  });
});
