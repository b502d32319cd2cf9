/**
 * The reference interpreter behind the executor contract: no preparation, every run interprets the graph.
 * State tensors are host tensors, replaced by the outputs of the same name after each run.
 */
import { ExecutionError, type Graph, type HostTensor, makeTensor, type TensorStore } from '../../ir/index.js';
import type { Executor, ExecutorState, PreparedGraph, StateTensorSpec } from '../../runtime/executor.js';
import { interpret } from './interpreter.js';

class HostState implements ExecutorState {
  readonly tensors: Map<string, HostTensor>;
  constructor(readonly specs: readonly StateTensorSpec[]) {
    this.tensors = new Map(specs.map((s) => [s.name, makeTensor(s.dtype, s.shape)]));
  }
  read(name: string): Promise<HostTensor> {
    const t = this.tensors.get(name);
    return t === undefined ? Promise.reject(new ExecutionError(`no state tensor '${name}'`)) : Promise.resolve(t);
  }
  dispose(): void {
    this.tensors.clear();
  }
}

export function referenceExecutor(): Executor {
  return {
    name: 'reference',
    prepare: (graph: Graph, weights: TensorStore): Promise<PreparedGraph> =>
      Promise.resolve({
        graph,
        // Errors come back as a rejected promise, as from any other backend.
        run: (inputs, symbols, state) => {
          try {
            if (state !== undefined && !(state instanceof HostState)) throw new ExecutionError('reference backend: the state was created by another executor');
            const all = state ? { ...inputs, ...Object.fromEntries(state.tensors) } : inputs;
            const out = interpret(graph, all, { weights, ...(symbols ? { symbols } : {}) });
            if (state === undefined) return Promise.resolve(out);
            const rest: Record<string, HostTensor> = {};
            for (const [name, t] of Object.entries(out)) {
              if (state.tensors.has(name)) state.tensors.set(name, t);
              else rest[name] = t;
            }
            return Promise.resolve(rest);
          } catch (e) {
            return Promise.reject(e);
          }
        },
        dispose: () => undefined,
      }),
    createState: (specs) => Promise.resolve(new HostState(specs)),
    dispose: () => Promise.resolve(),
  };
}
