/**
 * One p-MoD layer of the tiny model as a graph: inputs x [S, d], mask bool [S], positions i32 [S]; weights
 * `router.weight` / `router.bias` and the layer under `layer.`; outputs y, kept, k, v (the kept tokens' keys and
 * values). Used by the MoD semantics tests and the backend conformance cases.
 */
import { decoderLayer } from '../../models/llama.js';
import { TINY_PMOD } from '../../models/zoo.js';
import { add, buildGraph, type Dim, floorMul, type Graph } from '../../src/ir/index.js';

export function oneModLayerGraph(capacity: { ratio: number } | { constant: number }, gate = { alpha: 0.2, bias: 1 }): Graph {
  const cfg = TINY_PMOD.llm;
  const d = cfg.hiddenSize;
  return buildGraph('mod_layer', { T: [0, 64], N_v: [0, 64] }, (b) => {
    const [T, N] = [b.sym('T'), b.sym('N_v')];
    const S = add(T, N);
    const x = b.input('x', 'f32', [S, d]);
    const mask = b.input('mask', 'bool', [S]);
    const pos = b.input('positions', 'i32', [S]);
    const rw = b.weight('router.weight', 'f32', [1, d]);
    const rb = b.weight('router.bias', 'f32', [1]);
    const k: Dim = 'ratio' in capacity ? floorMul(N, capacity.ratio) : capacity.constant;
    const ratio = 'ratio' in capacity ? capacity.ratio : 0;
    const res = b.modRoute(x, pos, mask, rw, rb, { capacity: k, routableCount: N, ratio, ...gate }, (rb2, xk, pk) => {
      const out = decoderLayer(rb2, xk, pk, add(T, k), cfg, 'layer', 'f32');
      return { h1: out.h1, u: out.u, extras: [{ name: 'k', value: out.k }, { name: 'v', value: out.v }] };
    });
    b.output('y', res.y);
    b.output('kept', res.kept);
    const [kk, vv] = res.extras;
    if (kk && vv) {
      b.output('k', kk);
      b.output('v', vv);
    }
  });
}
