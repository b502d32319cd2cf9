// A user-written pass: remove double negations, neg(neg(x)) -> x, then property-test it with modc/testing.
import type { Graph } from 'modc';
import { type Pass, rewrite } from 'modc/passes';
import { checkPass } from 'modc/testing';

export const dropDoubleNegation: Pass = {
  name: 'drop-double-negation',
  description: 'neg(neg(x)) -> x',
  run: (g: Graph): Graph => {
    const byId = new Map(g.nodes.map((n) => [n.id, n]));
    return rewrite(g, (n, rw) => {
      const inner = n.inputs[0] ? byId.get(n.inputs[0].node) : undefined;
      if (n.op === 'unary' && n.attrs.fn === 'neg' && inner?.op === 'unary' && inner.attrs.fn === 'neg' && inner.inputs[0]) {
        rw.alias({ node: n.id, output: 0 }, rw.map(inner.inputs[0]));
      } else {
        rw.keep(n);
      }
    });
  },
};

// Throws a PassCheckError with a shrunk counterexample (printed as IR) if the pass changes any output, and if it
// rewrote none of the graphs (a property over graphs a pass leaves alone proves nothing).
const report = checkPass(dropDoubleNegation, { numRuns: 300 });
console.log(`drop-double-negation preserves the interpreter results on ${report.runs} random graphs (it rewrote ${report.changed})`);
