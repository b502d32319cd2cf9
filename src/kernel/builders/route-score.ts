/**
 * The p-MoD router score kernels: z_t = w . x_t + b by the canonical float32 algorithm (src/ir/numerics.ts:
 * exact split products, 32 interleaved TwoSum lanes, a fixed merge tree), so every backend ranks the same
 * values; the TanhNorm weight w_t = alpha * tanh(z_t) + bias; and, when asked, the STRing rows of routable
 * tokens y_t = w_t * x_t (skipped tokens keep exactly that; kept ones are overwritten by the combine later).
 * Two schedules: CPU (one thread per token, lanes in f32x4 registers) and GPU (32 threads per token).
 */
import { ROUTER_LANES, SPLIT_MASK } from '../../ir/numerics.js';
import {
  add, assign, barrier, binary, bitcast, block, cast, cmp, decl, div, f32, gid, global, i32, iff, lid, load, lt, min, mul, param, priv, range, rem, shared,
  splat, store, sub, unary, v,
} from '../dsl.js';
import type { BufferDecl, ElemType, Kernel, KNode } from '../ir.js';

export interface RouteScoreSpec {
  readonly d: number;
  readonly alpha: number;
  readonly bias: number;
  /** Storage types of the router weight [d] and bias [1] (checkpoint weights). */
  readonly wElem: ElemType;
  readonly bElem: ElemType;
  /** Write y[t] = w_t * x[t] for tokens with mask[t] != 0 (buffers mask, y). */
  readonly writeRoutable: boolean;
  /** f64 available: the TanhNorm weight through f64 tanh (the reference's value exactly); else f32 tanh. */
  readonly f64: boolean;
}

/** The signed 32-bit constant whose bits are SPLIT_MASK. */
const MASK_I32 = SPLIT_MASK | 0;

/** hi(x): x with the low 12 mantissa bits cleared (by bits: exact); f32 or f32x4. */
function hi(x: KNode): KNode {
  if (x.type === 'f32x4') return bitcast(binary('and', bitcast(x, 'i32x4'), splat(i32(MASK_I32), 'i32x4')), 'f32x4');
  return bitcast(binary('and', bitcast(x, 'i32'), i32(MASK_I32)), 'f32');
}

/**
 * Statements adding the exact product a*b to lane (s, c): the arithmetic of numerics.ts::addProduct, node by
 * node. `p` prefixes the temporaries (so several lanes can be unrolled in one scope).
 */
export function addProductStmts(s: string, c: string, a: KNode, b: KNode, p: string): KNode[] {
  const t = a.type;
  const V = (n: string): KNode => v(`${p}${n}`, t);
  return [
    decl(`${p}a`, a),
    decl(`${p}b`, b),
    decl(`${p}ah`, hi(V('a'))),
    decl(`${p}al`, binary('sub', V('a'), V('ah'))),
    decl(`${p}bh`, hi(V('b'))),
    decl(`${p}bl`, binary('sub', V('b'), V('bh'))),
    decl(`${p}p`, binary('mul', V('ah'), V('bh'))),
    decl(`${p}e`, binary('add', binary('add', binary('mul', V('ah'), V('bl')), binary('mul', V('al'), V('bh'))), binary('mul', V('al'), V('bl')))),
    // TwoSum with its intermediates fenced (opaque), so no compiler folds the error term away.
    decl(`${p}t`, unary('opaque', binary('add', v(s, t), V('p')))),
    decl(`${p}z`, unary('opaque', binary('sub', V('t'), v(s, t)))),
    decl(`${p}r`, binary('add', binary('sub', v(s, t), binary('sub', V('t'), V('z'))), binary('sub', V('p'), V('z')))),
    assign(s, V('t')),
    assign(c, binary('add', v(c, t), binary('add', V('r'), V('e')))),
  ];
}

/** Statements merging lane (s2, c2) into lane (s1, c1) (numerics.ts::mergeLanes); all f32 expressions. */
function mergeStmts(s1: KNode, c1: KNode, s2: KNode, c2: KNode, p: string, set: (s: KNode, c: KNode) => KNode[]): KNode[] {
  const V = (n: string): KNode => v(`${p}${n}`, 'f32');
  return [
    decl(`${p}t`, unary('opaque', add(s1, s2))),
    decl(`${p}z`, unary('opaque', sub(V('t'), s1))),
    decl(`${p}r`, add(sub(s1, sub(V('t'), V('z'))), sub(s2, V('z')))),
    ...set(V('t'), add(add(c1, c2), V('r'))),
  ];
}

