/**
 * Measures the memory of loading a checkpoint: peak ArrayBuffer bytes during the load (sampled after every tensor)
 * against the converted weights plus the largest raw tensor, and the process's maximum resident set.
 *
 *   npm run build && node dist/bench/load-memory.js write /tmp/modc-mem   # a bf16 fixture (~130 MB on disk)
 *   node --expose-gc dist/bench/load-memory.js load /tmp/modc-mem         # a fresh process; gc() before measuring
 */
import { openCheckpoint } from '../models/index.js';
import { SafetensorsStore, ST_DTYPE_BYTES } from '../src/index.js';
import { writeCheckpoint } from '../scripts/make-checkpoint.js';

const MB = 1024 * 1024;
const [mode, dir] = process.argv.slice(2);
if (dir === undefined || (mode !== 'write' && mode !== 'load')) {
  process.stderr.write('usage: load-memory.js write|load DIR\n');
  process.exit(2);
}
if (mode === 'write') {
  const w = writeCheckpoint(dir, { kind: 'llama', dtype: 'bf16', hiddenSize: 1024, intermediateSize: 2752, numLayers: 4, vocabSize: 8192, shards: 2, tokenizer: false });
  process.stdout.write(`wrote ${w.tensors.size} tensors to ${dir}: ${w.files.join(', ')}\n`);
} else {
  const store = SafetensorsStore.fromDir(dir);
  const raw = store.names().map((n) => {
    const i = store.info(n);
    return i.shape.reduce((a, b) => a * b, 1) * ST_DTYPE_BYTES[i.stDtype];
  });
  store.close();
  const stored = raw.reduce((a, b) => a + b, 0);
  const largest = Math.max(...raw);
  // Collect the header reads above first, so the baseline is not lowered by garbage collected during the load.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const rssBefore = process.memoryUsage().rss;
  const before = process.memoryUsage().arrayBuffers;
  let peak = 0;
  const t0 = performance.now();
  const ck = openCheckpoint(dir, {
    progress: () => ({ update: () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)), finish: () => undefined }),
  });
  // The store reads a weight when it is asked for it (a backend's upload): read each once, converted, and keep
  // them, as an eager loader would.
  const held = ck.weights.names().map((n) => ck.weights.get(n));
  const ms = performance.now() - t0;
  const converted = held.reduce((a, t) => a + t.data.byteLength, 0);
  const after = process.memoryUsage().arrayBuffers - before;
  const lines = [
    `tensors on disk:           ${(stored / MB).toFixed(1)} MB (largest ${(largest / MB).toFixed(1)} MB)`,
    `converted weights (f32):   ${(converted / MB).toFixed(1)} MB`,
    `bound: converted + largest ${((converted + largest) / MB).toFixed(1)} MB`,
    `peak ArrayBuffers in load: ${(peak / MB).toFixed(1)} MB (after load ${(after / MB).toFixed(1)} MB)`,
    `RSS before load ${(rssBefore / MB).toFixed(1)} MB, max RSS of the process ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MB`,
    `load time ${ms.toFixed(0)} ms (${(stored / MB / (ms / 1000)).toFixed(0)} MB/s)${gc ? '' : ' (run with --expose-gc for a clean baseline)'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  ck.close();
}
