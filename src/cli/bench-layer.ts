/**
 * `modc bench layer`: one Llama decoder layer, dense and p-MoD, on modc-wasm next to the same dense layer as an
 * ONNX graph (written by bench/onnx-writer.ts, standard opset-17 ops) in onnxruntime-web's wasm backend, at the
 * full sequence and at the p-MoD layer's kept tokens (the routing, gather and combine are modc-only).
 */
import { decoderLayer } from '../../models/index.js';
import { wasmExecutor } from '../backends/wasm/index.js';
import { relaxedSimdAvailable } from '../backends/wasm/features.js';
import { add, buildGraph, floorMul, type Graph, type HostTensor, makeTensor } from '../ir/index.js';
import { randomWeights, Rng } from '../runtime/random.js';
import { flag, intOpt, parse } from './args.js';
import { medianMs, topKernels } from './bench-util.js';
import { benchModel } from './bench-prefill.js';

export const LAYER_HELP = `  modc bench layer [--d 1024] [--vision-tokens 576] [--text-tokens 64] [--ratio 0.5] [--threads T] [--json]
      one decoder layer (dense, and p-MoD at retention ratio R) on modc-wasm vs the dense layer as an ONNX
      graph in onnxruntime-web (wasm) at the full sequence and at the kept token count`;

interface LayerOnnxModule {
  layerOnnx(cfg: { d: number; heads: number; headDim: number; inter: number; eps: number }, s: number, w: (name: string) => Float32Array): Uint8Array;
  ropeTables(s: number, headDim: number, theta: number, positions: readonly number[]): { cos: Float32Array; sin: Float32Array };
  causalMask(s: number, positions: readonly number[]): Float32Array;
}

