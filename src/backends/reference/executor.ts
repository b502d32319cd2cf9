/** The reference interpreter behind the executor contract: no preparation, every run interprets the graph. */
import type { Graph, TensorStore } from '../../ir/index.js';
import type { Executor, PreparedGraph } from '../../runtime/executor.js';
import { interpret } from './interpreter.js';

export function referenceExecutor(): Executor {
  return {
    name: 'reference',
    prepare: (graph: Graph, weights: TensorStore): Promise<PreparedGraph> =>
      Promise.resolve({
        graph,
        run: (inputs, symbols) => Promise.resolve(interpret(graph, inputs, { weights, ...(symbols ? { symbols } : {}) })),
        dispose: () => undefined,
      }),
    dispose: () => Promise.resolve(),
  };
}
