/**
 * WebAssembly peers for the matmul benchmark: onnxruntime-web (wasm EP), @tensorflow/tfjs-backend-wasm and
 * @jax-js/jax (wasm device). Each adapter prepares C = A @ B for one shape and thread count and returns a
 * runner, or throws with the reason it cannot run here (the bench prints that reason, never a number).
 * The peers are devDependencies, loaded dynamically so the CLI works without them.
 */
import { Worker as NodeWorker } from 'node:worker_threads';
import { onnxModel } from './onnx-writer.js';

export interface PeerRunner {
  run(): Promise<void>;
  dispose(): Promise<void>;
}

export interface MatmulPeer {
  readonly engine: string;
  /** Thread counts the peer can honour under Node (others are reported unavailable with the reason). */
  readonly threads: (t: number) => string | undefined;
  prepare(m: number, k: number, n: number, threads: number, a: Float32Array, b: Float32Array): Promise<PeerRunner>;
}

/** Module specifiers held in variables: the peers are optional at type-check and run time. */
async function load<T>(specifier: string): Promise<T> {
  return (await import(specifier)) as T;
}

interface OrtModule {
  env: { wasm: { numThreads: number; simd?: boolean } };
  InferenceSession: { create(model: Uint8Array, opts: { executionProviders: string[] }): Promise<OrtSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}
interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<unknown>;
  release(): Promise<void>;
}

let ortThreads: number | undefined;

export const ORT: MatmulPeer = {
  engine: 'onnxruntime-web',
  // onnxruntime-web fixes its thread count when it first initialises its wasm module in a process.
  threads: (t) => (ortThreads !== undefined && ortThreads !== t ? `onnxruntime-web was initialised with ${ortThreads} threads in this process` : undefined),
  async prepare(m, k, n, threads, a, b) {
    const ort = await load<OrtModule>('onnxruntime-web');
    ort.env.wasm.numThreads = threads;
    ortThreads = threads;
    const model = onnxModel({
      name: 'matmul',
      nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
      initializers: [{ name: 'b', dims: [k, n], type: 1, data: b }],
      inputs: [{ name: 'a', dims: [m, k] }],
      outputs: [{ name: 'c', dims: [m, n] }],
    });
    const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
    const feeds = { a: new ort.Tensor('float32', a, [m, k]) };
    return { run: async () => void (await session.run(feeds)), dispose: () => session.release() };
  },
};

interface TfModule {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  tensor2d(data: Float32Array, shape: [number, number]): TfTensor;
  matMul(a: TfTensor, b: TfTensor): TfTensor;
}
interface TfTensor {
  data(): Promise<unknown>;
  dispose(): void;
}

export const TFJS: MatmulPeer = {
  engine: 'tfjs-wasm',
  threads: (t) => (t === 1 ? undefined : 'tfjs-backend-wasm runs single-threaded under Node (its threaded build needs a browser)'),
  async prepare(m, k, n, _threads, a, b) {
    const tf = await load<TfModule>('@tensorflow/tfjs-core');
    await load('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
    await tf.ready();
    const ta = tf.tensor2d(a, [m, k]);
    const tb = tf.tensor2d(b, [k, n]);
    return {
      run: async () => {
        const c = tf.matMul(ta, tb);
        await c.data();
        c.dispose();
      },
      dispose: () => {
        ta.dispose();
        tb.dispose();
        return Promise.resolve();
      },
    };
  },
};

/**
 * A minimal Web Worker on top of worker_threads, enough for jax-js's wasm worker pool: its worker source is a
 * Blob URL, `self.onmessage` / `postMessage` inside, `onmessage` / `onerror` / `postMessage` outside.
 */
function installWebWorkerShim(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  if (g.__modcWorkerShim) return;
  g.__modcWorkerShim = true;
  const sources = new Map<string, string>();
  const NativeBlob = Blob;
  class TextBlob extends NativeBlob {
    readonly text0: string;
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      this.text0 = (args[0] ?? []).map((p) => (typeof p === 'string' ? p : '')).join('');
    }
  }
  const createObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob: Blob): string => {
    const url = createObjectURL(blob);
    if (blob instanceof TextBlob) sources.set(url, blob.text0);
    return url;
  };
  g.Blob = TextBlob;
  const prelude = `const { parentPort } = require('node:worker_threads');
globalThis.self = globalThis;
globalThis.postMessage = (m) => parentPort.postMessage(m);
parentPort.on('message', (data) => { if (typeof self.onmessage === 'function') self.onmessage({ data }); });
`;
  class WebWorker {
    private readonly w: NodeWorker;
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onerror: ((e: { message: string }) => void) | null = null;
    constructor(url: string | URL) {
      const src = sources.get(String(url));
      if (src === undefined) throw new Error(`worker shim: unknown worker source ${String(url)}`);
      this.w = new NodeWorker(prelude + src, { eval: true });
      this.w.unref();
      this.w.on('message', (data: unknown) => this.onmessage?.({ data }));
      this.w.on('error', (e: Error) => this.onerror?.({ message: e.message }));
    }
    postMessage(m: unknown): void {
      this.w.postMessage(m);
    }
    terminate(): void {
      void this.w.terminate();
    }
  }
  g.Worker = WebWorker;
}

interface JaxArray {
  readonly ref: JaxArray;
  data(): Promise<unknown>;
  dispose(): void;
}
interface JaxModule {
  init(...devices: string[]): Promise<string[]>;
  defaultDevice(d: string): void;
  numpy: { array(data: Float32Array, opts: { shape: number[] }): JaxArray; matmul(a: JaxArray, b: JaxArray): JaxArray };
  blockUntilReady(x: JaxArray): Promise<JaxArray>;
}

let jaxThreads: number | undefined;

export const JAX: MatmulPeer = {
  engine: 'jax-js',
  threads: (t) => (jaxThreads !== undefined && jaxThreads !== t ? `jax-js created its worker pool with ${jaxThreads} threads in this process` : undefined),
  async prepare(m, k, n, threads, a, b) {
    const g = globalThis as unknown as Record<string, unknown>;
    // jax-js sizes its pool from navigator.hardwareConcurrency and needs Web Workers for more than 1 thread.
    if (g.navigator === undefined) g.navigator = { hardwareConcurrency: threads };
    else (g.navigator as { hardwareConcurrency: number }).hardwareConcurrency = threads;
    installWebWorkerShim();
    jaxThreads = threads;
    const jax = await load<JaxModule>('@jax-js/jax');
    const devices = await jax.init('wasm');
    if (!devices.includes('wasm')) throw new Error(`jax-js: no wasm device (got ${devices.join(', ')})`);
    jax.defaultDevice('wasm');
    const ja = jax.numpy.array(a, { shape: [m, k] });
    const jb = jax.numpy.array(b, { shape: [k, n] });
    return {
      run: async () => {
        const c = jax.numpy.matmul(ja.ref, jb.ref);
        await c.data();
      },
      dispose: () => {
        ja.dispose();
        jb.dispose();
        return Promise.resolve();
      },
    };
  },
};

export const MATMUL_PEERS: readonly MatmulPeer[] = [ORT, JAX, TFJS];
