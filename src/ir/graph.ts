/**
 * The immutable Graph IR: nodes in topological order, each with typed attributes and typed outputs; values
 * are (node, output) references. Graphs are deep-frozen; passes rewrite them with immer's `produce`.
 */
import { freeze } from 'immer';
import type { OpAttrs, OpKind } from './ops.js';
import type { SymbolDecl } from './sym.js';
import type { TensorType } from './types.js';

export interface ValueRef {
  readonly node: number;
  readonly output: number;
}

export interface NodeOf<K extends OpKind> {
  /** Unique within its graph; not necessarily dense (passes append fresh ids). The printer renumbers. */
  readonly id: number;
  readonly op: K;
  /** Hierarchical source name ('layers.3.self_attn.q_proj'), '' when anonymous. */
  readonly name: string;
  readonly inputs: readonly ValueRef[];
  readonly attrs: OpAttrs[K];
  readonly outputs: readonly TensorType[];
}

/** A node of any kind; switching on `op` narrows `attrs`. */
export type Node = { [K in OpKind]: NodeOf<K> }[OpKind];

export interface GraphOutput {
  readonly name: string;
  readonly value: ValueRef;
}

export interface Graph {
  readonly name: string;
  /** Symbols in scope; region bodies inherit their parent's and declare none. */
  readonly symbols: readonly SymbolDecl[];
  readonly nodes: readonly Node[];
  readonly outputs: readonly GraphOutput[];
}

export const valueRef = (node: number, output = 0): ValueRef => ({ node, output });

export function refText(r: ValueRef): string {
  return r.output === 0 ? `%${r.node}` : `%${r.node}#${r.output}`;
}

export function freezeGraph(g: Graph): Graph {
  return freeze(g, true);
}

export function nodeMap(g: Graph): Map<number, Node> {
  return new Map(g.nodes.map((n) => [n.id, n]));
}

/** The type of a value; throws if the reference is dangling (use the verifier for a full diagnosis). */
export function valueType(nodes: ReadonlyMap<number, Node>, ref: ValueRef): TensorType {
  const t = nodes.get(ref.node)?.outputs[ref.output];
  if (t === undefined) throw new Error(`dangling value reference ${refText(ref)}`);
  return t;
}

export function graphInputs(g: Graph): readonly NodeOf<'input'>[] {
  return g.nodes.filter((n): n is NodeOf<'input'> => n.op === 'input');
}

/** Every weight node of the graph and of its region bodies, in order of appearance. */
export function graphWeights(g: Graph): NodeOf<'weight'>[] {
  const out: NodeOf<'weight'>[] = [];
  for (const n of g.nodes) {
    if (n.op === 'weight') out.push(n);
    else if (n.op === 'modRoute') out.push(...graphWeights(n.attrs.body));
  }
  return out;
}

/** Calls f on every node of the graph and of every nested region, depth first, with the region path. */
export function walkNodes(g: Graph, f: (n: Node, path: readonly Node[]) => void, path: readonly Node[] = []): void {
  for (const n of g.nodes) {
    f(n, path);
    if (n.op === 'modRoute') walkNodes(n.attrs.body, f, [...path, n]);
  }
}

export function nextNodeId(g: Graph): number {
  return g.nodes.reduce((m, n) => Math.max(m, n.id + 1), 0);
}

/** Describes a node for error messages: "node %12 'layers.3.q_proj' (linear)". */
export function describeNode(n: Pick<Node, 'id' | 'name' | 'op'>): string {
  return `node %${n.id}${n.name ? ` '${n.name}'` : ''} (${n.op})`;
}
