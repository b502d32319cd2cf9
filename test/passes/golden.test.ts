/** Golden printed IR of a tiny p-MoD model (one dense and one MoD layer) after every pass of the full pipeline. */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLanguageModel, type ModelSpec, TINY_PMOD } from '../../models/index.js';
import { interpret } from '../../src/backends/reference/index.js';
import { parseGraph, printGraph, verifyGraph } from '../../src/ir/index.js';
import { pipeline, runPasses } from '../../src/passes/index.js';
import { randomLlavaInputs } from '../../models/index.js';
import { randomWeights } from '../../src/runtime/random.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'passes');

/** Two layers, the second a MoD layer keeping half of the vision tokens. */
const TWO_LAYER: ModelSpec = {
  ...TINY_PMOD,
  name: 'two-layer-pmod',
  llm: { ...TINY_PMOD.llm, hiddenSize: 16, numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 8, intermediateSize: 32, vocabSize: 32 },
  mod: { ...(TINY_PMOD.mod ?? ({} as never)), schedule: { kind: 'constant', layout: 'interleave', ratio: 0.5 } },
};

describe('golden IR after each pass', () => {
  const source = buildLanguageModel(TWO_LAYER, { exportRouting: true });
  const stages: [string, string][] = [['00-source', printGraph(source)]];
  const final = runPasses(source, pipeline('full', { bindings: { N_v: 4 } }), {
    verify: true,
    onPass: (p, g) => stages.push([`${String(stages.length).padStart(2, '0')}-${p.name}`, printGraph(g)]),
  });

  it.each(stages.map(([name]) => [name]))('%s', (name) => {
    const text = stages.find(([n]) => n === name)?.[1] ?? '';
    const file = join(dir, `${name}.ir.txt`);
    if (process.env.UPDATE_GOLDEN) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(file, text);
    }
    expect(text).toBe(readFileSync(file, 'utf8'));
  });

  it('every stage round-trips through the parser and verifies', () => {
    for (const [, text] of stages) {
      const back = parseGraph(text);
      expect(verifyGraph(back)).toEqual([]);
      expect(printGraph(back)).toBe(text);
    }
  });

  it('the compiled graph computes what the source graph computes', () => {
    const w = randomWeights(source, 5);
    const inputs = randomLlavaInputs(TWO_LAYER, 6, 4, 5);
    const [a, b] = [interpret(source, inputs, { weights: w }), interpret(final, inputs, { weights: w })];
    expect(Array.from(b['routing.layer1']?.data ?? [])).toEqual(Array.from(a['routing.layer1']?.data ?? []));
    const [la, lb] = [a.logits?.data ?? [], b.logits?.data ?? []];
    expect(la.length).toBe(10 * 32);
    la.forEach((v, i) => expect(lb[i]).toBeCloseTo(v, 4));
  });
});
