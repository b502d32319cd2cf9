/** The backends `modc run --backend` can use, by name. Each backend registers one factory here. */
import { referenceExecutor } from '../backends/reference/index.js';
import { wasmExecutor } from '../backends/wasm/index.js';
import type { Executor } from '../runtime/executor.js';

export const BACKEND_FACTORIES: Readonly<Record<string, () => Promise<Executor>>> = {
  reference: () => Promise.resolve(referenceExecutor()),
  wasm: () => Promise.resolve(wasmExecutor()),
};

export const BACKEND_NAMES = Object.keys(BACKEND_FACTORIES);

export async function createExecutor(name: string): Promise<Executor> {
  const f = BACKEND_FACTORIES[name];
  if (f === undefined) throw new Error(`unknown backend '${name}' (available: ${BACKEND_NAMES.join(', ')})`);
  return f();
}
