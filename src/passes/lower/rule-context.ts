/** What a lowering rule works with: the lowering context, the node, and helpers for values and elementwise kernels. */
import { describeNode, type DType, type Node, type OpAttrs, type OpKind } from '../../ir/index.js';
import { broadcastStrides, elementwiseGrid, elementwiseKernel, type ElementwiseInput } from '../../kernel/builders/elementwise.js';
import type { MatmulTiling } from '../../kernel/builders/matmul.js';
import type { KNode } from '../../kernel/ir.js';
import { elemOf, type LoweringContext, LoweringError, type LValue, numel } from './context.js';

export interface RuleContext {
  readonly ctx: LoweringContext;
  readonly node: Node;
  /** Node description for errors and step labels. */
  readonly where: string;
  readonly outShapes: readonly (readonly number[])[];
  readonly dim: (d: import('../../ir/index.js').Dim) => number;
  readonly tiling: MatmulTiling;
  /** Lowers a region body with its two inputs bound; returns its outputs in order. */
  readonly lowerRegion: (body: import('../../ir/index.js').Graph, inputs: readonly LValue[]) => LValue[];
}

export type Rule<K extends OpKind> = (ins: readonly LValue[], attrs: OpAttrs[K], rc: RuleContext) => LValue[];

export function arg(ins: readonly LValue[], i: number, rc: RuleContext): LValue {
  const v = ins[i];
  if (v === undefined) throw new LoweringError(`${rc.where}: missing operand ${i}`);
  return v;
}
export const outShape = (rc: RuleContext, i = 0): readonly number[] => rc.outShapes[i] ?? [];
export function newValue(rc: RuleContext, dtype: DType, i = 0, label = ''): LValue {
  const shape = outShape(rc, i);
  return { shape, dtype, ref: rc.ctx.temp(numel(shape), elemOf(dtype), `${rc.node.name || describeNode(rc.node)}${label}`) };
}

/** An elementwise op: inputs broadcast to the output shape. */
export function elementwise(rc: RuleContext, ins: readonly LValue[], dtype: DType, body: (xs: readonly KNode[]) => KNode, vectorBody?: (xs: readonly KNode[]) => KNode): LValue[] {
  const out = newValue(rc, dtype);
  const shape = out.shape;
  const inputs: ElementwiseInput[] = ins.map((x, j) => ({ buffer: `in${j}`, elem: elemOf(x.dtype), strides: broadcastStrides(x.shape, shape) }));
  const n = numel(shape);
  const k = elementwiseKernel({ name: `ew_${rc.node.op}`, shape, inputs, out: elemOf(dtype), body, ...(vectorBody ? { vectorBody } : {}) });
  const buffers: Record<string, number> = { out: rc.ctx.buf(out) };
  ins.forEach((x, j) => (buffers[`in${j}`] = rc.ctx.buf(x)));
  if (n > 0) rc.ctx.dispatch(k, buffers, { n }, elementwiseGrid(n), rc.where);
  return [out];
}
