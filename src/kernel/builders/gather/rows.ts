/**
 * Gather-form row kernels (./form.ts). A row reduction cannot be shared between the invocations of a row without
 * workgroup memory, so each family is two kernels: a statistics kernel with one invocation per (row, statistic)
 * that loops over the row, then an elementwise kernel that applies them. Sums are compensated f32 (TwoSum, exact
 * split products: ../gpu/accurate.ts), maxima propagate NaN. Meanings as ../reduce.ts and ../gpu/rows.ts.
 */
import { add, assign, binary, cast, cmp, decl, div, f32, global, i32, iff, load, lt, max, mul, param, range, rem, select, store, sub, unary, v } from '../../dsl.js';
import { type BufferDecl, type ElemType, type Kernel, type KNode } from '../../ir.js';
import type { ReduceKind } from '../reduce.js';
import { CompensatedSum, finiteOr, splitProduct, twoSum } from '../gpu/accurate.js';
import { Names } from '../gpu/workgroup.js';
import { gatherKernel, OWN } from './form.js';

const e = (): KNode => v(OWN);
const f = (n: string): KNode => v(n, 'f32');

/** The x row base of row r: r * d, or xRows[r] * d (gathered token rows). */
const rowBase = (r: KNode, d: number, gather: boolean): KNode => mul(gather ? load(global('xRows'), r, 'i32') : r, d);

/** inv[r] = 1 / sqrt(mean(x[r]^2) + eps), the sum of exact squares compensated. Buffers x, [xRows], out; param rows. */
export function gatherInvRmsKernel(d: number, eps: number, gather: boolean): Kernel {
  const names = new Names();
  const acc = new CompensatedSum(names, 'ss');
  const buffers: BufferDecl[] = [
    { name: 'x', elem: 'f32', access: 'read' },
    ...(gather ? [{ name: 'xRows', elem: 'i32' as const, access: 'read' as const }] : []),
    { name: 'out', elem: 'f32', access: 'write' },
  ];
  return gatherKernel(`inv_rms_${d}${gather ? '_x' : ''}_g`, buffers, [{ name: 'rows', type: 'i32' }], [
    iff(lt(e(), param('rows')), [
      decl('xb', rowBase(e(), d, gather)),
      ...acc.init(),
      range('i', 0, d, [decl('xi', load(global('x'), add(v('xb'), v('i')))), ...acc.addProduct(f('xi'), f('xi'))]),
      decl('ss', finiteOr(acc.value(), acc.hiVar)),
      store(global('out'), e(), div(f32(1), unary('sqrt', add(div(f('ss'), f32(d)), f32(eps))))),
    ]),
  ]);
}

