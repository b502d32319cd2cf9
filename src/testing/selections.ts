/**
 * The discrete decisions of a graph: which tokens a router keeps (modRoute, fusedRoute) and which entries a top-k
 * selects. A pass that changes a float by an ulp may flip such a decision where two scores tie or nearly tie,
 * and then every output after it differs. This module exports the decisions and their scores as extra graph
 * outputs, so a property can tell a flip at a near-tie (expected of any rewrite that changes rounding) from a flip
 * with a clear margin (a broken pass).
 */
import type { Graph, GraphOutput, HostTensor, Node, ValueRef } from '../ir/index.js';

/** One decision of the top-level graph: where its selected indices and its scores come from. */
interface Decision {
  readonly node: Node;
  readonly kept: ValueRef;
  /** For a router: x, router weight and bias (the score is x . w + b); for top-k: the scores themselves. */
  readonly inputs: readonly ValueRef[];
}

function decisions(g: Graph): Decision[] {
  const out: Decision[] = [];
  for (const n of g.nodes) {
    const [x, , , w, b] = n.inputs;
    if (n.op === 'modRoute' && x && w && b) out.push({ node: n, kept: { node: n.id, output: 1 }, inputs: [x, w, b] });
    else if (n.op === 'fusedRoute' && x && w && b) out.push({ node: n, kept: { node: n.id, output: 4 }, inputs: [x, w, b] });
    else if (n.op === 'topk' && x) out.push({ node: n, kept: { node: n.id, output: 0 }, inputs: [x] });
  }
  return out;
}

const name = (i: number, what: string): string => `__decision${i}.${what}`;

/** The graph with every top-level decision's selected indices and score inputs added as outputs. */
export function withDecisions(g: Graph): Graph {
  const extra: GraphOutput[] = decisions(g).flatMap((d, i) => [{ name: name(i, 'kept'), value: d.kept }, ...d.inputs.map((v, k) => ({ name: name(i, `in${k}`), value: v }))]);
  return { ...g, outputs: [...g.outputs, ...extra] };
}

/** A decision as one run of the augmented graph made it. */
export interface Made {
  readonly label: string;
  readonly kept: readonly number[];
  /** Score of every candidate index. */
  readonly scores: readonly number[];
}

function scoresOf(kind: Node['op'], inputs: readonly HostTensor[]): number[] {
  const [x, w, b] = inputs;
  if (x === undefined) return [];
  if (kind === 'topk' || w === undefined) return Array.from(x.data);
  const d = x.shape[1] ?? 0;
  const rows = x.shape[0] ?? 0;
  return Array.from({ length: rows }, (_, t) => {
    let z = b?.data[0] ?? 0;
    for (let j = 0; j < d; j++) z += (x.data[t * d + j] ?? 0) * (w.data[j] ?? 0);
    return z;
  });
}

/** The decisions of `g` read back from the outputs of a run of withDecisions(g). */
export function decisionsMade(g: Graph, outputs: Readonly<Record<string, HostTensor>>): Made[] {
  return decisions(g).map((d, i) => {
    const inputs = d.inputs.map((_, k) => outputs[name(i, `in${k}`)]).filter((t): t is HostTensor => t !== undefined);
    return { label: `${d.node.op} %${d.node.id}${d.node.name ? ` (${d.node.name})` : ''}`, kept: Array.from(outputs[name(i, 'kept')]?.data ?? []), scores: scoresOf(d.node.op, inputs) };
  });
}

/** How the decisions of a graph and of its rewrite compare. */
export type DecisionChange = { readonly kind: 'same' } | { readonly kind: 'near-tie'; readonly detail: string } | { readonly kind: 'clear'; readonly detail: string } | { readonly kind: 'incomparable' };

/**
 * Compares decisions made before and after a pass. A decision that selects other indices is a near-tie when every
 * index that came in or went out has a score within tolerance of the boundary score (the lowest kept one), both in
 * the run before the pass and in the run after it; otherwise the flip has a clear margin. Decisions that cannot
 * be paired (a different number of them) are incomparable.
 */
export function compareDecisions(before: readonly Made[], after: readonly Made[], tol: { rtol: number; atol: number }): DecisionChange {
  if (before.length !== after.length) return { kind: 'incomparable' };
  const nearTies: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const [b, a] = [before[i], after[i]];
    if (b === undefined || a === undefined) return { kind: 'incomparable' };
    const kb = new Set(b.kept);
    const ka = new Set(a.kept);
    const moved = [...b.kept.filter((t) => !ka.has(t)), ...a.kept.filter((t) => !kb.has(t))];
    if (moved.length === 0) continue;
    let widest = 0;
    for (const [run, m] of [['before', b], ['after', a]] as const) {
      const boundary = Math.min(...m.kept.map((t) => m.scores[t] ?? Number.NaN));
      for (const t of moved) {
        const score = m.scores[t] ?? Number.NaN;
        const margin = Math.abs(score - boundary);
        const allowed = tol.atol + tol.rtol * Math.max(Math.abs(score), Math.abs(boundary));
        if (!(margin <= allowed))
          return { kind: 'clear', detail: `${b.label} selects index ${t} ${kb.has(t) ? 'before the pass only' : 'after the pass only'}: ${run} the pass its score ${score} is ${margin} from the boundary score ${boundary} (tolerance ${allowed})` };
        widest = Math.max(widest, margin);
      }
    }
    nearTies.push(`${b.label}: indices ${moved.join(', ')} within ${widest} of the boundary score`);
  }
  return nearTies.length ? { kind: 'near-tie', detail: nearTies.join('; ') } : { kind: 'same' };
}