/** The final score from the merged lane and the bias: TwoSum(s, b), then s + (c + err). */
function finalScore(s: KNode, c: KNode, b: KNode, p: string): KNode[] {
  const V = (n: string): KNode => v(`${p}${n}`, 'f32');
  return [
    decl(`${p}fb`, b),
    decl(`${p}ft`, unary('opaque', add(s, V('fb')))),
    decl(`${p}fz`, unary('opaque', sub(V('ft'), s))),
    decl(`${p}fr`, add(sub(s, sub(V('ft'), V('fz'))), sub(V('fb'), V('fz')))),
    decl('score', add(V('ft'), add(c, V('fr')))),
  ];
}

function tanhNorm(spec: RouteScoreSpec, score: KNode): KNode {
  const f64 = (x: number): KNode => ({ op: 'const', type: 'f64', src: [], arg: x });
  if (spec.f64) return cast(add(mul(f64(spec.alpha), unary('tanh', cast(score, 'f64'))), f64(spec.bias)), 'f32');
  return add(mul(f32(spec.alpha), unary('tanh', score)), f32(spec.bias));
}

function buffers(spec: RouteScoreSpec): BufferDecl[] {
  return [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'rw', elem: spec.wElem, access: 'read' },
    { name: 'rb', elem: spec.bElem, access: 'read' },
    ...(spec.writeRoutable ? [{ name: 'mask', elem: 'i32' as const, access: 'read' as const }] : []),
    { name: 'scores', elem: 'f32', access: 'write' },
    { name: 'weights', elem: 'f32', access: 'write' },
    ...(spec.writeRoutable ? [{ name: 'y', elem: 'f32' as const, access: 'write' as const }] : []),
  ];
}

const specName = (prefix: string, spec: RouteScoreSpec): string =>
  `${prefix}_${spec.d}${spec.writeRoutable ? '_y' : ''}${spec.wElem !== 'f32' ? `_${spec.wElem}` : ''}${spec.f64 ? '' : '_f32'}`;

/**
 * CPU schedule: one thread per token, `tokensPerGroup` tokens per workgroup. The 32 lanes are processed 8 at a
 * time as two f32x4 (s, c) pairs over the full 32-blocks of d, spilled to private arrays; the tail of d (d % 32
 * elements: one more element for the first lanes) and the merge tree run on scalars.
 */
export function routeScoreCpuKernel(spec: RouteScoreSpec, tokensPerGroup: number): Kernel {
  const { d } = spec;
  const full = d - (d % ROUTER_LANES);
  const t0 = mul(gid(0), tokensPerGroup);
  const body: KNode[] = [decl('base', mul(v('t'), d))];
  for (let pass = 0; pass < ROUTER_LANES / 8; pass++) {
    const off = pass * 8;
    body.push(decl(`s${pass}a`, splat(f32(0))), decl(`s${pass}b`, splat(f32(0))), decl(`c${pass}a`, splat(f32(0))), decl(`c${pass}b`, splat(f32(0))));
    if (full > 0)
      body.push(
        range(`i${pass}`, 0, full, [
          ...addProductStmts(`s${pass}a`, `c${pass}a`, load(global('x'), add(add(v('base'), v(`i${pass}`)), off), 'f32x4'), load(global('rw'), add(v(`i${pass}`), off), 'f32x4'), `q${pass}a`),
          ...addProductStmts(`s${pass}b`, `c${pass}b`, load(global('x'), add(add(v('base'), v(`i${pass}`)), off + 4), 'f32x4'), load(global('rw'), add(v(`i${pass}`), off + 4), 'f32x4'), `q${pass}b`),
        ], ROUTER_LANES),
      );
    body.push(
      store(priv('ls'), i32(off), v(`s${pass}a`, 'f32x4')),
      store(priv('ls'), i32(off + 4), v(`s${pass}b`, 'f32x4')),
      store(priv('lc'), i32(off), v(`c${pass}a`, 'f32x4')),
      store(priv('lc'), i32(off + 4), v(`c${pass}b`, 'f32x4')),
    );
  }
  // Tail: element full + j goes to lane j, as in the canonical order (lane j takes i = j, j + 32, ...).
  for (let j = 0; j < d - full; j++) {
    body.push(decl(`ts${j}`, load(priv('ls'), i32(j))), decl(`tc${j}`, load(priv('lc'), i32(j))));
    body.push(...addProductStmts(`ts${j}`, `tc${j}`, load(global('x'), add(v('base'), full + j)), load(global('rw'), i32(full + j)), `tail${j}`));
    body.push(store(priv('ls'), i32(j), v(`ts${j}`, 'f32')), store(priv('lc'), i32(j), v(`tc${j}`, 'f32')));
  }
  for (let width = ROUTER_LANES / 2; width >= 1; width /= 2)
    for (let j = 0; j < width; j++)
      body.push(...mergeStmts(load(priv('ls'), i32(j)), load(priv('lc'), i32(j)), load(priv('ls'), i32(j + width)), load(priv('lc'), i32(j + width)), `m${width}_${j}`, (s, c) => [store(priv('ls'), i32(j), s), store(priv('lc'), i32(j), c)]));
  body.push(...finalScore(load(priv('ls'), i32(0)), load(priv('lc'), i32(0)), load(global('rb'), 0), 'b'));
  body.push(store(global('scores'), v('t'), v('score', 'f32')), decl('w', tanhNorm(spec, v('score', 'f32'))), store(global('weights'), v('t'), v('w', 'f32')));
  if (spec.writeRoutable)
    body.push(iff(cmp('ne', load(global('mask'), v('t'), 'i32'), 0), range('c', 0, d, store(global('y'), add(v('base'), v('c')), mul(v('w', 'f32'), load(global('x'), add(v('base'), v('c'))))))));
  return {
    name: specName('route_scores', spec),
    buffers: buffers(spec),
    params: [{ name: 'S', type: 'i32' }],
    shared: [],
    privates: [{ name: 'ls', elem: 'f32', length: ROUTER_LANES }, { name: 'lc', elem: 'f32', length: ROUTER_LANES }],
    threads: 1,
    body: range('t', t0, min(add(t0, tokensPerGroup), param('S')), body),
  };
}

