/**
 * Constant folding and algebraic simplification: elementwise ops on constants become constants, identities
 * (x + 0, x * 1, x - 0, x / 1, same-shape reshape, identity transpose, where on a constant condition) disappear,
 * and chains of reshapes or transposes collapse. A rewrite applies only when the result has exactly the type of
 * the value it replaces.
 */
import { type Graph, type Node, type NodeOf, shapeEq, type TensorType, typeEq, type ValueRef } from '../ir/index.js';
import { BINARY, COMPARE, floatToInt, UNARY } from '../ir/index.js';
import type { Pass } from './pass.js';
import { mapRegions, type Rewriter, rewrite } from './rewrite.js';

type Full = NodeOf<'full'>;

function castValue(v: number, to: TensorType['dtype']): number {
  if (to === 'bool') return v !== 0 ? 1 : 0;
  if (to === 'i32' || to === 'u32') return floatToInt(v, to === 'u32');
  return v;
}

/** The value of a constant-fold of n, when every input is a `full`. */
function foldedValue(n: Node, ins: readonly Full[]): number | undefined {
  const v = ins.map((f) => f.attrs.value);
  switch (n.op) {
    case 'unary':
      return UNARY[n.attrs.fn](v[0] ?? 0);
    case 'binary':
      return n.outputs[0]?.dtype === 'f32' || n.outputs[0]?.dtype === 'f16' || n.outputs[0]?.dtype === 'bf16' ? BINARY[n.attrs.fn](v[0] ?? 0, v[1] ?? 0) : undefined;
    case 'compare':
      return COMPARE[n.attrs.fn](v[0] ?? 0, v[1] ?? 0) ? 1 : 0;
    case 'cast':
      return castValue(v[0] ?? 0, n.attrs.to);
    case 'reshape':
    case 'transpose':
      return v[0];
    default:
      return undefined;
  }
}

const isFullOf = (n: Node | undefined, value: number): boolean => n?.op === 'full' && n.attrs.value === value;

export function foldConstants(g: Graph): Graph {
  const byId = new Map<number, Node>();
  const simplify = (n: Node, rw: Rewriter): ValueRef | undefined => {
    const ins = n.inputs.map((r) => byId.get(rw.map(r).node));
    const out = n.outputs[0];
    if (out === undefined || n.outputs.length !== 1) return undefined;
    const fits = (r: ValueRef): ValueRef | undefined => (typeEq(rw.typeOf(r), out) ? r : undefined);
    const [a, b] = [n.inputs[0], n.inputs[1]].map((r) => (r ? rw.map(r) : undefined));
    if (ins.length > 0 && ins.every((x) => x?.op === 'full')) {
      const v = foldedValue(n, ins as Full[]);
      if (v !== undefined) return rw.emit1('full', [], { value: v, dtype: out.dtype, shape: out.shape }, n.name);
    }
    switch (n.op) {
      case 'binary': {
        const [fa, fb] = ins;
        if (a && b) {
          if ((n.attrs.fn === 'add' || n.attrs.fn === 'sub') && isFullOf(fb, 0)) return fits(a);
          if (n.attrs.fn === 'add' && isFullOf(fa, 0)) return fits(b);
          if ((n.attrs.fn === 'mul' || n.attrs.fn === 'div') && isFullOf(fb, 1)) return fits(a);
          if (n.attrs.fn === 'mul' && isFullOf(fa, 1)) return fits(b);
        }
        return undefined;
      }
      case 'where': {
        const c = ins[0];
        const [x, y] = [n.inputs[1], n.inputs[2]].map((r) => (r ? rw.map(r) : undefined));
        if (c?.op === 'full' && x && y) return fits(c.attrs.value !== 0 ? x : y);
        return undefined;
      }
      case 'cast':
        return a && rw.typeOf(a).dtype === n.attrs.to ? fits(a) : undefined;
      case 'reshape': {
        if (!a) return undefined;
        if (shapeEq(rw.typeOf(a).shape, n.attrs.shape)) return fits(a);
        const src = ins[0];
        if (src?.op === 'reshape' && src.inputs[0]) return rw.emit1('reshape', [src.inputs[0]], n.attrs, n.name);
        return undefined;
      }
      case 'transpose': {
        if (!a) return undefined;
        if (n.attrs.perm.every((p, i) => p === i)) return fits(a);
        const src = ins[0];
        if (src?.op === 'transpose' && src.inputs[0]) {
          const inner = src.attrs.perm;
          const perm = n.attrs.perm.map((p) => inner[p] ?? p);
          return perm.every((p, i) => p === i) ? fits(src.inputs[0]) : rw.emit1('transpose', [src.inputs[0]], { perm }, n.name);
        }
        return undefined;
      }
      default:
        return undefined;
    }
  };
  const folded = rewrite(g, (n, rw) => {
    const r = simplify(n, rw);
    if (r !== undefined) {
      rw.alias({ node: n.id, output: 0 }, r);
      const def = rw.out.find((x) => x.id === r.node);
      if (def) byId.set(def.id, def);
      return;
    }
    const kept = rw.keep(n);
    byId.set(kept.id, kept);
  });
  return mapRegions(folded, foldConstants);
}

export const foldPass: Pass = { name: 'fold-constants', description: 'fold constants and remove algebraic identities', run: foldConstants };
