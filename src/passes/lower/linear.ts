/**
 * Lowering of linear layers onto the matmul family of the Target: graph weights stay in their checkpoint dtype
 * (packed in panels for the CPU matmul, row-major for GPUs), split along N into several buffers when one would
 * exceed a binding; an RMSNorm prologue is one normalisation kernel per normalised tensor (shared by the q, k, v
 * or gate, up projections that read it); the epilogue expression becomes the builder's epilogue chain where it
 * has that shape (bias, residual, a product with another tensor), else one elementwise kernel after the matmul.
 * With `combine = string` the result is scattered into the residual stream by the route's row map inside the
 * matmul's epilogue: u is never written.
 */
import { arg as argE, type EwExpr, fusedLinearLayout, type OpAttrs } from '../../ir/index.js';
import { broadcastStrides, type ElementwiseInput } from '../../kernel/builders/elementwise.js';
import { gemvGrid, gemvKernel } from '../../kernel/builders/gemv.js';
import { gpuGemvGrid, gpuGemvKernel } from '../../kernel/builders/gpu/gemv.js';
import { gpuMatmulGrid, gpuMatmulKernel } from '../../kernel/builders/gpu/matmul.js';
import { gatherMatmulGrid, gatherMatmulKernel } from '../../kernel/builders/gather/matmul.js';
import { matmulGrid, matmulKernel, type MatmulEpilogue, type MatmulTiling, packsInPairs } from '../../kernel/builders/matmul.js';
import { binary } from '../../kernel/dsl.js';
import type { KBinaryFn, KNode } from '../../kernel/ir.js';
import { elemBytes } from '../../kernel/ir.js';
import { LoweringError, type LValue, numel } from './context.js';
import { bmmOp, elementwiseOp, memoKernel, rmsnormOp } from './families.js';
import { exprScalarBody, exprVectorBody } from './fused.js';
import { combine } from './route.js';
import { arg, materialize, newValue, type RuleContext } from './rule-context.js';

/** Runs `expr` over `ins` (broadcast) into a new f32 buffer of `shape` (or into `into`). */
function evaluate(rc: RuleContext, expr: EwExpr, ins: readonly LValue[], shape: readonly number[], label: string, into?: LValue): LValue {
  const n = numel(shape);
  const out: LValue = into ?? { shape, dtype: 'f32', ref: rc.ctx.temp(Math.max(1, n), 'f32', `${rc.where} ${label}`) };
  const vals = ins.map((x) => materialize(rc, x));
  const inputs: ElementwiseInput[] = vals.map((x, j) => ({ buffer: `in${j}`, elem: rc.ctx.elem(rc.ctx.buf(x)), strides: broadcastStrides(x.shape, shape) }));
  const vec = exprVectorBody(expr);
  const buffers: Record<string, number> = { out: rc.ctx.buf(out) };
  vals.forEach((x, j) => (buffers[`in${j}`] = rc.ctx.buf(x)));
  elementwiseOp(rc, { name: 'ew_epilogue', shape, inputs, out: 'f32', body: exprScalarBody(expr, rc.target.caps.f64Math), ...(vec ? { vectorBody: vec } : {}) }, buffers, `${rc.where} ${label}`);
  return out;
}

const usesAcc = (e: EwExpr): number => (e.k === 'arg' ? (e.i === 0 ? 1 : 0) : e.k === 'const' ? 0 : e.k === 'un' ? usesAcc(e.a) : usesAcc(e.a) + usesAcc(e.b));

const CHAIN_BINARY: Partial<Record<string, KBinaryFn>> = { add: 'add', sub: 'sub', mul: 'mul', div: 'div', max: 'max', min: 'min' };

/**
 * An epilogue step's operand: a buffer (a gathered view is read through the matmul's row map), or a graph weight
 * (a bias), given its buffer at dispatch so a weight split along N binds the matching window.
 */
type ChainOperand = { readonly buffer: number; readonly gather?: number } | { readonly weight: string };

function operandBuffer(rc: RuleContext, o: ChainOperand, window?: { start: number; count: number }): number {
  if ('buffer' in o) {
    if (window === undefined) return o.buffer;
    throw new LoweringError(`${rc.where}: a computed epilogue operand on a weight split across bindings`);
  }
  return rc.ctx.weight(o.weight, window ? { kind: 'plain', rows: window } : { kind: 'plain' });
}