/** out[r, c] = f32(x[r, c] * inv[r]) * w[c] (rows of x gathered through xRows when given). Buffers x, [xRows], inv, w, out. */
export function gatherRmsApplyKernel(d: number, wElem: ElemType, gather: boolean): Kernel {
  return gatherKernel(`rmsnorm_apply_${d}_${wElem}${gather ? '_x' : ''}_g`, [
    { name: 'x', elem: 'f32', access: 'read' },
    ...(gather ? [{ name: 'xRows', elem: 'i32' as const, access: 'read' as const }] : []),
    { name: 'inv', elem: 'f32', access: 'read' },
    { name: 'w', elem: wElem, access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], [{ name: 'rows', type: 'i32' }], [
    iff(lt(e(), mul(param('rows'), d)), [
      decl('r', div(e(), d)),
      decl('c', rem(e(), d)),
      store(global('out'), e(), mul(mul(load(global('x'), add(rowBase(v('r'), d, gather), v('c'))), load(global('inv'), v('r'))), load(global('w'), v('c')))),
    ]),
  ]);
}

/**
 * LayerNorm statistics, three per row at out[3r + s]: the mean as (hi, lo) (compensated sum; lo from an exact
 * split product of hi * d) and inv = 1 / sqrt(var + eps) of the centred values. Buffers x, out; param rows.
 */
export function gatherLayernormStatsKernel(d: number, eps: number): Kernel {
  const names = new Names();
  const acc = new CompensatedSum(names, 'm');
  const vs = new CompensatedSum(names, 'v');
  const x = (): KNode => load(global('x'), add(v('xb'), v('i')));
  const p = splitProduct(names, f('meanHi'), f32(d));
  return gatherKernel(`layernorm_stats_${d}_g`, [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }], [{ name: 'rows', type: 'i32' }], [
    iff(lt(e(), mul(param('rows'), 3)), [
      decl('row', div(e(), 3)),
      decl('which', rem(e(), 3)),
      decl('xb', mul(v('row'), d)),
      ...acc.init(),
      range('i', 0, d, acc.add(x())),
      decl('meanHi', div(acc.value(), f32(d))),
      ...p.stmts,
      decl('meanLo', finiteOr(div(add(sub(sub(acc.hiVar, p.lead), p.rest), acc.loVar), f32(d)), f32(0))),
      decl('res', f('meanHi')),
      iff(cmp('eq', v('which'), 1), assign('res', f('meanLo'))),
      iff(cmp('eq', v('which'), 2), [
        ...vs.init(),
        range('i', 0, d, [decl('cx', sub(sub(x(), f('meanHi')), f('meanLo'))), ...vs.addProduct(f('cx'), f('cx'))]),
        assign('res', div(f32(1), unary('sqrt', add(div(finiteOr(vs.value(), vs.hiVar), f32(d)), f32(eps))))),
      ]),
      store(global('out'), e(), f('res')),
    ]),
  ]);
}

/** out[r, c] = (x - meanHi - meanLo) * inv * w[c] + b[c] from the statistics. Buffers x, stats, w, b, out. */
export function gatherLayernormApplyKernel(d: number, wElem: ElemType, bElem: ElemType): Kernel {
  const st = (s: number): KNode => load(global('stats'), add(mul(v('r'), 3), s));
  return gatherKernel(`layernorm_apply_${d}_${wElem}_${bElem}_g`, [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'stats', elem: 'f32', access: 'read' },
    { name: 'w', elem: wElem, access: 'read' },
    { name: 'b', elem: bElem, access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], [{ name: 'rows', type: 'i32' }], [
    iff(lt(e(), mul(param('rows'), d)), [
      decl('r', div(e(), d)),
      decl('c', rem(e(), d)),
      store(global('out'), e(), add(mul(mul(sub(sub(load(global('x'), e()), st(0)), st(1)), st(2)), load(global('w'), v('c'))), load(global('b'), v('c')))),
    ]),
  ]);
}

/** Line l of a softmax over an axis of len elements stride apart: its first element. */
const lineBase = (l: KNode, len: number, stride: number): KNode => add(mul(div(l, stride), len * stride), rem(l, stride));

/** Softmax statistics, out[2l] = max (NaN-propagating), out[2l + 1] = sum of exp(x - max). Buffers x, out; param rows (lines). */
export function gatherSoftmaxStatsKernel(len: number, stride: number): Kernel {
  const names = new Names();
  const acc = new CompensatedSum(names, 's');
  const at = (): KNode => load(global('x'), add(v('base'), mul(v('i'), stride)));
  const isNan = (x: KNode): KNode => cmp('gt', binary('and', bitcastI(x), i32(0x7fffffff)), i32(0x7f800000));
  return gatherKernel(`softmax_stats_${len}_${stride}_g`, [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }], [{ name: 'rows', type: 'i32' }], [
    iff(lt(e(), mul(param('rows'), 2)), [
      decl('base', lineBase(div(e(), 2), len, stride)),
      decl('m', f32(Number.NEGATIVE_INFINITY)),
      range('i', 0, len, [decl('xv', at()), assign('m', select(binary('or', cmp('gt', f('xv'), f('m')), isNan(f('xv'))), f('xv'), f('m')))]),
      decl('res', f('m')),
      iff(cmp('eq', rem(e(), 2), 1), [...acc.init(), range('i', 0, len, acc.add(unary('exp', sub(at(), f('m'))))), assign('res', acc.value())]),
      store(global('out'), e(), f('res')),
    ]),
  ]);
}

