/**
 * The backend-neutral executor contract. A backend prepares (compiles, uploads weights for) a graph once and then
 * runs it many times; generation sessions, the CLI and the conformance suite only talk to this interface.
 */
import type { Graph, HostTensor, TensorStore } from '../ir/index.js';

export type TensorMap = Readonly<Record<string, HostTensor>>;

export interface PreparedGraph {
  readonly graph: Graph;
  /** Runs the graph on the inputs (symbols not fixed by input shapes go in `symbols`); returns named outputs. */
  run(inputs: TensorMap, symbols?: Readonly<Record<string, number>>): Promise<Record<string, HostTensor>>;
  /** Releases device memory held for this graph (weights stay with the executor). */
  dispose(): void;
}

export interface Executor {
  /** Backend name as the CLI spells it: 'reference', 'wasm', 'webgpu', 'cuda'. */
  readonly name: string;
  prepare(graph: Graph, weights: TensorStore): Promise<PreparedGraph>;
  dispose(): Promise<void>;
}
