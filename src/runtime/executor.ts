/**
 * The backend-neutral executor contract. A backend prepares (compiles, uploads weights for) a graph once and then
 * runs it many times; generation sessions, the CLI and the conformance suite only talk to this interface.
 * State tensors (the KV cache) live with the backend between runs: a graph input named like a state tensor
 * reads it, and a graph output of the same name writes it back (in place on devices).
 */
import type { DType, Graph, HostTensor, TensorStore } from '../ir/index.js';

export type TensorMap = Readonly<Record<string, HostTensor>>;

export interface StateTensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** Named tensors resident in a backend (device memory for GPU and Wasm backends), zero-initialised. */
export interface ExecutorState {
  readonly specs: readonly StateTensorSpec[];
  /** A copy of one state tensor on the host (tests, debugging; not on the per-token path). */
  read(name: string): Promise<HostTensor>;
  dispose(): void;
}

export interface PrepareOptions {
  /**
   * Symbols whose values change from run to run without recompiling (cache lengths of decode steps): they are
   * given in `symbols` at each run and become kernel parameters.
   */
  readonly dynamic?: readonly string[];
}

export interface PreparedGraph {
  readonly graph: Graph;
  /**
   * Runs the graph on the inputs (symbols not fixed by input shapes go in `symbols`). Inputs named like a
   * tensor of `state` read it, outputs named like one update it; the other outputs are returned.
   */
  run(inputs: TensorMap, symbols?: Readonly<Record<string, number>>, state?: ExecutorState): Promise<Record<string, HostTensor>>;
  /** Releases device memory held for this graph (weights stay with the executor). */
  dispose(): void;
}

export interface Executor {
  /** Backend name as the CLI spells it: 'reference', 'wasm', 'webgpu', 'cuda'. */
  readonly name: string;
  prepare(graph: Graph, weights: TensorStore, opts?: PrepareOptions): Promise<PreparedGraph>;
  /** Allocates state tensors (zero-filled) on this backend. */
  createState(specs: readonly StateTensorSpec[]): Promise<ExecutorState>;
  dispose(): Promise<void>;
}