interface Chain {
  readonly steps: MatmulEpilogue[];
  readonly operands: Record<string, ChainOperand>;
}

/**
 * The epilogue as the matmul builder's chain: a path from the accumulator to the root through binary ops whose
 * other side does not use the accumulator. Other sides that are not plain [M, N] operands are computed first
 * (an [N] operand added is a bias), unless `computeFirst` is false. Undefined when the expression has another
 * shape, or needs an operand computed first and may not.
 */
function epilogueChain(rc: RuleContext, expr: EwExpr, operands: readonly LValue[], m: number, n: number, computeFirst = true): Chain | undefined {
  if (usesAcc(expr) !== 1) return undefined;
  const steps: MatmulEpilogue[] = [];
  const ops: Record<string, ChainOperand> = {};
  const walk = (e: EwExpr): boolean => {
    if (e.k === 'arg') return e.i === 0;
    if (e.k !== 'bin') return false;
    const accLeft = usesAcc(e.a) === 1;
    const [path, other] = accLeft ? [e.a, e.b] : [e.b, e.a];
    const fn = CHAIN_BINARY[e.fn];
    if (fn === undefined || !walk(path)) return false;
    const name = `e${steps.length}`;
    const operand = other.k === 'arg' ? operands[other.i - 1] : undefined;
    if (operand !== undefined && operand.gather === undefined && fn === 'add' && operand.shape.length === 1 && operand.shape[0] === n) {
      const isWeight = typeof operand.ref !== 'number';
      steps.push({ kind: 'bias', buffer: name, elem: isWeight ? rc.ctx.weightElem(operand.dtype) : rc.ctx.elem(rc.ctx.buf(operand)) });
      ops[name] = typeof operand.ref === 'number' ? { buffer: operand.ref } : { weight: operand.ref.weight };
      return true;
    }
    if (operand !== undefined && numel(operand.shape) === m * n && typeof operand.ref === 'number' && (operand.gather === undefined || rc.ctx.elem(operand.ref) === 'f32')) {
      steps.push({ kind: 'binary', fn, buffer: name, mapped: operand.gather !== undefined, operandFirst: !accLeft });
      ops[name] = { buffer: operand.ref, ...(operand.gather !== undefined ? { gather: operand.gather } : {}) };
      return true;
    }
    if (!computeFirst) return false;
    const value = evaluate(rc, shiftArgs(other), operands, [m, n], `epilogue operand ${steps.length}`);
    steps.push({ kind: 'binary', fn, buffer: name, mapped: false, operandFirst: !accLeft });
    ops[name] = { buffer: rc.ctx.buf(value) };
    return true;
  };
  return walk(expr) ? { steps, operands: ops } : undefined;
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

/** The RMSNorm of x (rows gathered when x is a view), once per (x, weight, eps): q, k and v share it. */
function normalized(rc: RuleContext, x: LValue, w: LValue, eps: number): LValue {
  const base = typeof x.ref === 'number' ? x.ref : rc.ctx.buf({ ...x, gather: undefined });
  const wb = rc.ctx.buf(materialize(rc, w));
  const key = `rmsnorm|${base}|${x.gather ?? -1}|${wb}|${eps}`;
  const hit = rc.ctx.memo.get(key);
  if (hit !== undefined) return hit;
  const d = x.shape[x.shape.length - 1] ?? 1;
  const rows = numel(x.shape) / Math.max(1, d);
  const out: LValue = { shape: x.shape, dtype: x.dtype, ref: rc.ctx.temp(Math.max(1, numel(x.shape)), 'f32', `${rc.where} rmsnorm`) };
  rmsnormOp(rc, d, eps, { x: base, w: wb, out: rc.ctx.buf(out), ...(x.gather !== undefined ? { xRows: x.gather } : {}) }, rows, `${rc.where} rmsnorm`);
  rc.ctx.memo.set(key, out);
  return out;
}

/** Where a matmul writes: a buffer laid out [rows, ldc] from column cCol0, rows scattered through `scatter`. */
interface MatmulTarget {
  readonly out: number;
  readonly scatter?: number;
}

/** Rows of W per binding: all of them, or fewer when one binding of W would exceed the target's limit. */
function splitRows(rc: RuleContext, n: number, k: number, bytesPerElem: number, align: number): number {
  const max = rc.target.limits.maxBindingBytes;
  if (n * k * bytesPerElem <= max) return n;
  const rows = Math.floor(max / Math.max(1, k * bytesPerElem) / align) * align;
  if (rows < 1) throw new LoweringError(`${rc.where}: one row of the weight (${k * bytesPerElem} bytes) exceeds the target's ${max}-byte binding limit`);
  return rows;
}

/** out = a @ W^T (a possibly a gathered view) with the epilogue chain, on the Target's matmul or GEMV schedule. */
function matmulWeight(rc: RuleContext, a: LValue, weight: string, shape: readonly number[], chain: Chain, dst: MatmulTarget): void {
  const [n, k] = [shape[0] ?? 0, shape[1] ?? 0];
  const m = numel(a.shape) / Math.max(1, k);
  if (m === 0 || n === 0) return;
  const c = rc.ctx;
  const wt = c.weightTypes.get(weight);
  if (wt === undefined) throw new LoweringError(`${rc.where}: weight '${weight}' is not declared by the graph`);
  const elem = c.weightElem(wt.dtype);
  const gemv = m <= maxGemvRows(rc);
  const s = gemv ? rc.target.schedules.gemv : rc.target.schedules.matmul;
  // A gathered A is read through aRows; a gathered epilogue operand through cRows: both must be one row map.
  const gathers = new Set(Object.values(chain.operands).flatMap((o) => ('gather' in o && o.gather !== undefined ? [o.gather] : [])));
  if (dst.scatter !== undefined) gathers.add(dst.scatter);
  if (gathers.size > 1) throw new LoweringError(`${rc.where}: epilogue operands gathered by different row maps`);
  const cRows = [...gathers][0];
  const aBase = typeof a.ref === 'number' ? a.ref : c.buf({ ...a, gather: undefined });
  // Column blocks per binding: whole panels on CPUs, multiples of 4 columns on GPUs.
  const chunk = splitRows(rc, n, k, elemBytes(elem), s.kind === 'cpu-packed' ? 4 * s.tiling.nrVec : 4);
  for (let start = 0; start < n; start += chunk) {
    const count = Math.min(chunk, n - start);
    const window = count !== n ? { start, count } : undefined;
    const bufs: Record<string, number> = { a: aBase, c: dst.out };
    if (a.gather !== undefined) bufs.aRows = a.gather;
    if (cRows !== undefined) bufs.cRows = cRows;
    // A bias of a split weight binds the window of its columns; other operands are laid out like C (ldc).
    for (const e of chain.steps) {
      if (e.kind === 'unary') continue;
      const o = chain.operands[e.buffer];
      if (o === undefined) throw new LoweringError(`${rc.where}: epilogue operand ${e.buffer} is not bound`);
      bufs[e.buffer] = operandBuffer(rc, o, e.kind === 'bias' ? window : undefined);
    }
    const common = {
      name: `linear_${k}x${count}${elem !== 'f32' ? `_${elem}` : ''}`,
      k, n: count, epilogue: chain.steps,
      ...(a.gather !== undefined ? { gatherA: true } : {}),
      ...(dst.scatter !== undefined ? { scatterC: true } : {}),
      ...(window ? { ldc: n, cCol0: start } : {}),
    };
    if (s.kind === 'cpu-packed') {
      const tiling: MatmulTiling = s.tiling;
      const pairs = packsInPairs(elem, tiling);
      bufs.b = c.weight(weight, { kind: 'packed', k, n: count, nr: 4 * tiling.nrVec, ...(start ? { rowStart: start } : {}), ...(pairs ? { pairs } : {}) });
      const spec = { ...common, tiling, bElem: elem, ...(pairs ? { bPairs: true } : {}) };
      if (gemv) {
        // Decode rows: each row streams the packed weight once (gemv.ts); the same packed buffer as the matmul's.
        const g = { ...spec, name: `gemv${spec.name.slice('linear'.length)}`, rows: m };
        c.dispatch(memoKernel(`gemv|${JSON.stringify(g)}`, () => gemvKernel(g)), bufs, { M: m }, gemvGrid(g), rc.where);
      } else c.dispatch(memoKernel(`matmul|${JSON.stringify(spec)}`, () => matmulKernel(spec)), bufs, { M: m }, matmulGrid(spec, m), rc.where);
      continue;
    }
    // GPUs read W in its checkpoint layout [N, K] (a window of rows for a split weight).
    bufs.w = c.weight(weight, window ? { kind: 'plain', rows: window } : { kind: 'plain' });
    const wElem = elem === 'f16' || elem === 'bf16' ? elem : 'f32';
    if (s.kind === 'gather') {
      const spec = { ...common, wElem } as const;
      c.dispatch(gatherMatmulKernel(spec), bufs, { M: m }, gatherMatmulGrid(spec, m), rc.where);
    } else if (s.kind === 'gpu-tiled') {
      const spec = { ...common, wElem, schedule: s } as const;
      c.dispatch(gpuMatmulKernel(spec), bufs, { M: m }, gpuMatmulGrid(spec, m), rc.where);
    } else {
      // Single-token decode: one row per workgroup (more would only repeat row 0).
      const spec = { ...common, wElem, schedule: s, ...(m === 1 ? { rows: 1 } : {}) } as const;
      c.dispatch(gpuGemvKernel(spec), bufs, { M: m }, gpuGemvGrid(spec, m), rc.where);
    }
  }
}

const maxGemvRows = (rc: RuleContext): number => rc.target.schedules.gemv.maxRows;

/** out = a @ W^T for a computed W (dot products), then the chain as elementwise steps. */
function matmulComputed(rc: RuleContext, a: LValue, w: LValue, chain: Chain, dst: MatmulTarget): void {
  if (dst.scatter !== undefined) throw new LoweringError(`${rc.where}: a scattered output needs a graph weight`);
  const [n, k] = [w.shape[0] ?? 0, w.shape[1] ?? 0];
  const m = numel(a.shape) / Math.max(1, k);
  const c = rc.ctx;
  const zero = c.constant([0], 'i32', 'batch offset 0');
  const acc = chain.steps.length ? c.temp(Math.max(1, m * n), 'f32', `${rc.where} (before epilogue)`) : dst.out;
  bmmOp(rc, m, k, n, [k, 1], [1, k], { a: c.buf(materialize(rc, a)), b: c.buf(materialize(rc, w)), aBatch: zero, bBatch: zero, out: acc }, 1);
  let cur = acc;
  chain.steps.forEach((e, i) => {
    const next = i === chain.steps.length - 1 ? dst.out : c.temp(Math.max(1, m * n), 'f32', `${rc.where} epilogue ${i}`);
    if (e.kind !== 'bias' && e.kind !== 'binary') throw new LoweringError(`${rc.where}: epilogue step ${e.kind} has no elementwise form here`);
    const o = chain.operands[e.buffer];
    if (o === undefined || ('gather' in o && o.gather !== undefined)) throw new LoweringError(`${rc.where}: epilogue operand ${e.buffer} is not a plain buffer`);
    const ob = operandBuffer(rc, o);
    const fn: KBinaryFn = e.kind === 'bias' ? 'add' : e.fn;
    const first = e.kind === 'binary' && e.operandFirst;
    elementwiseOp(rc, {
      name: `ew_chain_${fn}`, shape: [m, n], out: 'f32',
      inputs: [{ buffer: 'in0', elem: 'f32', strides: [n, 1] }, { buffer: 'in1', elem: c.elem(ob), strides: e.kind === 'bias' ? [0, 1] : [n, 1] }],
      body: ([p, q]) => (first ? binary(fn, q as KNode, p as KNode) : binary(fn, p as KNode, q as KNode)),
    }, { in0: cur, in1: ob, out: next }, `${rc.where} epilogue`);
    cur = next;
  });
}

function linearInto(rc: RuleContext, x: LValue, w: LValue, norm: { weight: LValue; eps: number } | undefined, chain: Chain, dst: MatmulTarget): void {
  const a = norm ? normalized(rc, x, norm.weight, norm.eps) : x;
  if (typeof w.ref !== 'number') matmulWeight(rc, a, w.ref.weight, w.shape, chain, dst);
  else matmulComputed(rc, a, w, chain, dst);
}

/** A plain linear layer. */
export function linear(ins: readonly LValue[], rc: RuleContext): LValue[] {
  const [x, w, b] = [arg(ins, 0, rc), arg(ins, 1, rc), ins[2]];
  const out = newValue(rc, x.dtype);
  const chain: Chain = b
    ? {
        steps: [{ kind: 'bias', buffer: 'bias', elem: typeof b.ref === 'number' ? rc.ctx.elem(b.ref) : rc.ctx.weightElem(b.dtype) }],
        operands: { bias: typeof b.ref === 'number' ? { buffer: rc.ctx.buf(materialize(rc, b)) } : { weight: b.ref.weight } },
      }
    : { steps: [], operands: {} };
  linearInto(rc, x, w, undefined, chain, { out: rc.ctx.buf(out) });
  return [out];
}

export function lowerFusedLinear(ins: readonly LValue[], a: OpAttrs['fusedLinear'], rc: RuleContext): LValue[] {
  const layout = fusedLinearLayout(a);
  const [x, w] = [arg(ins, 0, rc), arg(ins, 1, rc)];
  const norm = layout.norm >= 0 ? { weight: arg(ins, layout.norm, rc), eps: a.eps } : undefined;
  const operands = ins.slice(layout.epilogue, layout.epilogue + a.epilogueArgs);
  const [n, k] = [w.shape[0] ?? 0, w.shape[1] ?? 0];
  const m = numel(x.shape) / Math.max(1, k);
  const accShape = [...x.shape.slice(0, -1), n];
  // Decode rows on a target that fuses independent dispatches: an operand computed before the matmul (SwiGLU's
  // silu(gate) for up) would make it wait for the gate projection instead of running beside it; for a few rows
  // the epilogue as one elementwise kernel after the matmul costs nothing.
  const beside = rc.target.schedules.fuseDispatches === true && m <= maxGemvRows(rc);
  let chain = epilogueChain(rc, a.epilogue, operands, m, n, !beside);
  if (a.combine === 'none') {
    const u = newValue(rc, x.dtype);
    if (chain) linearInto(rc, x, w, norm, chain, { out: rc.ctx.buf(u) });
    else {
      // A general epilogue: the accumulator to a temporary, then one elementwise kernel over it and the operands.
      const acc: LValue = { shape: accShape, dtype: 'f32', ref: rc.ctx.temp(Math.max(1, m * n), 'f32', `${rc.where} accumulator`) };
      linearInto(rc, x, w, norm, { steps: [], operands: {} }, { out: rc.ctx.buf(acc) });
      evaluate(rc, a.epilogue, [acc, ...operands], accShape, 'epilogue', u);
    }
    return [u];
  }
  const [xFull, h1, rowMap, gate, routable] = [0, 1, 2, 3, 4].map((i) => arg(ins, layout.combine + i, rc)) as [LValue, LValue, LValue, LValue, LValue];
  const map = rc.ctx.buf(materialize(rc, rowMap));
  const facts = rc.ctx.routes.get(map);
  const xb = typeof xFull.ref === 'number' && xFull.gather === undefined ? xFull.ref : undefined;
  // The scatter epilogue is not a gather: gather schedules compute u and combine it with a gather kernel.
  const scatters = rc.target.schedules.matmul.kind !== 'gather';
  if (scatters && facts !== undefined && xb === facts.x && chain !== undefined && chain.steps.length === 0 && typeof w.ref !== 'number') {
    // y[rowMap[r]] = h1[r] + keptGate[r] * acc[r]: the combine is the matmul's epilogue, u is never written.
    const h1v = materialize(rc, h1);
    chain = {
      steps: [{ kind: 'rowScale', buffer: 'gate', mapped: false }, { kind: 'binary', fn: 'add', buffer: 'h1', mapped: false, operandFirst: true }],
      operands: { gate: { buffer: facts.keptGate }, h1: { buffer: rc.ctx.buf(h1v) } },
    };
    linearInto(rc, x, w, norm, chain, { out: facts.y, scatter: map });
    return [{ shape: xFull.shape, dtype: xFull.dtype, ref: facts.y }];
  }
  // Otherwise: u in a temporary, then the standalone combine.
  const u: LValue = { shape: accShape, dtype: 'f32', ref: rc.ctx.temp(Math.max(1, m * n), 'f32', `${rc.where} u`) };
  if (chain) linearInto(rc, x, w, norm, chain, { out: rc.ctx.buf(u) });
  else {
    const acc: LValue = { shape: accShape, dtype: 'f32', ref: rc.ctx.temp(Math.max(1, m * n), 'f32', `${rc.where} accumulator`) };
    linearInto(rc, x, w, norm, { steps: [], operands: {} }, { out: rc.ctx.buf(acc) });
    evaluate(rc, a.epilogue, [acc, ...operands], accShape, 'epilogue', u);
  }
  return [combine(rc, xFull, h1, u, rowMap, gate, routable)];
}

