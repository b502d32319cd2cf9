/**
 * Lowering of linear layers onto the matmul builder: Linear weights are packed once (with an RMSNorm weight folded
 * into the packed rows when the norm is the prologue), the epilogue expression becomes the builder's epilogue
 * chain where it has that shape (bias, residual, a product with another tensor; operands that are expressions
 * are computed first), else one elementwise kernel after the matmul. A STRing combine scatters the result back
 * into the residual stream.
 */
import { arg as argE, type EwExpr, fusedLinearLayout, type OpAttrs } from '../../ir/index.js';
import { broadcastStrides, elementwiseGrid, elementwiseKernel, type ElementwiseInput } from '../../kernel/builders/elementwise.js';
import { matmulGrid, matmulKernel, type MatmulEpilogue } from '../../kernel/builders/matmul.js';
import { batchedMatmulKernel, invRmsKernel, rmsnormKernel, rowGrid } from '../../kernel/builders/reduce.js';
import type { KBinaryFn, KNode } from '../../kernel/ir.js';
import { elemOf, LoweringError, type LValue, numel } from './context.js';
import { binary } from '../../kernel/dsl.js';
import { combine, exprScalarBody, exprVectorBody } from './fused.js';
import { arg, newValue, type RuleContext } from './rule-context.js';

/** Runs `expr` over `ins` (broadcast) into a new f32 buffer of `shape`. */
function evaluate(rc: RuleContext, expr: EwExpr, ins: readonly LValue[], shape: readonly number[], label: string, into?: LValue): LValue {
  const n = numel(shape);
  const out: LValue = into ?? { shape, dtype: 'f32', ref: rc.ctx.temp(Math.max(1, n), 'f32', `${rc.where} ${label}`) };
  const inputs: ElementwiseInput[] = ins.map((x, j) => ({ buffer: `in${j}`, elem: elemOf(x.dtype), strides: broadcastStrides(x.shape, shape) }));
  const vec = exprVectorBody(expr);
  const k = elementwiseKernel({ name: 'ew_epilogue', shape, inputs, out: 'f32', body: exprScalarBody(expr), ...(vec ? { vectorBody: vec } : {}) });
  const buffers: Record<string, number> = { out: rc.ctx.buf(out) };
  ins.forEach((x, j) => (buffers[`in${j}`] = rc.ctx.buf(x)));
  if (n > 0) rc.ctx.dispatch(k, buffers, { n }, elementwiseGrid(n), `${rc.where} ${label}`);
  return out;
}

const usesAcc = (e: EwExpr): number => (e.k === 'arg' ? (e.i === 0 ? 1 : 0) : e.k === 'const' ? 0 : e.k === 'un' ? usesAcc(e.a) : usesAcc(e.a) + usesAcc(e.b));

const CHAIN_BINARY: Partial<Record<string, KBinaryFn>> = { add: 'add', sub: 'sub', mul: 'mul', div: 'div', max: 'max', min: 'min' };

/**
 * The epilogue as the matmul builder's chain: a path from the accumulator to the root through binary ops whose
 * other side does not use the accumulator. Other sides that are not plain [M, N] operands are computed first
 * (an [N] operand added is a bias). Undefined when the expression has another shape.
 */
function epilogueChain(rc: RuleContext, expr: EwExpr, operands: readonly LValue[], m: number, n: number): { chain: MatmulEpilogue[]; buffers: Record<string, number> } | undefined {
  if (usesAcc(expr) !== 1) return undefined;
  const chain: MatmulEpilogue[] = [];
  const buffers: Record<string, number> = {};
  const walk = (e: EwExpr): boolean => {
    if (e.k === 'arg') return e.i === 0;
    if (e.k !== 'bin') return false;
    const accLeft = usesAcc(e.a) === 1;
    const [path, other] = accLeft ? [e.a, e.b] : [e.b, e.a];
    const fn = CHAIN_BINARY[e.fn];
    if (fn === undefined || !walk(path)) return false;
    const name = `e${chain.length}`;
    const operand = other.k === 'arg' ? operands[other.i - 1] : undefined;
    if (operand !== undefined && fn === 'add' && operand.shape.length === 1 && operand.shape[0] === n) {
      chain.push({ kind: 'bias', buffer: name });
      buffers[name] = rc.ctx.buf(operand);
      return true;
    }
    const value = operand !== undefined && numel(operand.shape) === m * n ? operand : evaluate(rc, shiftArgs(other), operands, [m, n], `epilogue operand ${chain.length}`);
    chain.push({ kind: 'binary', fn, buffer: name, mapped: false, operandFirst: !accLeft });
    buffers[name] = rc.ctx.buf(value);
    return true;
  };
  return walk(expr) ? { chain, buffers } : undefined;
}

