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
        // Errors come back as a rejected promise, as from any other backend.
        run: (inputs, symbols) => {
          try {
            return Promise.resolve(interpret(graph, inputs, { weights, ...(symbols ? { symbols } : {}) }));
          } catch (e) {
            return Promise.reject(e);
          }
        },
        dispose: () => undefined,
      }),
    dispose: () => Promise.resolve(),
  };
}
