/**
 * Deterministic top-k and order-preserving compaction in one workgroup (the p-MoD route, method section 3.3-3.4):
 *  1. each score maps to a u32 key that orders like the ranking (higher score first, -0 == +0, NaN last);
 *  2. the k-th largest key T among the candidates (mask != 0) is found bit by bit, most significant first: 32
 *     workgroup-wide counts, no sorting, no atomics;
 *  3. a candidate is kept iff key > T, or key == T and it is among the first (k - count(key > T)) such ties in
 *     index order (ties go to the lower index); non-candidates (text tokens) are always kept;
 *  4. exclusive prefix sums over contiguous per-thread chunks give every kept token its slot: rowMap (sequence
 *     index per kept row), keptPos (its position id), keptGate (its TanhNorm weight, 1 for text), keptCand
 *     (the kept candidates: the route's `kept` output).
 * It also checks that the mask holds `expected` candidates (when expected >= 0) and at least k.
 * With threads = 1 it is the sequential algorithm (the CPU schedule); on GPUs one workgroup of 256 threads.
 */
import { add, assign, barrier, binary, bitcast, block, cast, cmp, decl, global, i32, iff, lid, load, lt, min, mul, param, range, select, shared, store, sub, v } from '../dsl.js';
import type { Kernel, KNode } from '../ir.js';

export interface RouteSelectSpec {
  /** Tokens in the sequence. */
  readonly s: number;
  /** Kept rows (non-candidates + k): the lengths of rowMap / keptPos / keptGate. */
  readonly kept: number;
  readonly threads: number;
}

const u32c = (x: number): KNode => ({ op: 'const', type: 'u32', src: [], arg: x >>> 0 });

/** The ranking key of a score: monotone in the score, -0 and +0 equal, NaN the smallest (0). */
function keyOf(score: KNode): KNode {
  // x + 0 turns -0 into +0 and leaves every other value (NaN included) as it is.
  const bits = bitcast(add(score, { op: 'const', type: 'f32', src: [], arg: 0 }), 'u32');
  const neg = cmp('ne', binary('and', bits, u32c(0x80000000)), u32c(0));
  const flipped = select(neg, binary('xor', bits, u32c(0xffffffff)), binary('or', bits, u32c(0x80000000)));
  const isNan = cmp('gt', binary('and', bits, u32c(0x7fffffff)), u32c(0x7f800000));
  return select(isNan, u32c(0), flipped);
}