const bitcastI = (x: KNode): KNode => ({ op: 'bitcast', type: 'i32', src: [x], arg: undefined });

/** out = exp(x - max) / sum per element, from the statistics. Buffers x, stats, out; param n (elements). */
export function gatherSoftmaxApplyKernel(len: number, stride: number): Kernel {
  return gatherKernel(`softmax_apply_${len}_${stride}_g`, [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'stats', elem: 'f32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], [{ name: 'n', type: 'i32' }], [
    iff(lt(e(), param('n')), [
      // The line of element e: (outer, inner) = (e / (len * stride), e % stride).
      decl('line', add(mul(div(e(), len * stride), stride), rem(e(), stride))),
      store(global('out'), e(), div(unary('exp', sub(load(global('x'), e()), load(global('stats'), mul(v('line'), 2)))), load(global('stats'), add(mul(v('line'), 2), 1)))),
    ]),
  ]);
}

/**
 * Reduces x over the axes where `reduced` is true, one invocation per output, the reduced elements visited in
 * row-major order. f32 sums compensated, max / min propagate NaN, i32 sums wrap. Buffers x, out; param rows.
 */
export function gatherReduceKernel(shape: readonly number[], reduced: readonly boolean[], fn: ReduceKind, elem: 'f32' | 'i32'): Kernel {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const keptDims = shape.map((_, i) => i).filter((i) => !reduced[i]);
  const redDims = shape.map((_, i) => i).filter((i) => reduced[i]);
  const count = redDims.reduce((a, dd) => a * (shape[dd] ?? 1), 1);
  const offsetOf = (idx: KNode, dims: readonly number[], p: string): KNode[] => {
    const out: KNode[] = [decl(`${p}rest`, idx), decl(`${p}off`, i32(0))];
    for (let k = dims.length - 1; k >= 0; k--) {
      const dd = dims[k] ?? 0;
      out.push(assign(`${p}off`, add(v(`${p}off`), mul(rem(v(`${p}rest`), shape[dd] ?? 1), strides[dd] ?? 1))), assign(`${p}rest`, div(v(`${p}rest`), shape[dd] ?? 1)));
    }
    return out;
  };
  const x = (): KNode => load(global('x'), add(v('koff'), v('joff')), elem);
  const names = new Names();
  const head = [...offsetOf(e(), keptDims, 'k')];
  const loop = (body: KNode[]): KNode => range('j', 0, count, [...offsetOf(v('j'), redDims, 'j'), ...body]);
  const name = `reduce_${fn}_${shape.join('x')}_${reduced.map(Number).join('')}_${elem}_g`;
  const buffers: BufferDecl[] = [{ name: 'x', elem, access: 'read' }, { name: 'out', elem, access: 'write' }];
  const guarded = (stmts: KNode[]): Kernel => gatherKernel(name, buffers, [{ name: 'rows', type: 'i32' }], [iff(lt(e(), param('rows')), [...head, ...stmts])]);
  if (fn === 'max' || fn === 'min') {
    const c = fn === 'max' ? 'gt' : 'lt';
    const init = elem === 'i32' ? (fn === 'max' ? -2147483648 : 2147483647) : fn === 'max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    const isNan = (y: KNode): KNode => cmp('gt', binary('and', bitcastI(y), i32(0x7fffffff)), i32(0x7f800000));
    const pick = (acc: KNode, val: KNode): KNode => (elem === 'i32' ? select(cmp(c, val, acc), val, acc) : select(binary('or', cmp(c, val, acc), isNan(val)), val, acc));
    return guarded([decl('acc', { op: 'const', type: elem, src: [], arg: init }), loop([decl('val', x()), assign('acc', pick(v('acc', elem), v('val', elem)))]), store(global('out'), e(), v('acc', elem))]);
  }
  if (elem === 'i32') return guarded([decl('acc', i32(0)), loop([assign('acc', add(v('acc'), x()))]), store(global('out'), e(), fn === 'mean' ? div(v('acc'), count) : v('acc'))]);
  const acc = new CompensatedSum(names, 'acc');
  const plain = names.fresh('plain');
  return guarded([
    ...acc.init(),
    decl(plain, f32(0)),
    loop([decl('val', x()), ...acc.add(f('val')), assign(plain, add(f(plain), f('val')))]),
    decl('sum', finiteOr(acc.value(), f(plain))),
    store(global('out'), e(), fn === 'mean' ? div(f('sum'), f32(count)) : f('sum')),
  ]);
}

