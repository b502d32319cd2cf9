/** What a lowering rule works with: the lowering context, the node, the Target, and helpers for values. */
import { describeNode, type Dim, type DType, type Graph, type Node, type OpAttrs, type OpKind } from '../../ir/index.js';
import { broadcastStrides, type ElementwiseInput } from '../../kernel/builders/elementwise.js';
import type { KNode } from '../../kernel/ir.js';
import type { Target } from '../../kernel/target.js';
import { elemOf, type LoweringContext, LoweringError, type LValue, numel } from './context.js';
import { elementwiseOp, rowCopyOp } from './families.js';

export interface RuleContext {
  readonly ctx: LoweringContext;
  readonly target: Target;
  readonly node: Node;
  /** Node description for errors and step labels. */
  readonly where: string;
  /** Output shapes; a dim that depends on a dynamic symbol is NaN (the rule must handle it). */
  readonly outShapes: readonly (readonly number[])[];
  /** A static dim's value (throws, naming the node, for a dim that depends on a dynamic symbol). */
  readonly dim: (d: Dim) => number;
  /** A dim with the static symbols substituted: a number, or an expression over the dynamic symbols. */
  readonly dynDim: (d: Dim) => Dim;
  /** Uses of operand i's value other than this node (graph outputs count), for in-place decisions. */
  readonly otherUses: (i: number) => number;
  /** Lowers a region body with its inputs bound; returns its outputs in order. */
  readonly lowerRegion: (body: Graph, inputs: readonly LValue[]) => LValue[];
}

export type Rule<K extends OpKind> = (ins: readonly LValue[], attrs: OpAttrs[K], rc: RuleContext) => LValue[];

export function arg(ins: readonly LValue[], i: number, rc: RuleContext): LValue {
  const v = ins[i];
  if (v === undefined) throw new LoweringError(`${rc.where}: missing operand ${i}`);
  return v;
}
export const outShape = (rc: RuleContext, i = 0): readonly number[] => {
  const s = rc.outShapes[i] ?? [];
  if (s.some(Number.isNaN)) throw new LoweringError(`${rc.where}: output ${i} has a dynamic shape, which ${rc.node.op} does not support`);
  return s;
};
export function newValue(rc: RuleContext, dtype: DType, i = 0, label = ''): LValue {
  const shape = outShape(rc, i);
  return { shape, dtype, ref: rc.ctx.temp(numel(shape), elemOf(dtype), `${rc.node.name || describeNode(rc.node)}${label}`) };
}

/** The storage type of a value's buffer (weights keep their checkpoint dtype where the target can bind it). */
export function storageOf(rc: RuleContext, v: LValue): ReturnType<LoweringContext['elem']> {
  return typeof v.ref === 'number' ? rc.ctx.elem(v.ref) : rc.ctx.weightElem(v.dtype);
}

/** The value as a plain buffer: a gathered view is copied into a new buffer (one gather dispatch). */
export function materialize(rc: RuleContext, v: LValue): LValue {
  if (v.gather === undefined) return v;
  const base = typeof v.ref === 'number' ? v.ref : rc.ctx.buf({ ...v, gather: undefined });
  const rows = v.shape[0] ?? 0;
  const width = numel(v.shape.slice(1));
  const out = rc.ctx.temp(Math.max(1, rows * width), rc.ctx.elem(base), `${rc.where} gathered rows`);
  if (rows > 0 && width > 0) rowCopyOp(rc, { mode: 'gather', width, srcRows: 2 ** 31 - 1, src: base, index: v.gather, out, rows, statusCode: 0, label: `${rc.where} gather` });
  return { shape: v.shape, dtype: v.dtype, ref: out };
}

/** A dynamic row count is only understood by the rules that take it (attention keys); others refuse it. */
export function requireStatic(rc: RuleContext, v: LValue): void {
  if (v.rows !== undefined) throw new LoweringError(`${rc.where}: an operand has a dynamic length, which ${rc.node.op} does not support`);
}

/** An elementwise op: inputs broadcast to the output shape. */
export function elementwise(rc: RuleContext, ins: readonly LValue[], dtype: DType, body: (xs: readonly KNode[]) => KNode, vectorBody?: (xs: readonly KNode[]) => KNode): LValue[] {
  const out = newValue(rc, dtype);
  const shape = out.shape;
  const vals = ins.map((x) => {
    requireStatic(rc, x);
    return materialize(rc, x);
  });
  const inputs: ElementwiseInput[] = vals.map((x, j) => ({ buffer: `in${j}`, elem: storageOf(rc, x), strides: broadcastStrides(x.shape, shape) }));
  const buffers: Record<string, number> = { out: rc.ctx.buf(out) };
  vals.forEach((x, j) => (buffers[`in${j}`] = rc.ctx.buf(x)));
  elementwiseOp(rc, { name: `ew_${rc.node.op}`, shape, inputs, out: elemOf(dtype), body, ...(vectorBody ? { vectorBody } : {}) }, buffers, rc.where);
  return [out];
}
