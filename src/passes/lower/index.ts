/**
 * Lowering: Graph IR at fixed symbol values -> kernel program for one Target. Walks the graph (and region
 * bodies) in order, applies each op's rule, rounds 16-bit float results of compute ops to their storage
 * precision, and binds the graph's named outputs. Symbols listed as dynamic stay symbolic: the dims that
 * depend on them become dispatch params the runner evaluates per run (cache lengths), and buffers are sized
 * without them. The program is plain data; `compile()` (src/runtime) caches it.
 */
import { fuseIndependentDispatches } from './horizontal.js';
import { describeNode, dimSymbols, type Dim, evalDim, type Graph, graphWeights, hashString, printGraph, substDim, type SymEnv } from '../../ir/index.js';
import type { KernelProgram, ProgramTensor } from '../../kernel/program.js';
import type { Target } from '../../kernel/target.js';
import { elementwiseOp } from './families.js';
import { rowCopyGrid, rowCopyKernel } from '../../kernel/builders/elementwise.js';
import { LoweringContext, LoweringError, type LValue, numel } from './context.js';
import type { RuleContext } from './rule-context.js';
import { LOWER, ROUNDED_OPS, roundingNeeded } from './rules.js';

export { LoweringError, type LValue } from './context.js';

export interface LowerOptions {
  readonly target: Target;
  /** Run the kernel verifier on every new kernel (default true). */
  readonly verify?: boolean;
  /** Symbols left dynamic (not in env): dispatch params that depend on them are evaluated per run. */
  readonly dynamic?: readonly string[];
}

/** A stable hash of a graph's printed form: the plan cache key together with the target and symbol values. */
export function graphHash(g: Graph): string {
  return hashString(printGraph(g));
}

export function planKey(g: Graph, env: SymEnv): string {
  const syms = Object.keys(env).sort().map((k) => `${k}=${env[k]}`).join(',');
  return `${graphHash(g)}|${syms}`;
}

const refKey = (node: number, output: number): string => `${node}#${output}`;

/** Uses of each value within a graph (its nodes' operands and the graph outputs). */
function useCounts(g: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const bump = (k: string): void => void uses.set(k, (uses.get(k) ?? 0) + 1);
  for (const n of g.nodes) for (const r of n.inputs) bump(refKey(r.node, r.output));
  for (const o of g.outputs) bump(refKey(o.value.node, o.value.output));
  return uses;
}

interface Lowering {
  readonly ctx: LoweringContext;
  readonly env: SymEnv;
  readonly dynamic: ReadonlySet<string>;
}

