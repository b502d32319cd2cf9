/**
 * Flash attention for GPUs (schedule `{ kind: 'flash', queryBlock, keyBlock, threads }`), with the meaning of
 * ../attention.ts::attentionKernel: causal over gathered original positions (key j is visible to query i iff
 * kPos[j] <= qPos[i]), GQA, a scale, q [Sq, H, D], k [Sk, Hkv, D], v [Sk, Hkv, Dv], out [Sq, H, Dv]; rows without
 * a visible key give 0. Keys are visited up to the runtime param `kvLen` (<= Sk, the static capacity), so one
 * decode plan serves every cache length.
 *
 * A workgroup takes one KV head and a block of `queryBlock` rows, a row being a (query, head of the KV head's
 * group) pair: the heads sharing a KV head share its key and value reads (decode with Sq = 1 puts the whole
 * group in one workgroup). Per block of `keyBlock` keys, in phases separated by barriers:
 *  1. the keys' positions go to workgroup memory; each thread decides whether any key of the block is visible to
 *     any row of the workgroup (positions need not ascend, so a block is skipped only when none is), and if so
 *     the keys are staged (rows padded by one word);
 *  2. scores of every (row, key) pair, one dot product per invocation, -inf where invisible;
 *  3. online softmax per row: `threads / queryBlock` threads per row (all of them for decode) split the block's
 *     keys and meet in fixed trees for the maximum and the sum of exponentials; the running maximum m, sum l and
 *     rescale factor exp(m_old - m_new) live in workgroup memory;
 *  4. each thread rescales its share of the output accumulator (private registers, fixed (row, column) items)
 *     and adds p * v over the block's keys, reading v straight from memory (consecutive columns per thread).
 * Everything is f32; the only order-dependent sums are fixed by the decomposition, so results are deterministic.
 */
import { add, assign, barrier, binary, block, cmp, decl, div, f32, fma, gid, global, i32, iff, lid, load, lt, max, min, mul, param, priv, range, rem, select, shared, store, sub, unary, v } from '../../dsl.js';
import type { Kernel, KNode } from '../../ir.js';
import type { AttentionSchedule } from '../../target.js';
import { ATTENTION_INPUTS, type AttentionSpec } from '../attention.js';
import { checkThreads, isPowerOfTwo, Names, sharedArray, treeReduce } from './workgroup.js';

export type FlashSchedule = Extract<AttentionSchedule, { kind: 'flash' }>;
/** The CPU spec without its CPU blocking (the schedule says how to block). */
export type FlashAttentionSpec = Omit<AttentionSpec, 'queryBlock'>;

const INT_MIN = -2147483648;
const NEG_INF = Number.NEGATIVE_INFINITY;

/** Rows (query, head) per KV head, and row blocks per KV head. */
const rowsPerKvHead = (s: FlashAttentionSpec): number => s.sq * (s.heads / s.kvHeads);
const rowBlocks = (s: FlashAttentionSpec, f: FlashSchedule): number => Math.max(1, Math.ceil(rowsPerKvHead(s) / f.queryBlock));

/** One workgroup per (block of rows, KV head), as a 1-D grid. */
export const flashAttentionGrid = (s: FlashAttentionSpec, f: FlashSchedule): [number, number, number] => [rowBlocks(s, f) * s.kvHeads, 1, 1];

/** Threads per row in the softmax phase (1 when rows outnumber threads). */
const threadsPerRow = (f: FlashSchedule): number => Math.max(1, f.threads / f.queryBlock);

/** The workgroup arrays (name, words) of a flash attention kernel. */
function sharedLayout(s: FlashAttentionSpec, f: FlashSchedule): [string, number, 'f32' | 'i32'][] {
  const { queryBlock: r, keyBlock: kb, threads: t } = f;
  const tpr = threadsPerRow(f);
  return [
    ['qs', r * s.headDim, 'f32'],
    ['qp', r, 'i32'],
    ['ks', kb * (s.headDim + 1), 'f32'],
    ['kp', kb, 'i32'],
    ['sc', r * kb, 'f32'],
    ['rowMax', r, 'f32'],
    ['rowSum', r, 'f32'],
    ['rowScale', r, 'f32'],
    ...(tpr > 1 ? ([['redMax', t, 'f32'], ['redSum', t, 'f32']] as [string, number, 'f32'][]) : []),
  ];
}