export const routeScoreCpuGrid = (s: number, tokensPerGroup: number): [number, number, number] => [Math.max(1, Math.ceil(s / tokensPerGroup)), 1, 1];

/**
 * GPU schedule: `threads` = 32 * G threads per workgroup, G tokens, thread lane = lid % 32 owns canonical lane
 * `lane`; the lanes meet in workgroup memory by the fixed tree, lane 0 finishes the score.
 */
export function routeScoreGpuKernel(spec: RouteScoreSpec, threads: number): Kernel {
  if (threads % ROUTER_LANES !== 0 || threads < ROUTER_LANES) throw new Error(`route score: ${threads} threads is not a multiple of ${ROUTER_LANES}`);
  const { d } = spec;
  const g = threads / ROUTER_LANES;
  const lane = rem(lid(0), ROUTER_LANES);
  const slot = div(lid(0), ROUTER_LANES);
  const S = param('S');
  const stmts: KNode[] = [
    decl('tok', add(mul(gid(0), g), slot)),
    decl('live', cmp('lt', v('tok'), S)),
    decl('base', mul(min(v('tok'), sub(S, 1)), d)),
    decl('ls', f32(0)),
    decl('lc', f32(0)),
    range('i', lane, d, addProductStmts('ls', 'lc', load(global('x'), add(v('base'), v('i'))), load(global('rw'), v('i')), 'q'), ROUTER_LANES),
    store(shared('ss'), lid(0), v('ls', 'f32')),
    store(shared('sc'), lid(0), v('lc', 'f32')),
    barrier(),
  ];
  for (let width = ROUTER_LANES / 2; width >= 1; width /= 2) {
    const other = add(lid(0), width);
    stmts.push(
      iff(lt(lane, width), mergeStmts(load(shared('ss'), lid(0)), load(shared('sc'), lid(0)), load(shared('ss'), other), load(shared('sc'), other), `m${width}`, (s, c) => [store(shared('ss'), lid(0), s), store(shared('sc'), lid(0), c)])),
      barrier(),
    );
  }
  stmts.push(
    iff(cmp('eq', lane, 0), [
      ...finalScore(load(shared('ss'), lid(0)), load(shared('sc'), lid(0)), load(global('rb'), 0), 'b'),
      decl('w', tanhNorm(spec, v('score', 'f32'))),
      store(shared('sw'), slot, v('w', 'f32')),
      iff(v('live', 'bool'), [store(global('scores'), v('tok'), v('score', 'f32')), store(global('weights'), v('tok'), v('w', 'f32'))]),
    ]),
  );
  if (spec.writeRoutable)
    stmts.push(
      barrier(),
      iff(binary('and', v('live', 'bool'), cmp('ne', load(global('mask'), min(v('tok'), sub(S, 1)), 'i32'), 0)), [
        decl('wt', load(shared('sw'), slot)),
        range('c', lane, d, store(global('y'), add(v('base'), v('c')), mul(v('wt', 'f32'), load(global('x'), add(v('base'), v('c'))))), ROUTER_LANES),
      ]),
    );
  return {
    name: specName(`route_scores_gpu${threads}`, spec),
    buffers: buffers(spec),
    params: [{ name: 'S', type: 'i32' }],
    shared: [{ name: 'ss', elem: 'f32', length: threads }, { name: 'sc', elem: 'f32', length: threads }, { name: 'sw', elem: 'f32', length: g }],
    privates: [],
    threads,
    body: block(...stmts),
  };
}

export const routeScoreGpuGrid = (s: number, threads: number): [number, number, number] => [Math.max(1, Math.ceil(s / (threads / ROUTER_LANES))), 1, 1];
