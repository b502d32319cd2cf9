/**
 * Whether the CUDA toolkit's ptxas / nvcc are here: tests that need them print one line and skip where they are
 * missing, and fail instead when MODC_REQUIRE_PTXAS=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { ptxasAvailable } from '../../../src/backends/cuda-ptx/ptxas.js';

export const requirePtxas = process.env.MODC_REQUIRE_PTXAS === '1';

/** undefined when the tool runs, else why not (after printing the one skip line, or throwing under the flag). */
export function missingTool(tool: 'ptxas' | 'nvcc', suite: string): string | undefined {
  let why: string | undefined;
  if (tool === 'ptxas') {
    const ok = ptxasAvailable();
    why = ok === true ? undefined : ok;
  } else {
    const r = spawnSync('nvcc', ['--version'], { encoding: 'utf8' });
    why = r.error ? `nvcc is not on the PATH (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})` : r.status === 0 ? undefined : `nvcc --version exited with ${r.status}`;
  }
  if (why === undefined) return undefined;
  if (requirePtxas) throw new Error(`${suite}: ${why} (MODC_REQUIRE_PTXAS=1 requires it)`);
  process.stdout.write(`skipping ${suite}: ${why}\n`);
  return why;
}