/** Bytes of workgroup memory the kernel declares (for choosing a schedule within a target's limit). */
export const flashAttentionSharedBytes = (s: FlashAttentionSpec, f: FlashSchedule): number => sharedLayout(s, f).reduce((a, [, n]) => a + 4 * Math.max(1, n), 0);

/** Buffers q, k, v, qPos, kPos, out; param kvLen (keys visited, at most sk). */
export function flashAttentionKernel(s: FlashAttentionSpec, f: FlashSchedule): Kernel {
  const { sk, heads: h, kvHeads: hkv, headDim: d, valueDim: dv } = s;
  const { queryBlock: r, keyBlock: kb, threads: t } = f;
  const name = `flash_attention_${s.sq}x${sk}_${h}x${hkv}x${d}x${dv}_${s.causal ? 'c' : 'f'}_q${r}k${kb}t${t}`;
  checkThreads(name, t);
  if ('rope' in s && s.rope !== undefined) throw new Error(`kernel '${name}': fused RoPE is not part of the flash schedule; rotate q and k first`);
  if (!isPowerOfTwo(r)) throw new Error(`kernel '${name}': queryBlock ${r} must be a power of two`);
  if (!Number.isInteger(kb) || kb < 1) throw new Error(`kernel '${name}': keyBlock ${kb} must be a positive integer`);
  if (h % hkv !== 0) throw new Error(`kernel '${name}': ${h} heads are not a multiple of ${hkv} KV heads`);
  const names = new Names();
  const group = h / hkv;
  const nRows = rowsPerKvHead(s);
  const nBlocks = rowBlocks(s, f);
  const tpr = threadsPerRow(f);
  const ksStride = d + 1;
  const nAcc = Math.ceil((r * dv) / t);
  // Keys visited: kvLen, clamped to the capacity so a too-large value cannot read past the buffers. An expression,
  // not a variable: the Wasm renderer evaluates the bounds of a loop with barriers outside its per-thread loops,
  // where per-thread (spilled) variables cannot be read.
  const kvLen = min(param('kvLen'), sk);
  const fv = (n: string): KNode => v(n, 'f32');
  const iv = (n: string): KNode => v(n);
  const bool = (n: string): KNode => v(n, 'bool');

  // Row rho of this KV head: query rho / group, head kh * group + rho % group.
  const rowOffset = (rho: KNode, width: number): KNode => mul(add(mul(div(rho, group), h), add(mul(iv('kh'), group), rem(rho, group))), width);
  const kvOffset = (j: KNode, width: number): KNode => mul(add(mul(j, hkv), iv('kh')), width);

  const prologue: KNode[] = [
    decl('kh', div(gid(0), nBlocks)),
    decl('row0', mul(rem(gid(0), nBlocks), r)),
    // Stage the rows' queries (0 past the last row) and positions (INT_MIN: no key is visible to a missing row).
    range('e', lid(0), r * d, [
      decl('sqi', div(iv('e'), d)),
      decl('srho', add(iv('row0'), iv('sqi'))),
      store(shared('qs'), iv('e'), f32(0)),
      iff(lt(iv('srho'), nRows), store(shared('qs'), iv('e'), load(global('q'), add(rowOffset(iv('srho'), d), rem(iv('e'), d))))),
    ], t),
    range('pq', lid(0), r, [
      decl('prho', add(iv('row0'), iv('pq'))),
      store(shared('qp'), iv('pq'), i32(INT_MIN)),
      iff(lt(iv('prho'), nRows), store(shared('qp'), iv('pq'), load(global('qPos'), div(iv('prho'), group), 'i32'))),
      store(shared('rowMax'), iv('pq'), f32(NEG_INF)),
      store(shared('rowSum'), iv('pq'), f32(0)),
      store(shared('rowScale'), iv('pq'), f32(1)),
    ], t),
    ...Array.from({ length: nAcc }, (_, u) => store(priv('acc'), u, f32(0))),
    barrier(),
    // The latest position among the workgroup's rows: a key block with no position at or before it is invisible.
    decl('qmax', i32(INT_MIN)),
    ...(s.causal ? [range('mq', 0, r, assign('qmax', max(iv('qmax'), load(shared('qp'), iv('mq'), 'i32'))))] : []),
  ];

  const visibleKey = (qi: KNode, kj: KNode): KNode => {
    const inBlock = lt(kj, iv('nk'));
    return s.causal ? binary('and', inBlock, cmp('le', load(shared('kp'), kj, 'i32'), load(shared('qp'), qi, 'i32'))) : inBlock;
  };

  const stageKeys: KNode[] = [
    decl('nk', min(i32(kb), sub(kvLen, iv('j0')))),
    // Positions of the block's keys (slots past kvLen are never read: every use checks kj < nk).
    ...(s.causal ? [range('pk', lid(0), iv('nk'), store(shared('kp'), iv('pk'), load(global('kPos'), add(iv('j0'), iv('pk')), 'i32')), t)] : []),
    barrier(),
    decl('vis', cmp('gt', iv('nk'), 0)),
    ...(s.causal
      ? [decl('anyKey', cmp('ne', 0, 0)), range('vk', 0, kb, assign('anyKey', binary('or', bool('anyKey'), binary('and', lt(iv('vk'), iv('nk')), cmp('le', load(shared('kp'), iv('vk'), 'i32'), iv('qmax')))))), assign('vis', binary('and', bool('vis'), bool('anyKey')))]
      : []),
    iff(bool('vis'), range('ke', lid(0), mul(iv('nk'), d), [
      decl('kkj', div(iv('ke'), d)),
      decl('kc', rem(iv('ke'), d)),
      store(shared('ks'), add(mul(iv('kkj'), ksStride), iv('kc')), load(global('k'), add(kvOffset(add(iv('j0'), iv('kkj')), d), iv('kc')))),
    ], t)),
    barrier(),
  ];

  const scores: KNode[] = [
    iff(bool('vis'), range('se', lid(0), r * kb, [
      decl('sqi2', div(iv('se'), kb)),
      decl('skj', rem(iv('se'), kb)),
      decl('score', f32(NEG_INF)),
      iff(visibleKey(iv('sqi2'), iv('skj')), [
        decl('dot', f32(0)),
        range('c', 0, d, assign('dot', fma(load(shared('qs'), add(mul(iv('sqi2'), d), iv('c'))), load(shared('ks'), add(mul(iv('skj'), ksStride), iv('c'))), fv('dot')))),
        assign('score', mul(fv('dot'), f32(s.scale))),
      ]),
      store(shared('sc'), iv('se'), fv('score')),
    ], t)),
    barrier(),
  ];

  /** Updates row qi's running statistics from the block maximum `bm` and the block's sum of exponentials. */
  const updateRow = (qi: KNode, bm: KNode, blockSum: KNode): KNode[] => [
    decl('mOld', load(shared('rowMax'), qi)),
    decl('mNew', max(fv('mOld'), bm)),
    decl('mSafe', select(cmp('gt', fv('mNew'), f32(NEG_INF)), fv('mNew'), f32(0))),
    decl('alpha', unary('exp', sub(fv('mOld'), fv('mSafe')))),
    store(shared('rowScale'), qi, fv('alpha')),
    store(shared('rowSum'), qi, add(mul(load(shared('rowSum'), qi), fv('alpha')), blockSum)),
    store(shared('rowMax'), qi, fv('mNew')),
  ];
  // exp(score - m) with m = -inf replaced by 0, so a row without a visible key so far keeps p = 0 (not NaN).
  const safeMax = (m: KNode): KNode => select(cmp('gt', m, f32(NEG_INF)), m, f32(0));

  let softmax: KNode[];
  if (tpr === 1) {
    // Each thread owns whole rows: the block's maximum, the exponentials and their sum, sequentially over keys.
    softmax = [
      iff(bool('vis'), range('oq', lid(0), r, [
        decl('bm', f32(NEG_INF)),
        range('bk', 0, kb, assign('bm', max(fv('bm'), load(shared('sc'), add(mul(iv('oq'), kb), iv('bk')))))),
        decl('ms', safeMax(max(load(shared('rowMax'), iv('oq')), fv('bm')))),
        decl('bs', f32(0)),
        range('bk', 0, kb, [
          decl('pi', add(mul(iv('oq'), kb), iv('bk'))),
          decl('p', unary('exp', sub(load(shared('sc'), iv('pi')), fv('ms')))),
          store(shared('sc'), iv('pi'), fv('p')),
          assign('bs', add(fv('bs'), fv('p'))),
        ]),
        ...updateRow(iv('oq'), fv('bm'), fv('bs')),
      ], t)),
      barrier(),
    ];
  } else {
    // `tpr` threads per row split its keys (key kj = sub + u * tpr) and meet in trees of width tpr.
    const rowOf = div(lid(0), tpr);
    const sub0 = rem(lid(0), tpr);
    const base = mul(div(lid(0), tpr), tpr);
    softmax = [
      decl('oq', rowOf),
      decl('lm', f32(NEG_INF)),
      iff(bool('vis'), range('bk', sub0, kb, assign('lm', max(fv('lm'), load(shared('sc'), add(mul(iv('oq'), kb), iv('bk'))))), tpr)),
      ...treeReduce(names, [{ name: 'redMax', type: 'f32' }], [fv('lm')], tpr, (a, b) => ({ stmts: [], out: [max(a[0] as KNode, b[0] as KNode)] })),
      decl('bm', load(shared('redMax'), base)),
      decl('ms', safeMax(max(load(shared('rowMax'), iv('oq')), fv('bm')))),
      decl('ls', f32(0)),
      iff(bool('vis'), range('bk', sub0, kb, [
        decl('pi', add(mul(iv('oq'), kb), iv('bk'))),
        decl('p', unary('exp', sub(load(shared('sc'), iv('pi')), fv('ms')))),
        store(shared('sc'), iv('pi'), fv('p')),
        assign('ls', add(fv('ls'), fv('p'))),
      ], tpr)),
      ...treeReduce(names, [{ name: 'redSum', type: 'f32' }], [fv('ls')], tpr, (a, b) => ({ stmts: [], out: [add(a[0] as KNode, b[0] as KNode)] })),
      iff(binary('and', bool('vis'), cmp('eq', sub0, 0)), updateRow(iv('oq'), fv('bm'), load(shared('redSum'), base))),
      barrier(),
    ];
  }

  // Output items of thread lid: e = lid + u * threads over the r x dv block, row e / dv, column e % dv.
  const item = (u: number): KNode => add(lid(0), u * t);
  const accumulate: KNode[] = [
    iff(bool('vis'), Array.from({ length: nAcc }, (_, u) =>
      iff(lt(item(u), r * dv), [
        decl(`aq${u}`, div(item(u), dv)),
        decl(`ac${u}`, rem(item(u), dv)),
        decl(`a${u}`, mul(load(priv('acc'), u), load(shared('rowScale'), iv(`aq${u}`)))),
        range(`pk${u}`, 0, iv('nk'), assign(`a${u}`, fma(load(shared('sc'), add(mul(iv(`aq${u}`), kb), iv(`pk${u}`))), load(global('v'), add(kvOffset(add(iv('j0'), iv(`pk${u}`)), dv), iv(`ac${u}`))), fv(`a${u}`)))),
        store(priv('acc'), u, fv(`a${u}`)),
      ]),
    )),
    barrier(),
  ];

  const epilogue: KNode[] = Array.from({ length: nAcc }, (_, u) =>
    iff(lt(item(u), r * dv), [
      decl(`oq${u}`, div(item(u), dv)),
      decl(`orho${u}`, add(iv('row0'), iv(`oq${u}`))),
      iff(lt(iv(`orho${u}`), nRows), [
        decl(`ol${u}`, load(shared('rowSum'), iv(`oq${u}`))),
        store(global('out'), add(rowOffset(iv(`orho${u}`), dv), rem(item(u), dv)), select(cmp('gt', fv(`ol${u}`), f32(0)), div(load(priv('acc'), u), fv(`ol${u}`)), f32(0))),
      ]),
    ]),
  );

  return {
    name,
    buffers: [
      ...ATTENTION_INPUTS,
      { name: 'out', elem: 'f32', access: 'write' },
    ],
    params: [{ name: 'kvLen', type: 'i32' }],
    shared: sharedLayout(s, f).map(([n, len, elem]) => sharedArray(n, len, elem)),
    privates: [{ name: 'acc', elem: 'f32', length: Math.max(1, nAcc) }],
    threads: t,
    body: block(...prologue, range('j0', 0, kvLen, [...stageKeys, ...scores, ...softmax, ...accumulate], kb), ...epilogue),
  };
}
