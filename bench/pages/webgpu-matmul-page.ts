/**
 * The page of the Chromium WebGPU matmul benchmark: f32 C = A @ W^T on the page's adapter, modc (the graph
 * compiled for the adapter's Target and run by the program runner) and onnxruntime-web's WebGPU execution
 * provider (a MatMul model with W as an initializer) alternating, each run timed end to end (inputs written,
 * outputs read back), medians of repeats. The results go to globalThis.__modcBench as JSON.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { buildGraph, makeTensor, MapStore } from '../../src/ir/index.js';
import { openBrowserDevice } from '../../src/backends/webgpu/browser.js';
import { DeviceExecutor } from '../../src/runtime/device-executor.js';
import { onnxModel } from '../onnx-writer.js';

interface Engine {
  readonly name: string;
  readonly run: () => Promise<void>;
}

const g = globalThis as unknown as { __modcBench?: string; __modcArgs?: { m: number; k: number; n: number; repeat: number } };

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const { m, k, n, repeat } = g.__modcArgs ?? { m: 512, k: 512, n: 512, repeat: 5 };
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i) * 0.5);
  const w = Float32Array.from({ length: n * k }, (_, i) => Math.cos(i) * 0.05);
  // modc: y = x @ W^T with W [n, k] a weight.
  const graph = buildGraph('matmul', {}, (b) => b.output('y', b.linear(b.input('x', 'f32', [m, k]), b.weight('w', 'f32', [n, k]))));
  const device = await openBrowserDevice();
  const exec = new DeviceExecutor('webgpu', device);
  const prepared = await exec.prepare(graph, new MapStore([['w', makeTensor('f32', [n, k], w)]]));
  const x = { x: makeTensor('f32', [m, k], a) };
  // onnxruntime-web: C = A @ B with B = W^T [k, n] as an initializer.
  const bKN = new Float32Array(k * n);
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bKN[p * n + j] = w[j * k + p] ?? 0;
  ort.env.wasm.wasmPaths = '/ort/';
  const model = onnxModel({ name: 'matmul', nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }], initializers: [{ name: 'b', dims: [k, n], type: 1, data: bKN }], inputs: [{ name: 'a', dims: [m, k] }], outputs: [{ name: 'c', dims: [m, n] }] });
  let ortEngine: Engine | { readonly name: string; readonly unavailable: string };
  try {
    const session = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
    const feeds = { a: new ort.Tensor('float32', a, [m, k]) };
    ortEngine = { name: 'onnxruntime-web (webgpu EP)', run: async () => void (await session.run(feeds)) };
  } catch (e) {
    ortEngine = { name: 'onnxruntime-web (webgpu EP)', unavailable: e instanceof Error ? e.message : String(e) };
  }
  const engines: Engine[] = [{ name: 'modc (webgpu)', run: async () => void (await prepared.run(x)) }];
  if ('run' in ortEngine) engines.push(ortEngine);
  const times = new Map<string, number[]>(engines.map((e) => [e.name, []]));
  for (const e of engines) await e.run(); // compile pipelines, first uploads
  for (let r = 0; r < repeat; r++)
    for (const e of engines) {
      const t0 = performance.now();
      await e.run();
      times.get(e.name)?.push(performance.now() - t0);
    }
  const flops = 2 * m * k * n;
  const results = engines.map((e) => {
    const ts = times.get(e.name) ?? [];
    return { engine: e.name, ms: median(ts), min: Math.min(...ts), max: Math.max(...ts), gflops: flops / median(ts) / 1e6 };
  });
  g.__modcBench = JSON.stringify({ adapter: device.target.device, m, k, n, repeat, results, ...('unavailable' in ortEngine ? { unavailable: { [ortEngine.name]: ortEngine.unavailable } } : {}) });
}

main().catch((e: unknown) => {
  g.__modcBench = JSON.stringify({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
});
