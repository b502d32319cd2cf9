/**
 * CPU attention over gathered positions for prefill, blocked like a matmul: a workgroup takes 4 * qVec queries
 * of one head and walks the keys in blocks of `keyBlock` with an online softmax. Queries sit in the SIMD lanes
 * (the block's scores are S^T, keys x queries), so both products are the packed-matmul micro-kernel: S^T = K Q^T
 * with K rows splatted against the transposed query block, O^T += V^T P^T with V rows splatted against the
 * probabilities; the running max, the rescaling and the masks are lane-wise, never a horizontal sum. A key block
 * none of whose keys is visible to any query of the workgroup is skipped (decided from its positions, whatever
 * their order); a block every key of which is visible to every query is not masked. Same buffers, params and
 * meaning as attentionKernel (attention.ts): key j is visible to query i iff kPos[j] <= qPos[i], GQA, keys
 * [0, kvLen), a query with no visible key gives 0; except that K and V are head-major, [kvHeads, sk, dim]
 * (headMajorKernel lays them out): a head's key and value rows are then contiguous.
 * The query and key counts are params (sq, sk: blockedAttentionParams), not constants: the layers of a p-MoD
 * model keep different token counts, and one kernel serves them all (tiny-pmod's prefill rendered six of them). Token-major rows of one head
 * are kvHeads * dim apart, a multiple of 4 KiB for the usual sizes, so a block's rows all map onto one L1 set;
 * copying each block's values into workgroup memory avoided that at 16% of the kernel's time, and reading
 * head-major rows in place made the bench model's prefill attention 14% faster than that (docs/wasm.md).
 */
import {
  add, assign, binary, bitcast, block, cmp, decl, f32, fma, gid, global, i32, iff, lane, load, max, min, mul, param, range, select, shared, splat, store, sub, v,
} from '../dsl.js';
import type { Kernel, KNode } from '../ir.js';
import { ATTENTION_INPUTS, type AttentionSpec } from './attention.js';

export interface BlockedAttentionTiling {
  /** f32x4 vectors of queries per workgroup (4 * qVec queries). */
  readonly qVec: number;
  /** Keys per block (a multiple of kRows). */
  readonly keyBlock: number;
  /** Keys per register block of S^T = K Q^T. */
  readonly kRows: number;
  /** Value columns per register block of O^T += V^T P^T (a multiple of 4). */
  readonly vCols: number;
  /**
   * Read K and V four values per vector load and splat lanes (true), or splat each value from memory with one
   * load (false: fewer live registers).
   */
  readonly vectorLoads: boolean;
  /**
   * Head-dim steps per iteration of the S^T loop (1, 2 or 4; 4 with vectorLoads). V8 hoists every load of an
   * unrolled body ahead of its FMAs, so a longer body holds more registers live and spills accumulators.
   */
  readonly cUnroll: number;
}

/**
 * Measured on the bench model's prefill shapes (16 heads of 64, causal, 2 threads; docs/wasm.md). With head-major
 * K and V: at 640 queries, key blocks of 16 ran at 70-71 GFLOP/s, 32 at 69-70, 64 at 66-68; at 2880 all three at
 * 74 (smaller blocks skip more of the causal triangle and cost more rescaling). Larger register blocks (qVec 3,
 * kRows 8, vCols 8), vector loads of K and V, and unrolling the head dim were all slower (42-57).
 */
export const BLOCKED_ATTENTION_TILING: BlockedAttentionTiling = { qVec: 2, keyBlock: 16, kRows: 4, vCols: 4, vectorLoads: false, cUnroll: 1 };

export const blockedAttentionGrid = (s: AttentionSpec, t: BlockedAttentionTiling = BLOCKED_ATTENTION_TILING): [number, number, number] => [
  Math.max(1, Math.ceil(s.sq / (4 * t.qVec))),
  s.heads,
  1,
];

