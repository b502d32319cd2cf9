/**
 * The reference interpreter: runs a Graph on host tensors. It binds symbols from the input shapes, checks every
 * weight against its declaration, runs one kernel per node, checks each result against the node's type, and
 * frees values after their last use. It is the oracle the other backends and every pass are tested against.
 */
import {
  bindInputSymbols,
  type Dim,
  describeNode,
  evalDim,
  ExecutionError,
  type Graph,
  type HostTensor,
  type Node,
  roundInPlace,
  type SymEnv,
  type TensorStore,
} from '../../ir/index.js';
import { KERNELS, type KernelContext } from './kernels.js';

export interface InterpretOptions {
  weights: TensorStore;
  /** Values for symbols that no input shape determines. */
  symbols?: Readonly<Record<string, number>>;
}

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Binds symbols from input shapes (see src/ir/bind.ts); kept under this name for the reference backend's API. */
export const bindSymbols = bindInputSymbols;

function lastUses(g: Graph): Map<number, number> {
  const last = new Map<number, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((r) => last.set(r.node, i)));
  for (const o of g.outputs) last.set(o.value.node, Number.POSITIVE_INFINITY);
  return last;
}

function runGraph(g: Graph, inputs: Readonly<Record<string, HostTensor>>, env: SymEnv, weights: TensorStore, path: string): Record<string, HostTensor> {
  const values = new Map<number, HostTensor[]>();
  const last = lastUses(g);
  const evalD = (d: Dim): number => evalDim(d, env);
  g.nodes.forEach((node, i) => {
    const where = `${path}${describeNode(node)}`;
    const fail = (msg: string): never => {
      throw new ExecutionError(`${where}: ${msg}`);
    };
    const ins = node.inputs.map((r) => values.get(r.node)?.[r.output] ?? fail(`operand %${r.node}#${r.output} has no value`));
    const outShapes = node.outputs.map((t) => t.shape.map(evalD));
    const ctx: KernelContext = {
      node,
      outShapes,
      dim: evalD,
      fail,
      input: (name) => inputs[name] ?? fail(`missing input '${name}'`),
      weight: (name) => loadWeight(weights, name, node, outShapes[0] ?? [], fail),
      runRegion: (body, regionInputs) => {
        const res = runGraph(body, regionInputs, env, weights, `${where} > `);
        return body.outputs.map((o) => res[o.name] ?? fail(`region output '${o.name}' missing`));
      },
    };
    const kernel = KERNELS[node.op] as (ins: readonly HostTensor[], attrs: Node['attrs'], ctx: KernelContext) => HostTensor[];
    const outs = kernel(ins, node.attrs, ctx);
    outs.forEach((t, k) => {
      const want = node.outputs[k];
      const shape = outShapes[k];
      if (want === undefined || shape === undefined) return fail(`kernel produced ${outs.length} values, node declares ${node.outputs.length}`);
      if (t.dtype !== want.dtype || t.shape.length !== shape.length || t.shape.some((d, j) => d !== shape[j]))
        fail(`result ${k} is ${t.dtype}${shapeStr(t.shape)} but the node's type is ${want.dtype}${shapeStr(shape)}`);
      if (node.op !== 'input' && node.op !== 'weight') roundInPlace(t.dtype, t.data);
    });
    values.set(node.id, outs);
    for (const r of node.inputs) if ((last.get(r.node) ?? -1) <= i) values.delete(r.node);
  });
  const result: Record<string, HostTensor> = {};
  for (const o of g.outputs) {
    const v = values.get(o.value.node)?.[o.value.output];
    if (v === undefined) throw new ExecutionError(`${path}graph '${g.name}': output '${o.name}' has no value`);
    result[o.name] = v;
  }
  return result;
}

function loadWeight(store: TensorStore, name: string, node: Node, shape: readonly number[], fail: (m: string) => never): HostTensor {
  if (!store.has(name)) fail(`weight '${name}' is not in the weight store`);
  const t = store.get(name);
  const want = node.outputs[0];
  if (want && t.dtype !== want.dtype) fail(`weight '${name}' has dtype ${t.dtype}, the graph declares ${want.dtype}`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    fail(`weight '${name}' has shape ${shapeStr(t.shape)}, the graph declares ${shapeStr(shape)}`);
  return t;
}

/** Runs the graph; returns its named outputs. */
export function interpret(g: Graph, inputs: Readonly<Record<string, HostTensor>>, opts: InterpretOptions): Record<string, HostTensor> {
  const env = bindSymbols(g, inputs, opts.symbols);
  return runGraph(g, inputs, env, opts.weights, '');
}
