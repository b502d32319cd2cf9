/**
 * Peak memory of running a checkpoint on the Wasm backend: the process's maximum resident set against the
 * weights in their stored dtype plus what the device holds besides them (activation slots, KV cache, inputs),
 * after a prefill and a few decode steps, as `modc run --checkpoint --inputs` does.
 *
 *   npm run build && node dist/bench/run-memory.js write /tmp/modc-run-mem     # bf16 Llama, ~390 MB of weights
 *   node dist/bench/run-memory.js run /tmp/modc-run-mem                        # a fresh process per measurement
 */
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { openCheckpoint } from '../models/index.js';
import { wasmExecutor } from '../src/backends/wasm/index.js';
import { GenerationSession } from '../src/runtime/session.js';
import { Sampler } from '../src/runtime/sampling.js';
import { writeCheckpoint } from '../scripts/make-checkpoint.js';

const MB = 1024 * 1024;
const [mode, dir, layersArg] = process.argv.slice(2);
if (dir === undefined || (mode !== 'write' && mode !== 'run')) {
  process.stderr.write('usage: run-memory.js write|run DIR [layers]\n');
  process.exit(2);
}
if (mode === 'write') {
  const layers = Number(layersArg ?? 14);
  const w = writeCheckpoint(dir, { kind: 'llama', dtype: 'bf16', hiddenSize: 1024, intermediateSize: 2816, numLayers: layers, vocabSize: 8192, shards: 2, tokenizer: false });
  process.stdout.write(`wrote ${w.tensors.size} tensors to ${dir}: ${w.files.join(', ')}\n`);
} else {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const ck = openCheckpoint(join(dir));
  const exec = wasmExecutor({ threads: 2 });
  const session = await GenerationSession.create(exec, ck, ck.weights);
  const ids = Int32Array.from({ length: 64 }, (_, i) => 1 + ((i * 37) % 8000));
  const r = await session.generate({ input_ids: { dtype: 'i32', shape: [ids.length], data: ids } }, { maxNewTokens: 8, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
  const ms = performance.now() - t0;
  const device = exec.device.peakBytesInUse;
  const weights = ck.plan.storedBytes;
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const heap = getHeapStatistics();
  const young = getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.physical_space_size ?? 0;
  session.dispose();
  ck.close();
  await exec.dispose();
  const lines = [
    `weights (stored dtype ${ck.weightDtype}): ${(weights / MB).toFixed(1)} MB; device memory at its peak ${(device / MB).toFixed(1)} MB`,
    `  of which besides the weights (activations, KV cache, inputs): ${((device - weights) / MB).toFixed(1)} MB`,
    `RSS before opening ${(rss0 / MB).toFixed(1)} MB; max RSS ${(maxRss / MB).toFixed(1)} MB = ${(maxRss / device).toFixed(2)}x the device's weights + activations` +
      ` (${((maxRss - rss0) / device).toFixed(2)}x counting from the RSS before opening)`,
    `  JS heap at the end ${(heap.total_physical_size / MB).toFixed(1)} MB resident (young generation ${(young / MB).toFixed(1)} MB), array buffers outside wasm memory ${(process.memoryUsage().arrayBuffers / MB).toFixed(1)} MB`,
    `generated ${r.tokens.length} tokens in ${ms.toFixed(0)} ms (open, upload, prefill of ${ids.length} tokens, decode)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