export function routeSelectKernel(spec: RouteSelectSpec): Kernel {
  const { s, threads: T } = spec;
  const chunk = Math.max(1, Math.ceil(s / T));
  const t0 = mul(lid(0), chunk);
  const t1 = min(add(v('t0'), chunk), s);
  const cand = (t: KNode): KNode => cmp('ne', load(global('mask'), t, 'i32'), 0);
  const key = (t: KNode): KNode => keyOf(load(global('scores'), t));
  /** Sum of `count` (an i32 per thread) over the workgroup, into variable `into` (same value in every thread). */
  const reduce = (count: KNode, into: string): KNode[] => {
    const out: KNode[] = [store(shared('red'), lid(0), count), barrier()];
    for (let w = 1 << Math.ceil(Math.log2(T)); w > 1; w >>= 1) {
      const half = w >> 1;
      out.push(iff(binary('and', lt(lid(0), half), lt(add(lid(0), half), T)), store(shared('red'), lid(0), add(load(shared('red'), lid(0), 'i32'), load(shared('red'), add(lid(0), half), 'i32')))), barrier());
    }
    out.push(decl(into, load(shared('red'), 0, 'i32')), barrier());
    return out;
  };
  /** Exclusive prefix over threads of a per-thread count (thread 0 scans; T is small). */
  const scan = (count: KNode, into: string): KNode[] => [
    store(shared('red'), lid(0), count),
    barrier(),
    iff(cmp('eq', lid(0), 0), [
      decl('acc', i32(0)),
      range('q', 0, T, [decl('c', load(shared('red'), v('q'), 'i32')), store(shared('red'), v('q'), v('acc')), assign('acc', add(v('acc'), v('c')))]),
    ]),
    barrier(),
    decl(into, load(shared('red'), lid(0), 'i32')),
    barrier(),
  ];
  const countChunk = (name: string, pred: (t: KNode) => KNode): KNode[] => [
    decl(name, i32(0)),
    range('t', v('t0'), v('t1'), iff(pred(v('t')), assign(name, add(v(name), 1)))),
  ];
  const k = param('k');
  const stmts: KNode[] = [
    decl('t0', t0),
    decl('t1', t1),
    // Candidate count: the routable-count check, and at least k candidates.
    ...countChunk('nc', cand),
    ...reduce(v('nc'), 'total'),
    iff(binary('or', binary('and', cmp('ge', param('expected'), 0), cmp('ne', v('total'), param('expected'))), lt(v('total'), k)), iff(cmp('eq', lid(0), 0), store(global('status'), 0, param('code')))),
    // Threshold: the largest T with count(key >= T) >= k, one bit at a time.
    decl('thr', u32c(0)),
    range('bit', 0, 32, [
      decl('trial', binary('or', v('thr', 'u32'), binary('shl', u32c(1), cast(sub(31, v('bit')), 'u32')))),
      ...countChunk('ge', (t) => binary('and', cand(t), cmp('ge', key(t), v('trial', 'u32')))),
      ...reduce(v('ge'), 'nge'),
      iff(cmp('ge', v('nge'), k), assign('thr', v('trial', 'u32'))),
    ]),
    ...countChunk('gt', (t) => binary('and', cand(t), cmp('gt', key(t), v('thr', 'u32')))),
    ...reduce(v('gt'), 'ngt'),
    // With k = 0 the threshold is all ones, which no key reaches: nothing is kept.
    decl('need', sub(k, v('ngt'))),
    ...countChunk('eq', (t) => binary('and', cand(t), cmp('eq', key(t), v('thr', 'u32')))),
    ...scan(v('eq'), 'eqBase'),
    // This chunk's kept rows and kept candidates, given the ties before it.
    decl('e', v('eqBase')),
    decl('nk', i32(0)),
    decl('nkc', i32(0)),
    range('t', v('t0'), v('t1'), [
      decl('kk', key(v('t'))),
      iff(
        cand(v('t')),
        [
          decl('tie', binary('and', cmp('eq', v('kk', 'u32'), v('thr', 'u32')), cmp('lt', v('e'), v('need')))),
          iff(cmp('eq', v('kk', 'u32'), v('thr', 'u32')), assign('e', add(v('e'), 1))),
          iff(binary('or', cmp('gt', v('kk', 'u32'), v('thr', 'u32')), v('tie', 'bool')), [assign('nk', add(v('nk'), 1)), assign('nkc', add(v('nkc'), 1))]),
        ],
        assign('nk', add(v('nk'), 1)),
      ),
    ]),
    ...scan(v('nk'), 'kBase'),
    ...scan(v('nkc'), 'cBase'),
    // Write this chunk's kept rows at their slots (the same decisions as the counting pass).
    assign('e', v('eqBase')),
    decl('j', v('kBase')),
    decl('jc', v('cBase')),
    range('t', v('t0'), v('t1'), [
      decl('kk2', key(v('t'))),
      decl('isCand', cand(v('t'))),
      decl('keep', i32(1)),
      iff(v('isCand', 'bool'), [
        decl('tie2', binary('and', cmp('eq', v('kk2', 'u32'), v('thr', 'u32')), cmp('lt', v('e'), v('need')))),
        iff(cmp('eq', v('kk2', 'u32'), v('thr', 'u32')), assign('e', add(v('e'), 1))),
        assign('keep', cast(binary('or', cmp('gt', v('kk2', 'u32'), v('thr', 'u32')), v('tie2', 'bool')), 'i32')),
      ]),
      iff(cmp('ne', v('keep'), 0), [
        store(global('rowMap'), v('j'), v('t')),
        store(global('keptPos'), v('j'), load(global('pos'), v('t'), 'i32')),
        store(global('keptGate'), v('j'), select(v('isCand', 'bool'), load(global('weights'), v('t')), { op: 'const', type: 'f32', src: [], arg: 1 })),
        assign('j', add(v('j'), 1)),
        iff(v('isCand', 'bool'), [store(global('keptCand'), v('jc'), v('t')), assign('jc', add(v('jc'), 1))]),
      ]),
    ]),
  ];
  return {
    name: `route_select_${s}_${spec.kept}_t${T}`,
    buffers: [
      { name: 'scores', elem: 'f32', access: 'read' },
      { name: 'mask', elem: 'i32', access: 'read' },
      { name: 'pos', elem: 'i32', access: 'read' },
      { name: 'weights', elem: 'f32', access: 'read' },
      { name: 'rowMap', elem: 'i32', access: 'write' },
      { name: 'keptPos', elem: 'i32', access: 'write' },
      { name: 'keptGate', elem: 'f32', access: 'write' },
      { name: 'keptCand', elem: 'i32', access: 'write' },
      { name: 'status', elem: 'i32', access: 'readwrite' },
    ],
    params: [{ name: 'k', type: 'i32' }, { name: 'expected', type: 'i32' }, { name: 'code', type: 'i32' }],
    shared: [{ name: 'red', elem: 'i32', length: Math.max(1, T) }],
    privates: [],
    threads: T,
    body: block(...stmts),
  };
}

/** The ranking key of a score on the host (what the kernel computes; tests compare with it). */
export function rankingKey(score: number): number {
  const f = new Float32Array([score + 0]);
  const u = new Uint32Array(f.buffer)[0] ?? 0;
  if ((u & 0x7fffffff) > 0x7f800000) return 0;
  return (u & 0x80000000 ? ~u : u | 0x80000000) >>> 0;
}

/**
 * keptGate[r] = mask[rowMap[r]] != 0 ? weights[rowMap[r]] : 1 for r < kept: the per-row gates of a STRing combine
 * whose route was not lowered here. One workgroup, `threads` threads striding the rows.
 */
export function keptGateKernel(kept: number, threads: number): Kernel {
  const t = v('r');
  return {
    name: `kept_gates_${kept}_t${threads}`,
    buffers: [
      { name: 'rowMap', elem: 'i32', access: 'read' },
      { name: 'mask', elem: 'i32', access: 'read' },
      { name: 'weights', elem: 'f32', access: 'read' },
      { name: 'keptGate', elem: 'f32', access: 'write' },
    ],
    params: [],
    shared: [],
    privates: [],
    threads,
    body: range('r', lid(0), kept, [
      decl('row', load(global('rowMap'), t, 'i32')),
      store(global('keptGate'), t, select(cmp('ne', load(global('mask'), v('row'), 'i32'), 0), load(global('weights'), v('row')), { op: 'const', type: 'f32', src: [], arg: 1 })),
    ], threads),
  };
}
