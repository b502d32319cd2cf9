/**
 * The workloads of the WebGL benchmark, shared by the page (webgl, webgpu) and the Node driver (wasm): an f32
 * linear layer y = x @ W^T of size m x k x n through the program runner (input written, output read back: what
 * a page pays end to end), and tiny p-MoD prefill. Same graphs, same seeded data on every backend.
 */
import { randomLlavaInputs } from '../models/inputs.js';
import { buildLanguageModel } from '../models/llama.js';
import { TINY_PMOD } from '../models/zoo.js';
import { buildGraph, type Graph, type HostTensor, makeTensor, MapStore, type TensorStore } from '../src/ir/index.js';
import { medianMs } from '../src/cli/bench-util.js';
import type { Executor } from '../src/runtime/executor.js';
import { randomWeights } from '../src/runtime/random.js';

export const MATMUL = { m: 512, k: 512, n: 512 } as const;
export const PREFILL = { text: 32, vision: 96, seed: 5 } as const;

export interface Workload {
  readonly name: string;
  readonly graph: Graph;
  readonly weights: TensorStore;
  readonly inputs: Readonly<Record<string, HostTensor>>;
  /** Floating-point operations of one run (for GFLOP/s), when meaningful. */
  readonly flop?: number;
}

function seeded(n: number, seed: number): number[] {
  let x = seed >>> 0;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32 - 0.5;
  });
}

export function workloads(): Workload[] {
  const { m, k, n } = MATMUL;
  const graph = buildGraph('bench_matmul', {}, (b) => b.output('y', b.linear(b.input('x', 'f32', [m, k]), b.weight('w', 'f32', [n, k]))));
  const matmul: Workload = {
    name: `f32 matmul ${m}x${k}x${n}`,
    graph,
    weights: new MapStore([['w', makeTensor('f32', [n, k], seeded(n * k, 2))]]),
    inputs: { x: makeTensor('f32', [m, k], seeded(m * k, 1)) },
    flop: 2 * m * k * n,
  };
  const prefillGraph = buildLanguageModel(TINY_PMOD, {});
  const prefill: Workload = {
    name: `tiny p-MoD prefill (${PREFILL.text} text + ${PREFILL.vision} vision tokens)`,
    graph: prefillGraph,
    weights: randomWeights(prefillGraph, PREFILL.seed),
    inputs: randomLlavaInputs(TINY_PMOD, PREFILL.text, PREFILL.vision, PREFILL.seed),
  };
  return [matmul, prefill];
}

export interface Measured {
  readonly workload: string;
  readonly backend: string;
  readonly device: string;
  /** Median of the repeats (after one warm-up run that also compiles), ms. */
  readonly medianMs: number;
  readonly repeats: number;
  readonly gflops?: number;
  /** The first output's first values (a cross-backend sanity check). */
  readonly head: readonly number[];
}

/** Runs each workload `repeat` times (after a warm-up) on one executor. */
export async function measure(exec: Executor, backend: string, device: string, repeat: number, only?: readonly string[]): Promise<Measured[]> {
  const out: Measured[] = [];
  for (const w of workloads()) {
    if (only !== undefined && !only.some((o) => w.name.startsWith(o))) continue;
    const prepared = await exec.prepare(w.graph, w.weights);
    let head: number[] = [];
    const ms = await medianMs(async () => {
      const res = await prepared.run(w.inputs);
      const first = Object.values(res)[0];
      head = Array.from(first?.data.slice(0, 4) ?? []);
    }, repeat);
    prepared.dispose();
    out.push({ workload: w.name, backend, device, medianMs: ms, repeats: repeat, ...(w.flop !== undefined ? { gflops: w.flop / (ms * 1e6) } : {}), head });
  }
  return out;
}