/**
 * RoPE (rotate_half layout) on x [S, H, D], one invocation per output element: angle f32(p * invFreq[i]), f32
 * cos / sin, the rotation from exact split products and a TwoSum (non-finite inputs: the plain f32 formula).
 * Buffers x, pos, invFreq, out; param rows (tokens).
 */
export function gatherRopeKernel(h: number, d: number, rotaryDim: number): Kernel {
  if (rotaryDim % 2 !== 0 || rotaryDim > d) throw new Error(`kernel 'rope_${h}x${d}_${rotaryDim}_g': rotary dim ${rotaryDim} must be even and at most the head dim ${d}`);
  const names = new Names();
  const half = rotaryDim / 2;
  // x1 cs - x2 sn for the first half, x2 cs + x1 sn for the second: a*cs + sign * (b*sn).
  const p = splitProduct(names, f('xa'), f('cs'));
  const q = splitProduct(names, f('xb'), f('sn'));
  const lead = select(v('lo', 'bool'), unary('neg', q.lead), q.lead);
  const t = twoSum(names, p.lead, lead);
  const rest = select(v('lo', 'bool'), sub(p.rest, q.rest), add(p.rest, q.rest));
  const plain = select(v('lo', 'bool'), sub(mul(f('xa'), f('cs')), mul(f('xb'), f('sn'))), add(mul(f('xa'), f('cs')), mul(f('xb'), f('sn'))));
  return gatherKernel(`rope_${h}x${d}_${rotaryDim}_g`, [
    { name: 'x', elem: 'f32', access: 'read' },
    { name: 'pos', elem: 'i32', access: 'read' },
    { name: 'invFreq', elem: 'f32', access: 'read' },
    { name: 'out', elem: 'f32', access: 'write' },
  ], [{ name: 'rows', type: 'i32' }], [
    iff(lt(e(), mul(param('rows'), h * d)), [
      decl('c', rem(e(), d)),
      decl('res', load(global('x'), e())),
      iff(lt(v('c'), rotaryDim), [
        decl('lo', lt(v('c'), half)),
        decl('i', select(v('lo', 'bool'), v('c'), sub(v('c'), half))),
        decl('ang', mul(cast(load(global('pos'), div(e(), h * d), 'i32'), 'f32'), load(global('invFreq'), v('i')))),
        decl('cs', unary('cos', f('ang'))),
        decl('sn', unary('sin', f('ang'))),
        decl('xa', f('res')),
        decl('xb', load(global('x'), select(v('lo', 'bool'), add(e(), half), sub(e(), half)))),
        ...p.stmts,
        ...q.stmts,
        ...t.stmts,
        assign('res', finiteOr(add(t.sum, add(rest, t.err)), plain)),
      ]),
      store(global('out'), e(), f('res')),
    ]),
  ]);
}

/** Largest of two f32 values (used by attention statistics); NaN-propagating like the row kernels. */
export const maxF = (a: KNode, b: KNode): KNode => max(a, b);