interface OrtModule {
  env: { wasm: { numThreads: number } };
  InferenceSession: { create(model: Uint8Array, opts: { executionProviders: string[] }): Promise<{ run(f: Record<string, unknown>): Promise<Record<string, { data: unknown }>>; release(): Promise<void> }> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

function layerGraph(d: number, routed: boolean, ratio: number): Graph {
  const spec = benchModel(d, 2, 256);
  const cfg = spec.llm;
  return buildGraph(routed ? 'pmod-layer' : 'dense-layer', { T: [0, 4096], N_v: [0, 4096] }, (b) => {
    const [T, N] = [b.sym('T'), b.sym('N_v')];
    const S = add(T, N);
    const x = b.input('x', 'f32', [S, d]);
    const pos = b.input('positions', 'i32', [S]);
    if (!routed) {
      const o = decoderLayer(b, x, pos, S, cfg, 'layer', 'f32');
      b.output('y', b.add(o.h1, o.u));
      return;
    }
    const mask = b.input('mask', 'bool', [S]);
    const k = floorMul(N, ratio);
    const res = b.modRoute(x, pos, mask, b.weight('router.weight', 'f32', [1, d]), b.weight('router.bias', 'f32', [1]), { capacity: k, routableCount: N, ratio, alpha: 0.2, bias: 1 }, (rb, xk, pk) => {
      const o = decoderLayer(rb, xk, pk, add(T, k), cfg, 'layer', 'f32');
      return { h1: o.h1, u: o.u, extras: [] };
    });
    b.output('y', res.y);
  });
}

export async function layerBench(argv: readonly string[], out: (s: string) => void): Promise<number> {
  const p = parse(argv, { d: { type: 'string' }, 'vision-tokens': { type: 'string' }, 'text-tokens': { type: 'string' }, ratio: { type: 'string' }, threads: { type: 'string' }, repeat: { type: 'string' }, json: { type: 'boolean' } });
  if (flag(p, 'help')) {
    out(LAYER_HELP);
    return 0;
  }
  const d = intOpt(p, 'd', 1024, 64);
  const nv = intOpt(p, 'vision-tokens', 576, 0);
  const t = intOpt(p, 'text-tokens', 64, 1);
  const threads = intOpt(p, 'threads', 2, 1);
  const repeat = intOpt(p, 'repeat', 5, 1);
  const ratioText = typeof p.values.ratio === 'string' ? p.values.ratio : '0.5';
  const ratio = Number(ratioText);
  const s = nv + t;
  const kept = t + Math.trunc(Math.fround(nv * Math.fround(ratio)));
  const dense = layerGraph(d, false, ratio);
  const routed = layerGraph(d, true, ratio);
  const weights = randomWeights(routed, 3);
  const rng = new Rng(4);
  const rw = weights.get('router.weight');
  for (let i = 0; i < rw.data.length; i++) rw.data[i] = Math.fround(rng.normal() * 0.05);
  const x = makeTensor('f32', [s, d], Array.from({ length: s * d }, () => rng.normal()));
  const positions = Array.from({ length: s }, (_, i) => i);
  const prefix = Math.ceil(t / 4);
  const mask = makeTensor('bool', [s], positions.map((i) => (i >= prefix && i < prefix + nv ? 1 : 0)));
  const posT = makeTensor('i32', [s], positions);
  const results: Record<string, { ms: number } | { unavailable: string }> = {};
  let denseY: HostTensor | undefined;
  let maxAbsDiff: number | undefined;
  const profile = process.env.MODC_WASM_PROFILE === '1' ? new Map<string, number>() : undefined;
  const exec = wasmExecutor({ threads, startWorkers: true, ...(profile ? { profile } : {}) });
  try {
    for (const [name, g, ins] of [
      ['modc-wasm dense', dense, { x, positions: posT }],
      ['modc-wasm p-MoD', routed, { x, positions: posT, mask }],
    ] as const) {
      const prepared = await exec.prepare(g, weights);
      const symbols = { N_v: nv };
      results[name] = { ms: await medianMs(async () => void (await prepared.run(ins, symbols)), repeat) };
      if (g === dense) denseY = (await prepared.run(ins, symbols)).y;
      prepared.dispose();
    }
    if (profile) for (const [k, ms] of topKernels(profile)) process.stderr.write(`${k.padEnd(40)} ${ms.toFixed(1)} ms\n`);
  } finally {
    await exec.dispose();
  }
  // onnxruntime-web: the same dense layer, at S tokens and at the p-MoD layer's kept tokens.
  try {
    const ort = (await import('onnxruntime-web' as string)) as OrtModule;
    const url = new URL('../../bench/layer-onnx.js', import.meta.url);
    const onnx = (await import(url.href)) as LayerOnnxModule;
    ort.env.wasm.numThreads = threads;
    const spec = benchModel(d, 2, 256).llm;
    const w = (name: string): Float32Array => weights.get(`layer.${name}`).data as Float32Array;
    for (const [name, n] of [['onnxruntime-web dense', s], ['onnxruntime-web dense on kept tokens', kept]] as const) {
      const model = onnx.layerOnnx({ d, heads: spec.numHeads, headDim: spec.headDim, inter: spec.intermediateSize, eps: spec.rmsNormEps }, n, w);
      const session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
      const pos = positions.slice(0, n);
      const { cos, sin } = onnx.ropeTables(n, spec.headDim, spec.ropeTheta, pos);
      const feeds = {
        x: new ort.Tensor('float32', (x.data as Float32Array).subarray(0, n * d), [n, d]),
        cos: new ort.Tensor('float32', cos, [n, 1, spec.headDim]),
        sin: new ort.Tensor('float32', sin, [n, 1, spec.headDim]),
        mask: new ort.Tensor('float32', onnx.causalMask(n, pos), [n, n]),
      };
      results[name] = { ms: await medianMs(async () => void (await session.run(feeds)), repeat) };
      if (n === s && denseY !== undefined) {
        // The ONNX graph must be the same layer: compare its output with modc's dense layer.
        const y = (await session.run(feeds)).y?.data as Float32Array | undefined;
        maxAbsDiff = 0;
        for (let i = 0; i < s * d; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs((y?.[i] ?? Number.NaN) - (denseY.data[i] ?? 0)));
      }
      await session.release();
    }
  } catch (e) {
    results['onnxruntime-web'] = { unavailable: (e as Error).message.split('\n')[0] ?? 'failed' };
  }
  const report = { d, visionTokens: nv, textTokens: t, ratio, keptTokens: kept, threads, relaxedSimd: relaxedSimdAvailable(), repeat, onnxWriter: 'bench/onnx-writer.ts (hand-written protobuf encoder, no dependency)', onnxVsModcMaxAbsDiff: maxAbsDiff, results };
  if (flag(p, 'json')) out(JSON.stringify(report, null, 2));
  else {
    out(`one decoder layer, d=${d}, ${s} tokens (${nv} vision, p-MoD keeps ${kept}), ${threads} threads, median of ${repeat}`);
    for (const [name, r] of Object.entries(results)) out(`  ${name.padEnd(40)} ${'ms' in r ? `${r.ms.toFixed(1)} ms` : `unavailable: ${r.unavailable}`}`);
    if (maxAbsDiff !== undefined) out(`  ONNX layer vs modc dense layer: max |difference| ${maxAbsDiff.toExponential(2)}`);
  }
  return 0;
}

