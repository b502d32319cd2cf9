/**
 * Lowering: Graph IR at fixed symbol values -> kernel program. Walks the graph (and region bodies) in order,
 * applies each op's rule, rounds 16-bit float results to their storage precision, and binds the graph's named
 * outputs. The program is plain data; backends cache it by (graph hash, symbol values).
 */
import { createHash } from 'node:crypto';
import { describeNode, evalDim, type Graph, printGraph, type SymEnv } from '../../ir/index.js';
import { elementwiseGrid, elementwiseKernel } from '../../kernel/builders/elementwise.js';
import { CPU_TILING, type MatmulTiling } from '../../kernel/builders/matmul.js';
import type { KNode } from '../../kernel/ir.js';
import type { KernelProgram, ProgramTensor } from '../../kernel/program.js';
import type { DeviceLimits } from '../../kernel/renderer.js';
import { LoweringContext, LoweringError, type LValue, numel } from './context.js';
import { LOWER, roundingNeeded, type RuleContext } from './rules.js';

export { LoweringError, type LValue } from './context.js';

export interface LowerOptions {
  readonly tiling?: MatmulTiling;
  /** Run the kernel verifier on every new kernel (default true). */
  readonly verify?: boolean;
  /** The target's device limits: every dispatch is checked against them (a LoweringError names the node). */
  readonly limits?: DeviceLimits;
}

/** A stable hash of a graph's printed form: the plan cache key together with the symbol values. */
export function graphHash(g: Graph): string {
  return createHash('sha256').update(printGraph(g)).digest('hex').slice(0, 16);
}

export function planKey(g: Graph, env: SymEnv): string {
  const syms = Object.keys(env).sort().map((k) => `${k}=${env[k]}`).join(',');
  return `${graphHash(g)}|${syms}`;
}

function lowerGraph(g: Graph, env: SymEnv, ctx: LoweringContext, tiling: MatmulTiling, bind: (name: string, index: number) => LValue, path: string): Map<string, LValue> {
  const values = new Map<number, LValue[]>();
  let inputIndex = 0;
  for (const node of g.nodes) {
    const where = `${path}${describeNode(node)}`;
    const outShapes = node.outputs.map((t) => t.shape.map((d) => evalDim(d, env)));
    if (node.op === 'input') {
      values.set(node.id, [bind(node.attrs.name, inputIndex++)]);
      continue;
    }
    const ins = node.inputs.map((r) => {
      const v = values.get(r.node)?.[r.output];
      if (v === undefined) throw new LoweringError(`${where}: operand %${r.node}#${r.output} has no value`);
      return v;
    });
    const rc: RuleContext = {
      ctx,
      node,
      where,
      outShapes,
      dim: (d) => evalDim(d, env),
      tiling,
      lowerRegion: (body, inputs) => {
        const res = lowerGraph(body, env, ctx, tiling, (_name, i) => {
          const v = inputs[i];
          if (v === undefined) throw new LoweringError(`${where}: region input ${i} is not bound`);
          return v;
        }, `${where} > `);
        return body.outputs.map((o) => res.get(o.name) ?? (() => { throw new LoweringError(`${where}: region output '${o.name}' missing`); })());
      },
    };
    const rule = LOWER[node.op] as (ins: readonly LValue[], attrs: typeof node.attrs, rc: RuleContext) => LValue[];
    const outs = rule(ins, node.attrs, rc).map((v, k) => {
      const want = node.outputs[k];
      const shape = outShapes[k];
      if (want === undefined || shape === undefined) throw new LoweringError(`${where}: rule produced ${k + 1} values, node declares ${node.outputs.length}`);
      if (numel(v.shape) !== numel(shape)) throw new LoweringError(`${where}: result ${k} has ${numel(v.shape)} elements, the node's type ${numel(shape)}`);
      const round = roundingNeeded(want.dtype);
      if (round && node.op !== 'weight' && node.op !== 'reshape' && typeof v.ref === 'number' && numel(shape) > 0) {
        const n = numel(shape);
        const k2 = elementwiseKernel({ name: `ew_${round}`, shape: [n], inputs: [{ buffer: 'in0', elem: 'f32', strides: [1] }], out: 'f32', body: ([x]) => ({ op: 'unary', type: 'f32', src: [x as KNode], arg: round }) });
        ctx.dispatch(k2, { in0: v.ref, out: v.ref }, { n }, elementwiseGrid(n), `${where} (${round})`);
      }
      return { ...v, shape, dtype: want.dtype };
    });
    values.set(node.id, outs);
  }
  const result = new Map<string, LValue>();
  for (const o of g.outputs) {
    const v = values.get(o.value.node)?.[o.value.output];
    if (v === undefined) throw new LoweringError(`${path}graph '${g.name}': output '${o.name}' has no value`);
    result.set(o.name, v);
  }
  return result;
}

/** Lowers a graph at the given symbol values to a kernel program. */
export function lowerToProgram(g: Graph, env: SymEnv, opts: LowerOptions = {}): KernelProgram {
  const ctx = new LoweringContext(opts.verify ?? true, opts.limits);
  const outs = lowerGraph(g, env, ctx, opts.tiling ?? CPU_TILING, (name) => {
    const n = g.nodes.find((x) => x.op === 'input' && x.attrs.name === name);
    if (n === undefined || n.op !== 'input') throw new LoweringError(`graph '${g.name}': no input '${name}'`);
    const shape = n.attrs.shape.map((d) => evalDim(d, env));
    return { shape, dtype: n.attrs.dtype, ref: ctx.input(name, n.attrs.dtype, shape) };
  }, '');
  const outputs: ProgramTensor[] = [...outs].map(([name, v]) => ({ name, buffer: ctx.buf(v), dtype: v.dtype, shape: v.shape }));
  return ctx.finish(outputs);
}