/** An accumulator-free subexpression over $1..$n, renumbered to the operand list ($i -> $(i-1)). */
function shiftArgs(e: EwExpr): EwExpr {
  switch (e.k) {
    case 'arg':
      return argE(e.i - 1);
    case 'const':
      return e;
    case 'un':
      return { ...e, a: shiftArgs(e.a) };
    case 'bin':
      return { ...e, a: shiftArgs(e.a), b: shiftArgs(e.b) };
  }
}

/** out = (optional RMSNorm of x) @ W^T, then the epilogue chain, with W packed (and scaled by the norm weight). */
function packedMatmul(rc: RuleContext, x: LValue, w: LValue & { ref: { weight: string } }, norm: { weight: string; eps: number } | undefined, chain: MatmulEpilogue[], buffers: Record<string, number>, out: LValue): void {
  const [n, k] = [w.shape[0] ?? 0, w.shape[1] ?? 0];
  const m = numel(x.shape) / Math.max(1, k);
  const t = rc.tiling;
  const nr = 4 * t.nrVec;
  const packed = rc.ctx.weight(w.ref.weight, Math.ceil(n / nr) * k * nr, { kind: 'packed', k, n, nr, ...(norm ? { scaleK: norm.weight } : {}) });
  // The norm weight is folded into the packed rows; the per-row inverse RMS is computed once per row by its own
  // kernel and applied as the first epilogue step (computing it inside the matmul repeats it per column block).
  let epilogue = chain;
  const bufs = { ...buffers };
  if (norm && m > 0) {
    const inv = rc.ctx.temp(m, 'f32', `${rc.where} inverse RMS`);
    rc.ctx.dispatch(invRmsKernel(k, norm.eps), { x: rc.ctx.buf(x), out: inv }, { rows: m }, rowGrid(m), `${rc.where} inverse RMS`);
    epilogue = [{ kind: 'rowScale', buffer: 'rms', mapped: false }, ...chain];
    bufs.rms = inv;
  }
  const spec = { name: `linear_${k}x${n}`, k, n, tiling: t, epilogue };
  if (m > 0 && n > 0) rc.ctx.dispatch(matmulKernel(spec), { a: rc.ctx.buf(x), b: packed, c: rc.ctx.buf(out), ...bufs }, { M: m }, matmulGrid(spec, m), rc.where);
}

/** A plain linear layer: graph weights go through the packed matmul; computed weights through dot products. */
export function linear(ins: readonly LValue[], rc: RuleContext): LValue[] {
  const [x, w, b] = [arg(ins, 0, rc), arg(ins, 1, rc), ins[2]];
  const out = newValue(rc, x.dtype);
  linearInto(rc, x, w, undefined, b ? [{ kind: 'bias', buffer: 'bias' }] : [], b ? { bias: rc.ctx.buf(b) } : {}, out);
  return [out];
}

