/** Structure after the full pipeline, PRD specialisation vectors, the pass manager, and a wrong pass caught. */
import { produce } from 'immer';
import { buildLanguageModel, layerCapacities, layerRatios, TINY_PMOD, zooModel } from '../../models/index.js';
import { printGraph, type Graph, type NodeOf, VerifyError } from '../../src/ir/index.js';
import {
  graphStats,
  type Pass,
  pipeline,
  routeFusionPass,
  runPasses,
  specializeCached,
  specializeGraph,
} from '../../src/passes/index.js';
import { rewrite } from '../../src/passes/rewrite.js';
import { checkPass, PassCheckError } from '../../src/testing/index.js';

const K_576 = [486, 464, 440, 414, 388, 360, 331, 302, 273, 244, 215, 187, 161, 135, 111, 89, ...new Array<number>(8).fill(86)];
const K_2880 = [2432, 2321, 2201, 2074, 1940, 1800, 1658, 1512, 1367, 1221, 1079, 939, 805, 678, 558, 447, ...new Array<number>(8).fill(432)];

const capacitiesOf = (g: Graph): unknown[] => g.nodes.filter((n): n is NodeOf<'modRoute'> => n.op === 'modRoute').map((n) => n.attrs.capacity);

describe('PRD capacity specialisation', () => {
  const g = buildLanguageModel(zooModel('pmod-llava-1.5-7b'));
  it('gives the method doc k_l vectors at N_v = 576 and 2880', () => {
    expect(capacitiesOf(specializeGraph(g, { N_v: 576 }))).toEqual(K_576);
    expect(capacitiesOf(specializeGraph(g, { N_v: 2880 }))).toEqual(K_2880);
  });
  it('binds every dim that depends only on N_v and drops the symbol', () => {
    const s = specializeGraph(g, { N_v: 576 });
    expect(s.symbols.map((x) => x.name)).toEqual(['T']);
    expect(printGraph(s)).not.toContain('N_v');
    expect(printGraph(s)).toContain('f32[T + 576, 4096]');
  });
  it('caches one specialised graph per binding', () => {
    expect(specializeCached(g, { N_v: 576 })).toBe(specializeCached(g, { N_v: 576 }));
    expect(specializeCached(g, { N_v: 576 })).not.toBe(specializeCached(g, { N_v: 2880 }));
  });
  it('rejects unknown symbols and out-of-bounds values', () => {
    expect(() => specializeGraph(g, { M: 3 })).toThrow(/cannot bind 'M'/);
    expect(() => specializeGraph(g, { N_v: 5000 })).toThrow(/N_v = 5000: outside its bounds \[0, 4096\]/);
  });
  it('agrees with the PRD module for other depths', () => {
    const tiny = specializeGraph(buildLanguageModel(TINY_PMOD), { N_v: 32 });
    const ratios = layerRatios(TINY_PMOD.mod?.schedule ?? { kind: 'constant', layout: 'deep_all', ratio: 1 }, 8);
    expect(capacitiesOf(tiny)).toEqual(layerCapacities(ratios, 32).filter((_, l) => ratios[l] !== null));
  });
});

