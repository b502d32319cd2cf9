/**
 * The one registry of backends: the CLI, the conformance suite and the benchmarks iterate it. An entry says what
 * the backend is, whether it can run on this machine (and if not, what is missing), how to make its executor,
 * and its compile Target. Adding a backend is one entry here.
 */
import type { Target } from '../kernel/target.js';
import type { Executor } from '../runtime/executor.js';
import { referenceExecutor } from './reference/index.js';
import { wasmExecutor, wasmTarget } from './wasm/index.js';

export interface BackendOptions {
  /** Host threads (CPU backends). */
  readonly threads?: number;
}

export interface BackendInfo {
  readonly name: string;
  readonly description: string;
  /** Why the backend cannot run on this machine (a missing adapter or driver), or undefined when it can. */
  readonly unavailable: () => Promise<string | undefined>;
  readonly create: (opts?: BackendOptions) => Promise<Executor>;
  /** The Target the backend compiles for here; undefined for the interpreter. */
  readonly target?: (opts?: BackendOptions) => Promise<Target>;
}

export const BACKENDS: readonly BackendInfo[] = [
  {
    name: 'reference',
    description: 'the reference interpreter of the Graph IR (the oracle; slow)',
    unavailable: () => Promise.resolve(undefined),
    create: () => Promise.resolve(referenceExecutor()),
  },
  {
    name: 'wasm',
    description: 'WebAssembly SIMD128 on a worker pool (the default)',
    unavailable: () => Promise.resolve(undefined),
    create: (o) => Promise.resolve(wasmExecutor(o?.threads !== undefined ? { threads: o.threads } : {})),
    target: (o) => Promise.resolve(wasmTarget({ threads: o?.threads ?? 1 })),
  },
];

export const BACKEND_NAMES = BACKENDS.map((b) => b.name);

export function backendInfo(name: string): BackendInfo {
  const b = BACKENDS.find((x) => x.name === name);
  if (b === undefined) throw new Error(`unknown backend '${name}' (this build has: ${BACKEND_NAMES.join(', ')})`);
  return b;
}

/** The executor of a backend, or an error saying what this machine lacks for it. */
export async function createExecutor(name: string, opts?: BackendOptions): Promise<Executor> {
  const b = backendInfo(name);
  const missing = await b.unavailable();
  if (missing !== undefined) throw new Error(`backend '${name}' cannot run here: ${missing}`);
  return b.create(opts);
}