/** Whether the blocked form applies (vector head dims, no fused RoPE). */
export const blockedAttentionApplies = (s: BlockedAttentionShape, t: BlockedAttentionTiling = BLOCKED_ATTENTION_TILING): boolean =>
  s.headDim % 4 === 0 && s.valueDim % t.vCols === 0 && t.vCols % 4 === 0 && t.keyBlock % t.kRows === 0 && s.rope === undefined &&
  [1, 2, 4].includes(t.cUnroll) && (!t.vectorLoads || t.cUnroll === 4);

/**
 * 2^x for x <= 0 (f32x4), as the softmax needs it (scores are kept in base 2: the query is scaled by log2 e):
 * n = round(x) by the 1.5 * 2^23 trick, 2^(x - n) by a degree-6 polynomial (relative error below 2e-7, within
 * the numerics policy's 1e-5 for exp), 2^n built in the exponent bits. x <= -127 (masked scores are -inf) gives
 * exactly 0. About 14 vector operations, half of the general exp's (range reduction by ln 2, both-sided clamps).
 */
export function exp2NonPositive(x: KNode): KNode {
  const magic = splat(f32(12582912));
  const t = max(x, splat(f32(-127)));
  const nf = add(t, magic);
  const f = binary('sub', t, binary('sub', nf, magic));
  const c = [1, 0.6931471805599453, 0.2402265069591007, 0.05550410866482158, 0.009618129107628477, 0.0013333558146428443, 0.00015403530393381606];
  let p: KNode = splat(f32(c[6] ?? 0));
  for (let k = 5; k >= 0; k--) p = fma(p, f, splat(f32(c[k] ?? 0)));
  const n = binary('sub', bitcast(nf, 'i32x4'), bitcast(magic, 'i32x4'));
  const scale = bitcast(binary('mul', binary('add', n, splat(i32(127), 'i32x4')), splat(i32(1 << 23), 'i32x4')), 'f32x4');
  return binary('mul', p, scale);
}

/** The most negative finite f32: the running max starts here, so exp(m_old - m_new) never sees inf - inf. */
const LOWEST = -3.4028234663852886e38;
const NEG_INF_BITS = 0xff800000 | 0;

/** The shape a blocked attention kernel is specialised to: everything but the query and key counts. */
export type BlockedAttentionShape = Omit<AttentionSpec, 'sq' | 'sk'>;

/** The params of a dispatch besides kvLen: the query count and the key rows of the head-major K and V. */
export const blockedAttentionParams = (s: AttentionSpec): { sq: number; sk: number } => ({ sq: s.sq, sk: s.sk });

