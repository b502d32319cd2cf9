/**
 * IR text: printed graphs (tiny p-MoD before and after the full pipeline: regions, fused ops, expressions,
 * symbolic dims) with corrupted bytes, parsed (then the verifier and printer must run on the result without
 * throwing) or refused with ParseError naming the line and column.
 */
import fc from 'fast-check';
import { buildLanguageModel, zooModel } from '../../../models/index.js';
import { ParseError, parseGraph, printGraph, verifyGraph } from '../../../src/ir/index.js';
import { pipeline, runPasses } from '../../../src/passes/index.js';
import { corrupt, type Corruption, corruptions, type FuzzTarget } from '../harness.js';

const TINY = buildLanguageModel(zooModel('tiny-pmod'), { exportKV: true });
const TEXTS = [printGraph(TINY), printGraph(runPasses(TINY, pipeline('full', { bindings: { N_v: 8 } })))].map((t) => new TextEncoder().encode(t));

export interface IrCase {
  readonly text: number;
  readonly bytes: readonly Corruption[];
}

export const irTarget: FuzzTarget<IrCase> = {
  name: 'IR text',
  cases: fc.record({ text: fc.nat(TEXTS.length - 1), bytes: corruptions }),
  errors: [ParseError],
  // The parser reads text, not files: its messages place the problem by line and column.
  file: () => '',
  located: (m) => / at line \d+, column \d+$/.test(m),
  run(c) {
    const text = new TextDecoder().decode(corrupt(TEXTS[c.text] ?? new Uint8Array(0), c.bytes));
    const g = parseGraph(text);
    verifyGraph(g);
    printGraph(g);
  },
};
