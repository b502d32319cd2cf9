/**
 * Binding a graph's symbols from the shapes of its inputs (every backend does this before running a graph):
 * dims linear in one unbound symbol are solved, repeatedly (input_ids [T + N_v] binds T once N_v is known),
 * then every input's dtype, rank and dims and every symbol's bounds are checked.
 */
import { ExecutionError } from './errors.js';
import { type Graph, graphInputs } from './graph.js';
import { type Dim, dimSymbols, dimText, evalDim, shapeText, substDim, type SymEnv } from './sym.js';
import type { HostTensor } from './tensor.js';

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

function solveLinear(d: Dim, actual: number): { name: string; value: number } | undefined {
  if (typeof d === 'number') return undefined;
  if (d.k === 'sym') return { name: d.name, value: actual };
  const term = d.k === 'lin' && d.terms.length === 1 ? d.terms[0] : undefined;
  if (term === undefined || term.atom.k !== 'sym') return undefined;
  return { name: term.atom.name, value: (actual - (d.k === 'lin' ? d.c : 0)) / term.coeff };
}

export function bindInputSymbols(g: Graph, inputs: Readonly<Record<string, HostTensor>>, given: Readonly<Record<string, number>> = {}): SymEnv {
  const env: Record<string, number> = { ...given };
  const ins = graphInputs(g);
  for (const n of ins) {
    const t = inputs[n.attrs.name];
    if (t === undefined) throw new ExecutionError(`missing input '${n.attrs.name}' (${n.attrs.dtype}${shapeText(n.attrs.shape)}) of graph '${g.name}'`);
    if (t.dtype !== n.attrs.dtype) throw new ExecutionError(`input '${n.attrs.name}': expected dtype ${n.attrs.dtype}, got ${t.dtype}`);
    if (t.shape.length !== n.attrs.shape.length) throw new ExecutionError(`input '${n.attrs.name}': expected rank ${n.attrs.shape.length} ${shapeText(n.attrs.shape)}, got ${shapeStr(t.shape)}`);
  }
  for (let progress = true; progress; ) {
    progress = false;
    for (const n of ins) {
      const t = inputs[n.attrs.name];
      n.attrs.shape.forEach((d, i) => {
        const solved = solveLinear(substDim(d, env), t?.shape[i] ?? 0);
        if (solved && env[solved.name] === undefined) {
          if (!Number.isInteger(solved.value)) throw new ExecutionError(`input '${n.attrs.name}': dim ${i} is ${t?.shape[i]}, which ${dimText(d)} cannot equal`);
          env[solved.name] = solved.value;
          progress = true;
        }
      });
    }
  }
  const decls = new Map(g.symbols.map((s) => [s.name, s]));
  for (const [name, v] of Object.entries(env)) {
    const decl = decls.get(name);
    if (decl === undefined) throw new ExecutionError(`symbol '${name}' is not declared by graph '${g.name}'`);
    if (!Number.isInteger(v) || v < decl.min || v > decl.max) throw new ExecutionError(`symbol ${name} = ${v} is outside its bounds [${decl.min}, ${decl.max}]`);
  }
  for (const n of ins) {
    const t = inputs[n.attrs.name];
    n.attrs.shape.forEach((d, i) => {
      const missing = [...dimSymbols(d)].filter((s) => env[s] === undefined);
      if (missing.length) throw new ExecutionError(`input '${n.attrs.name}' dim ${i} (${dimText(d)}) needs symbol ${missing.join(', ')}: bind it in symbols`);
      const want = evalDim(d, env);
      if (t && t.shape[i] !== want) throw new ExecutionError(`input '${n.attrs.name}': dim ${i} is ${t.shape[i]}, but ${dimText(d)} = ${want}`);
    });
  }
  return env;
}
