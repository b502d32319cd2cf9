import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseGraph, printGraph, verifyGraph } from '../../src/ir/index.js';
import { buildLanguageModel, zooModel } from '../../models/index.js';

const golden = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'tiny-pmod.ir.txt');

describe('printer', () => {
  const g = buildLanguageModel(zooModel('tiny-pmod'), { exportRouting: true });
  const text = printGraph(g);

  it('matches the golden text of the tiny p-MoD graph', () => {
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('round-trips through the parser to identical text and a graph the verifier accepts', () => {
    const back = parseGraph(text);
    expect(verifyGraph(back)).toEqual([]);
    expect(printGraph(back)).toBe(text);
    expect(back.nodes.map((n) => n.op)).toEqual(g.nodes.map((n) => n.op));
    expect(back.outputs).toEqual(g.outputs);
  });

  it('is stable: building twice prints the same text', () => {
    expect(printGraph(buildLanguageModel(zooModel('tiny-pmod'), { exportRouting: true }))).toBe(text);
  });

  it('prints region bodies, capacities and source names', () => {
    expect(text).toContain('modRoute(');
    expect(text).toMatch(/capacity = floor\(N_v \* 0\.81174490092936\d*\)/);
    expect(text).toContain('# layers.2.route');
    expect(text).toContain('weight "model.layers.2.decoder_layer.self_attn.q_proj.weight" : f32[64, 64]');
    expect(text).toContain('weight "model.layers.2.router.router.weight" : f32[1, 64]');
  });
});
