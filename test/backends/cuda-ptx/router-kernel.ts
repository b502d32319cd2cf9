/**
 * A route-style kernel for the PTX tests: the canonical router score (src/ir/numerics.ts) of one token per
 * thread, written in Kernel IR operation for operation (12-bit splits by bit masking, TwoSum lanes, the fixed
 * pairwise tree). Its PTX must keep every f32 add and multiply separately rounded, so it is bit-exact.
 */
import { ROUTER_LANES, SPLIT_MASK } from '../../../src/ir/numerics.js';
import { k, type Kernel, type KNode } from '../../../src/kernel/index.js';

const hi = (x: KNode): KNode => k.bitcast(k.and(k.bitcast(x, 'u32'), k.cnst(SPLIT_MASK, 'u32')), 'f32');
const fv = (name: string): KNode => k.v(name, 'f32');

/** scores[t] = routerScore(x[t, :], w, d, b[0]) for t < S; d must be a multiple of 32. */
export function routerScoreKernel(d: number): Kernel {
  if (d % ROUTER_LANES !== 0) throw new Error(`routerScoreKernel: d = ${d} is not a multiple of ${ROUTER_LANES}`);
  const lanes = Array.from({ length: ROUTER_LANES }, (_, j) => j);
  const twoSum = (s: string, c: string, p: KNode, e: KNode, tag: string): KNode[] => [
    k.decl(`t${tag}`, k.add(fv(s), p)),
    k.decl(`z${tag}`, k.sub(fv(`t${tag}`), fv(s))),
    k.decl(`r${tag}`, k.add(k.sub(fv(s), k.sub(fv(`t${tag}`), fv(`z${tag}`))), k.sub(p, fv(`z${tag}`)))),
    k.assign(s, fv(`t${tag}`)),
    k.assign(c, k.add(fv(c), k.add(fv(`r${tag}`), e))),
  ];
  const product = (j: number): KNode[] => [
    k.decl(`a${j}`, k.load(k.global('x'), k.add(k.v('row'), k.add(k.v('i'), j)))),
    k.decl(`b${j}`, k.load(k.global('w'), k.add(k.v('i'), j))),
    k.decl(`ah${j}`, hi(fv(`a${j}`))),
    k.decl(`bh${j}`, hi(fv(`b${j}`))),
    k.decl(`al${j}`, k.sub(fv(`a${j}`), fv(`ah${j}`))),
    k.decl(`bl${j}`, k.sub(fv(`b${j}`), fv(`bh${j}`))),
    k.decl(`p${j}`, k.mul(fv(`ah${j}`), fv(`bh${j}`))),
    k.decl(`e${j}`, k.add(k.add(k.mul(fv(`ah${j}`), fv(`bl${j}`)), k.mul(fv(`al${j}`), fv(`bh${j}`))), k.mul(fv(`al${j}`), fv(`bl${j}`)))),
    ...twoSum(`s${j}`, `c${j}`, fv(`p${j}`), fv(`e${j}`), `${j}`),
  ];
  const merges: KNode[] = [];
  for (let width = ROUTER_LANES / 2; width >= 1; width /= 2)
    for (let j = 0; j < width; j++) {
      const tag = `m${width}_${j}`;
      merges.push(
        k.decl(`t${tag}`, k.add(fv(`s${j}`), fv(`s${j + width}`))),
        k.decl(`z${tag}`, k.sub(fv(`t${tag}`), fv(`s${j}`))),
        k.decl(`r${tag}`, k.add(k.sub(fv(`s${j}`), k.sub(fv(`t${tag}`), fv(`z${tag}`))), k.sub(fv(`s${j + width}`), fv(`z${tag}`)))),
        k.assign(`s${j}`, fv(`t${tag}`)),
        k.assign(`c${j}`, k.add(k.add(fv(`c${j}`), fv(`c${j + width}`)), fv(`r${tag}`))),
      );
    }
  const token = k.add(k.mul(k.gid(0), 32), k.lid(0));
  return {
    name: `router_score_${d}`,
    buffers: [
      { name: 'x', elem: 'f32', access: 'read' },
      { name: 'w', elem: 'f32', access: 'read' },
      { name: 'b', elem: 'f32', access: 'read' },
      { name: 'scores', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'S', type: 'i32' }],
    shared: [],
    privates: [],
    threads: 32,
    body: k.block(
      k.decl('tok', token),
      k.iff(k.lt(k.v('tok'), k.param('S')), [
        k.decl('row', k.mul(k.v('tok'), d)),
        ...lanes.flatMap((j) => [k.decl(`s${j}`, k.f32(0)), k.decl(`c${j}`, k.f32(0))]),
        k.range('i', 0, d, lanes.flatMap(product), ROUTER_LANES),
        ...merges,
        k.decl('bias', k.load(k.global('b'), 0)),
        k.decl('tb', k.add(fv('s0'), fv('bias'))),
        k.decl('zb', k.sub(fv('tb'), fv('s0'))),
        k.decl('rb', k.add(k.sub(fv('s0'), k.sub(fv('tb'), fv('zb'))), k.sub(fv('bias'), fv('zb')))),
        k.store(k.global('scores'), k.v('tok'), k.add(fv('tb'), k.add(fv('c0'), fv('rb')))),
      ]),
    ),
  };
}
