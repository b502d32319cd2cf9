/**
 * Graph rewriting by one forward sweep: each node is kept (with its inputs renamed), replaced by new nodes, or
 * aliased to an existing value. New nodes get fresh ids and their types from the type rules; the result is
 * produced through immer, so unchanged nodes keep their identity and the output is frozen.
 */
import { produce } from 'immer';
import {
  BuildError,
  describeNode,
  type Graph,
  inferTypes,
  type Node,
  nextNodeId,
  type OpAttrs,
  type OpKind,
  type TensorType,
  typeEq,
  TypeRuleError,
  type ValueRef,
} from '../ir/index.js';

const key = (r: ValueRef): string => `${r.node}:${r.output}`;

export class Rewriter {
  private readonly subst = new Map<string, ValueRef>();
  readonly out: Node[] = [];
  private nextId: number;
  private readonly types = new Map<number, readonly TensorType[]>();

  constructor(readonly source: Graph) {
    this.nextId = nextNodeId(source);
  }

  /** The current name of a value of the source graph. */
  map(r: ValueRef): ValueRef {
    return this.subst.get(key(r)) ?? r;
  }

  /** From now on, `from` (a source value) means `to`. */
  alias(from: ValueRef, to: ValueRef): void {
    this.subst.set(key(from), to);
  }

  typeOf(r: ValueRef): TensorType {
    const t = this.types.get(r.node)?.[r.output];
    if (t === undefined) throw new Error(`value %${r.node}#${r.output} is not defined in the rewritten graph`);
    return t;
  }

  /** Re-emits a source node with its inputs renamed (the same object when nothing changed). */
  keep(n: Node): Node {
    const inputs = n.inputs.map((r) => this.map(r));
    const same = inputs.every((r, i) => r === n.inputs[i]);
    const node = same ? n : ({ ...n, inputs } as Node);
    this.out.push(node);
    this.types.set(node.id, node.outputs);
    return node;
  }

  /**
   * Re-emits a source node under its own id with new attributes (default: unchanged) and re-inferred types;
   * returns the same object when nothing changed.
   */
  retype(n: Node, attrs: Node['attrs'] = n.attrs): Node {
    const inputs = n.inputs.map((r) => this.map(r));
    let outputs: TensorType[];
    try {
      outputs = inferTypes(n.op, inputs.map((r) => this.typeOf(r)), attrs as never);
    } catch (e) {
      if (e instanceof TypeRuleError) throw new BuildError(`${describeNode(n)}: ${e.message}`);
      throw e;
    }
    const same = attrs === n.attrs && inputs.every((r, i) => r === n.inputs[i]) && outputs.every((t, i) => typeEq(t, n.outputs[i] ?? t) && n.outputs[i] !== undefined);
    const node = same ? n : ({ ...n, inputs, attrs, outputs } as Node);
    this.out.push(node);
    this.types.set(node.id, node.outputs);
    return node;
  }

  /** Appends a new node; its output types come from the op's type rule. */
  emit<K extends OpKind>(op: K, inputs: readonly ValueRef[], attrs: OpAttrs[K], name: string): ValueRef[] {
    let outputs: TensorType[];
    try {
      outputs = inferTypes(op, inputs.map((r) => this.typeOf(r)), attrs);
    } catch (e) {
      if (e instanceof TypeRuleError) throw new BuildError(`rewrite produced an ill-typed ${describeNode({ id: this.nextId, name, op })}: ${e.message}`);
      throw e;
    }
    const id = this.nextId++;
    const node = { id, op, name, inputs: [...inputs], attrs, outputs } as unknown as Node;
    this.out.push(node);
    this.types.set(id, outputs);
    return outputs.map((_, i) => ({ node: id, output: i }));
  }

  emit1<K extends OpKind>(op: K, inputs: readonly ValueRef[], attrs: OpAttrs[K], name: string): ValueRef {
    const [r] = this.emit(op, inputs, attrs, name);
    if (r === undefined) throw new Error(`${op} has no outputs`);
    return r;
  }

  finish(): Graph {
    const outputs = this.source.outputs.map((o) => ({ name: o.name, value: this.map(o.value) }));
    return produce(this.source, (draft) => {
      draft.nodes = this.out as typeof draft.nodes;
      draft.outputs = outputs;
    });
  }
}

/** Rewrites a graph by visiting every node in order; the visitor must keep, replace or alias each node. */
export function rewrite(g: Graph, visit: (n: Node, rw: Rewriter) => void): Graph {
  const rw = new Rewriter(g);
  for (const n of g.nodes) visit(n, rw);
  return rw.finish();
}

/** Applies a graph transformation to every modRoute body (recursively), leaving other nodes alone. */
export function mapRegions(g: Graph, f: (body: Graph) => Graph): Graph {
  if (!g.nodes.some((n) => n.op === 'modRoute')) return g;
  return produce(g, (draft) => {
    g.nodes.forEach((n, i) => {
      if (n.op !== 'modRoute') return;
      const body = f(mapRegions(n.attrs.body, f));
      if (body !== n.attrs.body) draft.nodes[i] = { ...n, attrs: { ...n.attrs, body } } as typeof draft.nodes[number];
    });
  });
}

/** How many times each value is used (by node inputs and graph outputs). */
export function useCounts(g: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const bump = (r: ValueRef): void => {
    uses.set(key(r), (uses.get(key(r)) ?? 0) + 1);
  };
  for (const n of g.nodes) n.inputs.forEach(bump);
  for (const o of g.outputs) bump(o.value);
  return uses;
}

export const refKey = key;