function linearInto(rc: RuleContext, x: LValue, w: LValue, norm: { weight: LValue; eps: number } | undefined, chain: MatmulEpilogue[], buffers: Record<string, number>, out: LValue): void {
  const [n, k] = [w.shape[0] ?? 0, w.shape[1] ?? 0];
  const m = numel(x.shape) / Math.max(1, k);
  const normW = norm?.weight.ref;
  if (typeof w.ref !== 'number' && (norm === undefined || (normW !== undefined && typeof normW !== 'number'))) {
    packedMatmul(rc, x, { ...w, ref: w.ref }, norm && normW !== undefined && typeof normW !== 'number' ? { weight: normW.weight, eps: norm.eps } : undefined, chain, buffers, out);
    return;
  }
  // Computed weights (or a computed norm weight): the norm as its own kernel, then dot products, then the chain.
  let a = x;
  if (norm) {
    a = { shape: x.shape, dtype: x.dtype, ref: rc.ctx.temp(numel(x.shape), 'f32', `${rc.where} rmsnorm`) };
    if (m > 0) rc.ctx.dispatch(rmsnormKernel(k, norm.eps), { x: rc.ctx.buf(x), w: rc.ctx.buf(norm.weight), out: rc.ctx.buf(a) }, { rows: m }, rowGrid(m), `${rc.where} rmsnorm`);
  }
  const zero = rc.ctx.constant([0], 'i32', 'batch offset 0');
  const kern = batchedMatmulKernel(m, k, n, [k, 1], [1, k]);
  const acc = chain.length ? rc.ctx.temp(m * n, 'f32', `${rc.where} (before epilogue)`) : rc.ctx.buf(out);
  if (m > 0 && n > 0) rc.ctx.dispatch(kern, { a: rc.ctx.buf(a), b: rc.ctx.buf(w), aBatch: zero, bBatch: zero, out: acc }, {}, [m, 1, 1], rc.where);
  if (chain.length === 0) return;
  // Apply the chain as elementwise steps over the accumulator.
  let cur = acc;
  chain.forEach((e, i) => {
    const last = i === chain.length - 1;
    const next = last ? rc.ctx.buf(out) : rc.ctx.temp(m * n, 'f32', `${rc.where} epilogue ${i}`);
    if (e.kind !== 'bias' && e.kind !== 'binary') throw new LoweringError(`${rc.where}: epilogue step ${e.kind} has no elementwise form here`);
    const opBuf = buffers[e.buffer];
    if (opBuf === undefined) throw new LoweringError(`${rc.where}: epilogue buffer ${e.buffer} is not bound`);
    const strides = e.kind === 'bias' ? [0, 1] : [n, 1];
    const fn: KBinaryFn = e.kind === 'bias' ? 'add' : e.fn;
    const k2 = elementwiseKernel({
      name: `ew_chain_${fn}`,
      shape: [m, n],
      inputs: [{ buffer: 'in0', elem: 'f32', strides: [n, 1] }, { buffer: 'in1', elem: 'f32', strides }],
      out: 'f32',
      body: ([p, q]) => (e.kind === 'binary' && e.operandFirst ? binary(fn, q as KNode, p as KNode) : binary(fn, p as KNode, q as KNode)),
    });
    if (m * n > 0) rc.ctx.dispatch(k2, { in0: cur, in1: opBuf, out: next }, { n: m * n }, elementwiseGrid(m * n), `${rc.where} epilogue`);
    cur = next;
  });
}

export function lowerFusedLinear(ins: readonly LValue[], a: OpAttrs['fusedLinear'], rc: RuleContext): LValue[] {
  const layout = fusedLinearLayout(a);
  const [x, w] = [arg(ins, 0, rc), arg(ins, 1, rc)];
  const norm = layout.norm >= 0 ? { weight: arg(ins, layout.norm, rc), eps: a.eps } : undefined;
  const operands = ins.slice(layout.epilogue, layout.epilogue + a.epilogueArgs);
  const [n, k] = [w.shape[0] ?? 0, w.shape[1] ?? 0];
  const m = numel(x.shape) / Math.max(1, k);
  const accShape = [...x.shape.slice(0, -1), n];
  // The linear's own result: the output itself, or a temporary when a STRing combine follows.
  const u: LValue = a.combine === 'none' ? newValue(rc, x.dtype) : { shape: accShape, dtype: 'f32', ref: rc.ctx.temp(Math.max(1, m * n), 'f32', `${rc.where} u`) };
  const chain = epilogueChain(rc, a.epilogue, operands, m, n);
  if (chain) linearInto(rc, x, w, norm, chain.chain, chain.buffers, u);
  else {
    // A general epilogue: the accumulator to a temporary, then one elementwise kernel over it and the operands.
    const acc: LValue = { shape: accShape, dtype: 'f32', ref: rc.ctx.temp(Math.max(1, m * n), 'f32', `${rc.where} accumulator`) };
    linearInto(rc, x, w, norm, [], {}, acc);
    evaluate(rc, a.epilogue, [acc, ...operands], accShape, 'epilogue', u);
  }
  if (a.combine === 'none') return [u];
  const [xFull, h1, rowMap, gate, routable] = [0, 1, 2, 3, 4].map((i) => arg(ins, layout.combine + i, rc)) as [LValue, LValue, LValue, LValue, LValue];
  return [combine(rc, xFull, h1, u, rowMap, gate, routable)];
}