export function blockedAttentionKernel(s: BlockedAttentionShape, t: BlockedAttentionTiling = BLOCKED_ATTENTION_TILING): Kernel {
  if (!blockedAttentionApplies(s, t))
    throw new Error(
      `blocked attention: needs a head dim that is a multiple of 4, a value dim of vCols ${t.vCols} (itself of 4), keyBlock ${t.keyBlock} a multiple of kRows ${t.kRows}, cUnroll 1, 2 or 4 (4 with vectorLoads), no fused RoPE`,
    );
  const { heads: h, kvHeads: hkv, headDim: d, valueDim: dv, causal } = s;
  const sq = param('sq');
  const sk = param('sk');
  const { qVec, keyBlock: kb, kRows, vCols } = t;
  const nq = 4 * qVec;
  const group = h / hkv;
  const QV = Array.from({ length: qVec }, (_, i) => i);
  const f4 = (name: string): KNode => v(name, 'f32x4');
  const i4 = (name: string): KNode => v(name, 'i32x4');
  const kvLen = param('kvLen');
  const head = gid(1);
  const stmts: KNode[] = [
    decl('kh', binary('div', head, group)),
    decl('i0', mul(gid(0), nq)),
    decl('kvLast', max(sub(kvLen, 1), 0)),
    decl('qmax', i32(-2147483648)),
    decl('qmin', i32(2147483647)),
  ];
  // The query block, scaled and transposed (qt[c * nq + lane]); queries past the end repeat the last one.
  stmts.push(
    range('qi', 0, nq, [
      decl('iq', min(add(v('i0'), v('qi')), sub(sq, 1))),
      decl('qo', mul(add(mul(v('iq'), h), head), d)),
      decl('qp', load(global('qPos'), v('iq'), 'i32')),
      store(shared('qp'), v('qi'), v('qp')),
      assign('qmax', max(v('qmax'), v('qp'))),
      assign('qmin', min(v('qmin'), v('qp'))),
      range('c', 0, d, store(shared('qt'), add(mul(v('c'), nq), v('qi')), mul(load(global('q'), add(v('qo'), v('c'))), f32(s.scale * Math.LOG2E)))),
    ]),
    ...QV.flatMap((qv) => [
      decl(`m${qv}`, splat(f32(LOWEST))),
      decl(`l${qv}`, splat(f32(0))),
      decl(`qpv${qv}`, load(shared('qp'), qv * 4, 'i32x4')),
    ]),
    range('c', 0, dv * nq, store(shared('ot'), v('c'), splat(f32(0))), 4),
  );

  // S^T of kRows keys x nq queries: K rows splatted against qt, one value per load. Full blocks read the kRows
  // rows at constant offsets from one running index (folded into the loads' offsets, as the matmul's micro-kernel
  // does); masked blocks, which may run past kvLen, clamp each row to the last key. Where the block needs no mask,
  // its running max is taken here as the scores are stored.
  /** Element index of row `row` of head kh in a head-major [hkv, sk, dim] buffer. */
  const headRow = (row: KNode, dim: number): KNode => mul(add(mul(v('kh'), sk), row), dim);
  const scores = (withMax: boolean, clamped: boolean): KNode => {
    const R = Array.from({ length: kRows }, (_, r) => r);
    const U = Array.from({ length: t.cUnroll }, (_, u) => u);
    const kIndex = (r: number, u: number): KNode => (clamped ? add(v(`pk${r}`), u) : add(v('pk'), r * d + u));
    return range('jj', 0, kb, [
      ...(clamped
        ? R.map((r) => decl(`pk${r}`, headRow(min(add(v('j0'), add(v('jj'), r)), v('kvLast')), d)))
        : [decl('pk', headRow(add(v('j0'), v('jj')), d))]),
      decl('pq', i32(0)),
      ...R.flatMap((r) => QV.map((qv) => decl(`s${r}_${qv}`, splat(f32(0))))),
      range('c', 0, d, [
        ...(t.vectorLoads ? R.map((r) => decl(`kv${r}`, load(global('k'), kIndex(r, 0), 'f32x4'))) : []),
        ...U.flatMap((u) => [
          ...QV.map((qv) => decl(`q${qv}_${u}`, load(shared('qt'), add(v('pq'), u * nq + qv * 4), 'f32x4'))),
          ...R.flatMap((r) => [
            decl(`k${r}_${u}`, t.vectorLoads ? splat(lane(f4(`kv${r}`), u)) : splat(load(global('k'), kIndex(r, u)))),
            ...QV.map((qv) => assign(`s${r}_${qv}`, fma(f4(`k${r}_${u}`), f4(`q${qv}_${u}`), f4(`s${r}_${qv}`)))),
          ]),
        ]),
        ...(clamped ? R.map((r) => assign(`pk${r}`, add(v(`pk${r}`), t.cUnroll))) : [assign('pk', add(v('pk'), t.cUnroll))]),
        assign('pq', add(v('pq'), t.cUnroll * nq)),
      ], t.cUnroll),
      decl('jq', mul(v('jj'), nq)),
      ...R.flatMap((r) => QV.map((qv) => store(shared('st'), add(v('jq'), r * nq + qv * 4), f4(`s${r}_${qv}`)))),
      ...(withMax ? R.flatMap((r) => QV.map((qv) => assign(`bm${qv}`, max(f4(`bm${qv}`), f4(`s${r}_${qv}`))))) : []),
    ], kRows);
  };

  // Lane-wise mask: a score whose key is past kvLen or not visible to the lane's query becomes -inf.
  const visibleBits = (qv: number): KNode => {
    // invisible = clamp(kPos - qPos, 0, 1) per lane (no overflow for positions in [0, 2^31)); mask = invisible - 1
    // is all ones where the key is visible, zero where it is not.
    const invisible = binary('min', binary('max', binary('sub', splat(v('kp'), 'i32x4'), i4(`qpv${qv}`)), splat(i32(0), 'i32x4')), splat(i32(1), 'i32x4'));
    return binary('sub', invisible, splat(i32(1), 'i32x4'));
  };
  const mask = range('jj', 0, kb, [
    decl('kp', load(global('kPos'), min(add(v('j0'), v('jj')), v('kvLast')), 'i32')),
    // Rows past kvLen repeat the last key: give them a position no query reaches.
    iff(cmp('ge', add(v('j0'), v('jj')), kvLen), assign('kp', i32(2147483647))),
    ...QV.flatMap((qv) => [
      decl(`vis${qv}`, causal ? visibleBits(qv) : binary('sub', splat(i32(0), 'i32x4'), binary('min', binary('max', binary('sub', splat(kvLen, 'i32x4'), splat(add(v('j0'), v('jj')), 'i32x4')), splat(i32(0), 'i32x4')), splat(i32(1), 'i32x4')))),
      decl(`sb${qv}`, bitcast(load(shared('st'), add(mul(v('jj'), nq), qv * 4), 'f32x4'), 'i32x4')),
      store(
        shared('st'),
        add(mul(v('jj'), nq), qv * 4),
        bitcast(binary('or', binary('and', i4(`sb${qv}`), i4(`vis${qv}`)), binary('and', splat(i32(NEG_INF_BITS), 'i32x4'), binary('xor', i4(`vis${qv}`), splat(i32(-1), 'i32x4')))), 'f32x4'),
      ),
    ]),
  ]);

  // Online softmax over the block: the block's max (already taken unless masked), rescale factor, probabilities
  // in place, row sums.
  const blockMax: KNode[] = QV.map((qv) => range('jj', 0, kb * nq, assign(`bm${qv}`, max(f4(`bm${qv}`), load(shared('st'), add(v('jj'), qv * 4), 'f32x4'))), nq));
  // The exponentials four rows at a time (independent chains; the row sums in four partial sums that meet once).
  const softmax: KNode[] = [
    ...QV.flatMap((qv) => [
      decl(`al${qv}`, exp2NonPositive(binary('sub', f4(`m${qv}`), f4(`bm${qv}`)))),
      assign(`m${qv}`, f4(`bm${qv}`)),
      ...[0, 1, 2, 3].map((u) => decl(`ls${qv}_${u}`, splat(f32(0)))),
    ]),
    range('jj', 0, kb * nq, [0, 1, 2, 3].flatMap((u) => QV.flatMap((qv) => [
      decl(`p${qv}_${u}`, exp2NonPositive(binary('sub', load(shared('st'), add(v('jj'), u * nq + qv * 4), 'f32x4'), f4(`m${qv}`)))),
      store(shared('st'), add(v('jj'), u * nq + qv * 4), f4(`p${qv}_${u}`)),
      assign(`ls${qv}_${u}`, add(f4(`ls${qv}_${u}`), f4(`p${qv}_${u}`))),
    ])), 4 * nq),
    ...QV.map((qv) => assign(`l${qv}`, fma(f4(`l${qv}`), f4(`al${qv}`), add(add(f4(`ls${qv}_0`), f4(`ls${qv}_1`)), add(f4(`ls${qv}_2`), f4(`ls${qv}_3`)))))),
  ];

  // O^T = O^T * alpha + V^T P^T in register blocks of vCols value columns; keys past kvLen are not read. The
  // value row (read in place: the block's rows of this head are contiguous) and the probability row advance by
  // running offsets.
  const CV = Array.from({ length: vCols }, (_, i) => i);
  const values = range('c0', 0, dv, [
    decl('oc', mul(v('c0'), nq)),
    ...CV.flatMap((ci) => QV.map((qv) => decl(`o${ci}_${qv}`, binary('mul', load(shared('ot'), add(v('oc'), ci * nq + qv * 4), 'f32x4'), f4(`al${qv}`))))),
    decl('vo', add(headRow(v('j0'), dv), v('c0'))),
    decl('pp', i32(0)),
    range('jj', 0, v('jn'), [
      ...QV.map((qv) => decl(`p${qv}`, load(shared('st'), add(v('pp'), qv * 4), 'f32x4'))),
      ...(t.vectorLoads ? Array.from({ length: vCols / 4 }, (_, g) => decl(`vv${g}`, load(global('v'), add(v('vo'), g * 4), 'f32x4'))) : []),
      ...CV.flatMap((ci) => [
        decl(`a${ci}`, t.vectorLoads ? splat(lane(f4(`vv${Math.floor(ci / 4)}`), ci % 4)) : splat(load(global('v'), add(v('vo'), ci)))),
        ...QV.map((qv) => assign(`o${ci}_${qv}`, fma(f4(`a${ci}`), f4(`p${qv}`), f4(`o${ci}_${qv}`)))),
      ]),
      assign('vo', add(v('vo'), dv)),
      assign('pp', add(v('pp'), nq)),
    ]),
    ...CV.flatMap((ci) => QV.map((qv) => store(shared('ot'), add(v('oc'), ci * nq + qv * 4), f4(`o${ci}_${qv}`)))),
  ], vCols);

  const blockBody: KNode[] = [
    decl('jn', min(kb, sub(kvLen, v('j0')))),
    decl('kmin', i32(2147483647)),
    decl('kmax', i32(-2147483648)),
    ...(causal
      ? [range('jj', 0, v('jn'), [decl('kq', load(global('kPos'), add(v('j0'), v('jj')), 'i32')), assign('kmin', min(v('kmin'), v('kq'))), assign('kmax', max(v('kmax'), v('kq')))])]
      : []),
    ...QV.map((qv) => decl(`bm${qv}`, f4(`m${qv}`))),
    // Skip a block no key of which any query sees; mask only blocks that are partly visible or cut by kvLen.
    decl('masked', causal ? binary('or', cmp('lt', v('jn'), kb), cmp('gt', v('kmax'), v('qmin'))) : cmp('lt', v('jn'), kb)),
    ...(() => {
      const visit = [iff(v('masked', 'bool'), [scores(false, true), mask, ...blockMax], scores(true, false)), ...softmax, values];
      return causal ? [iff(cmp('le', v('kmin'), v('qmax')), visit)] : visit;
    })(),
  ];
  stmts.push(range('j0', 0, kvLen, blockBody, kb));

  // O = O^T / l for the block's real queries (l = 0: no visible key, output 0).
  for (let qi = 0; qi < nq; qi++) {
    const qv = Math.floor(qi / 4);
    stmts.push(
      iff(cmp('lt', add(v('i0'), qi), sq), [
        decl(`lq${qi}`, lane(f4(`l${qv}`), qi % 4)),
        decl(`inv${qi}`, select(cmp('gt', v(`lq${qi}`, 'f32'), f32(0)), binary('div', f32(1), v(`lq${qi}`, 'f32')), f32(0))),
        decl(`oo${qi}`, mul(add(mul(add(v('i0'), qi), h), head), dv)),
        range('c', 0, dv, store(global('out'), add(v(`oo${qi}`), v('c')), binary('mul', load(shared('ot'), add(mul(v('c'), nq), qi)), v(`inv${qi}`, 'f32')))),
      ]),
    );
  }
  return {
    name: `attention_b_${h}x${hkv}x${d}x${dv}_${causal ? 'c' : 'f'}`,
    buffers: [
      ...ATTENTION_INPUTS,
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [
      { name: 'kvLen', type: 'i32' },
      { name: 'sq', type: 'i32' },
      { name: 'sk', type: 'i32' },
    ],
    shared: [
      { name: 'qt', elem: 'f32', length: d * nq },
      { name: 'qp', elem: 'i32', length: nq },
      { name: 'st', elem: 'f32', length: kb * nq },
      { name: 'ot', elem: 'f32', length: dv * nq },
    ],
    privates: [],
    threads: 1,
    body: block(...stmts),
  };
}