describe('the full pipeline on the tiny p-MoD model', () => {
  const g = runPasses(buildLanguageModel(TINY_PMOD, { exportRouting: true }), pipeline('full', { bindings: { N_v: 32 } }), { verify: true });
  const stats = graphStats(g);

  it('leaves exactly one fused route op per MoD layer and no regions', () => {
    expect(stats.ops.modRoute).toBeUndefined();
    expect(stats.ops.fusedRoute).toBe(6);
    for (let l = 2; l < 8; l++) expect(g.nodes.filter((n) => n.op === 'fusedRoute' && n.name.startsWith(`layers.${l}.`))).toHaveLength(1);
    expect(printGraph(g)).toMatch(/fusedRoute\(.*# layers\.2\.route/);
  });

  it('puts the STRing combine inside the down-projection epilogue', () => {
    expect(stats.ops.stringCombine).toBeUndefined();
    const downs = g.nodes.filter((n): n is NodeOf<'fusedLinear'> => n.op === 'fusedLinear' && n.name.endsWith('mlp.down_proj'));
    expect(downs).toHaveLength(8);
    expect(downs.filter((n) => n.attrs.combine === 'string').map((n) => n.name)).toEqual([2, 3, 4, 5, 6, 7].map((l) => `layers.${l}.route.mlp.down_proj`));
  });

  it('has 11 kernels per MoD layer and 10 per dense layer', () => {
    // route, q/k/v (RMSNorm prologue), 2 x RoPE, attention, o_proj (+residual), gate, up (x silu(gate)), down (+STRing).
    expect(stats.kernelsPerLayer).toEqual({ 0: 10, 1: 10, 2: 11, 3: 11, 4: 11, 5: 11, 6: 11, 7: 11 });
    expect(stats.ops.rmsnorm).toBeUndefined();
    expect(stats.ops.linear).toBeUndefined();
  });
});

describe('pass manager', () => {
  const broken: Pass = {
    name: 'break-types',
    description: 'corrupts a declared type',
    run: (g) =>
      produce(g, (draft) => {
        const n = draft.nodes.find((x) => x.op === 'rmsnorm');
        const t = n?.outputs[0];
        if (n && t) n.outputs = [{ dtype: 'f16', shape: t.shape }];
      }),
  };
  it('verifies between passes and names the pass that broke the graph', () => {
    const g = buildLanguageModel(TINY_PMOD);
    expect(() => runPasses(g, [routeFusionPass, broken], { verify: true })).toThrow(VerifyError);
    expect(() => runPasses(g, [routeFusionPass, broken], { verify: true })).toThrow(/after pass 'break-types'/);
  });
  it('stops after a named pass and rejects unknown names', () => {
    const g = buildLanguageModel(TINY_PMOD);
    const seen: string[] = [];
    runPasses(g, pipeline('full'), { stopAfter: 'fuse-route', onPass: (p) => seen.push(p.name) });
    expect(seen).toEqual(['infer-types', 'fold-constants', 'cse', 'fuse-route']);
    expect(() => runPasses(g, pipeline('full'), { stopAfter: 'fuse-everything' })).toThrow(/no pass named 'fuse-everything'/);
    expect(() => pipeline('fastest')).toThrow(/unknown pipeline 'fastest'/);
  });
});

describe('checkPass catches a wrong pass', () => {
  // Route fusion that forgets the STRing weight on skipped tokens (they keep x instead of w * x).
  const wrong: Pass = {
    name: 'fuse-route-no-skip-weight',
    description: 'deliberately wrong',
    run: (g) =>
      rewrite(routeFusionPass.run(g), (n, rw) => {
        if (n.op !== 'stringCombine') {
          rw.keep(n);
          return;
        }
        const [x, h1, u, rowMap, gate, routable] = n.inputs.map((r) => rw.map(r));
        if (!x || !h1 || !u || !rowMap || !gate || !routable) throw new Error('bad stringCombine');
        const s = rw.typeOf(x).shape[0] ?? 0;
        const unweighted = rw.emit1('binary', [x, rw.emit1('reshape', [gate], { shape: [s, 1] }, 'g')], { fn: 'div' }, 'x_over_w');
        rw.alias({ node: n.id, output: 0 }, rw.emit1('stringCombine', [unweighted, h1, u, rowMap, gate, routable], {}, n.name));
      }),
  };
  it('reports a shrunk counterexample as IR', () => {
    let err: unknown;
    try {
      checkPass(wrong, { numRuns: 200, seed: 7 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PassCheckError);
    const e = err as PassCheckError;
    expect(e.message).toMatch(/pass 'fuse-route-no-skip-weight' does not preserve the graph's meaning: output 'out\d' element \d+/);
    expect(e.before).toContain('modRoute(');
    expect(e.after).toContain('fusedRoute(');
    // Shrinking leaves a small graph.
    expect(e.before.split('\n').length).toBeLessThan(40);
  });
});
