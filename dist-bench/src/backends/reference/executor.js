import { interpret } from './interpreter.js';
export function referenceExecutor() {
    return {
        name: 'reference',
        prepare: (graph, weights) => Promise.resolve({
            graph,
            run: (inputs, symbols) => Promise.resolve(interpret(graph, inputs, { weights, ...(symbols ? { symbols } : {}) })),
            dispose: () => undefined,
        }),
        dispose: () => Promise.resolve(),
    };
}