function lowerGraph(g: Graph, L: Lowering, bind: (name: string, index: number) => LValue, path: string): Map<string, LValue> {
  const { ctx, env, dynamic } = L;
  const values = new Map<number, LValue[]>();
  const uses = useCounts(g);
  let inputIndex = 0;
  const isDynamic = (d: Dim): boolean => [...dimSymbols(d)].some((s) => dynamic.has(s));
  for (const node of g.nodes) {
    const where = `${path}${describeNode(node)}`;
    const outShapes = node.outputs.map((t) => t.shape.map((d) => (isDynamic(d) ? Number.NaN : evalDim(d, env))));
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
      target: ctx.target,
      node,
      where,
      outShapes,
      dim: (d) => {
        if (isDynamic(d)) throw new LoweringError(`${where}: a dim depends on a dynamic symbol (${[...dimSymbols(d)].join(', ')}), which ${node.op} needs static`);
        return evalDim(d, env);
      },
      dynDim: (d) => substDim(d, env),
      otherUses: (i) => {
        const r = node.inputs[i];
        return r === undefined ? 0 : (uses.get(refKey(r.node, r.output)) ?? 1) - 1;
      },
      lowerRegion: (body, inputs) => {
        const res = lowerGraph(body, L, (_name, i) => {
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
      if (shape.some(Number.isNaN)) return { ...v, dtype: want.dtype };
      if (numel(v.shape) !== numel(shape)) throw new LoweringError(`${where}: result ${k} has ${numel(v.shape)} elements, the node's type ${numel(shape)}`);
      const round = roundingNeeded(want.dtype);
      if (round && ROUNDED_OPS.has(node.op) && typeof v.ref === 'number' && v.gather === undefined && numel(shape) > 0) {
        // Out of place: some targets cannot bind one buffer as input and output of a dispatch.
        const n = numel(shape);
        const rounded = ctx.temp(n, 'f32', `${where} (${round})`);
        elementwiseOp(rc, { name: `ew_${round}`, shape: [n], inputs: [{ buffer: 'in0', elem: 'f32', strides: [1] }], out: 'f32', body: ([x]) => x as never, round }, { in0: v.ref, out: rounded }, `${where} (${round})`);
        return { shape, dtype: want.dtype, ref: rounded };
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

/** Lowers a graph at the given symbol values (all but the dynamic ones) to a kernel program for a target. */
export function lowerToProgram(g: Graph, env: SymEnv, opts: LowerOptions): KernelProgram {
  const dynamic = new Set(opts.dynamic ?? []);
  for (const s of dynamic) if (env[s] !== undefined) throw new LoweringError(`graph '${g.name}': symbol '${s}' is dynamic and bound to ${env[s]} at once`);
  const weightTypes = new Map<string, { dtype: import('../../ir/index.js').DType; shape: readonly number[] }>();
  for (const w of graphWeights(g)) weightTypes.set(w.attrs.name, { dtype: w.attrs.dtype, shape: w.attrs.shape.map((d) => evalDim(d, env)) });
  const ctx = new LoweringContext(opts.target, opts.verify ?? true, weightTypes);
  const outs = lowerGraph(g, { ctx, env, dynamic }, (name) => {
    const n = g.nodes.find((x) => x.op === 'input' && x.attrs.name === name);
    if (n === undefined || n.op !== 'input') throw new LoweringError(`graph '${g.name}': no input '${name}'`);
    const shape = n.attrs.shape.map((d) => evalDim(d, env));
    return { shape, dtype: n.attrs.dtype, ref: ctx.input(name, n.attrs.dtype, shape) };
  }, '');
  const outputs: ProgramTensor[] = [...outs].map(([name, v0]) => {
    if (v0.rows !== undefined) throw new LoweringError(`graph '${g.name}': output '${name}' has a dynamic length`);
    // Outputs are plain buffers: a view (a weight, gathered rows) is copied out by a materialising rule.
    const v = v0.gather !== undefined || typeof v0.ref !== 'number' ? materializeOutput(ctx, v0, name) : v0;
    return { name, buffer: ctx.buf(v), dtype: v.dtype, shape: v.shape };
  });
  const program = ctx.finish(outputs, [...dynamic]);
  if (!opts.target.schedules.fuseDispatches) return program;
  return fuseIndependentDispatches(program, { maxBuffers: opts.target.limits.maxBuffersPerKernel, verify: opts.verify ?? true });
}

/** A weight or a gathered view returned as a graph output gets a buffer of its own. */
function materializeOutput(ctx: LoweringContext, v: LValue, name: string): LValue {
  if (v.gather === undefined) return { ...v, ref: ctx.buf(v) };
  const base = typeof v.ref === 'number' ? v.ref : ctx.buf({ ...v, gather: undefined });
  const rows = v.shape[0] ?? 0;
  const width = numel(v.shape.slice(1));
  const out = ctx.temp(Math.max(1, rows * width), ctx.elem(base), `output ${name}`);
  const spec = { name: 'gather_rows', width, mode: 'gather' as const, srcRows: 2 ** 31 - 1, statusCode: 0, srcElem: ctx.elem(base), outElem: ctx.elem(base) };
  if (rows > 0 && width > 0) ctx.dispatch(rowCopyKernel(spec), { src: base, index: v.gather, out, status: ctx.status }, { rows }, rowCopyGrid(rows, width), `output ${name}`);
  return { shape: v.shape, dtype: v.dtype, ref: out };
}
