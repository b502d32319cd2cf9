/**
 * The WebGL browser tests' page (Chromium with WebGPU off: WebGL2 on SwiftShader). It picks its backend with
 * chooseBackend() (webgpu -> webgl -> wasm), then on request runs, in the page, either the conformance cases
 * (compiled for the WebGL Target from the page's context, each compared with the reference interpreter run in the
 * page, with the tolerances the test sends) or tiny p-MoD prefill and greedy generation with the KV cache resident
 * in textures (the test compares with the reference in Node).
 */
import { buildDecodeStep } from '../../models/decode.js';
import { randomLlavaInputs } from '../../models/inputs.js';
import { buildLanguageModel } from '../../models/llama.js';
import { TINY_PMOD } from '../../models/zoo.js';
import { interpret } from '../../src/backends/reference/index.js';
import { chooseBackend } from '../../src/backends/webgl/choose.js';
import type { DType } from '../../src/ir/index.js';
import type { Executor } from '../../src/runtime/executor.js';
import { randomWeights } from '../../src/runtime/random.js';
import { Sampler } from '../../src/runtime/sampling.js';
import { GenerationSession } from '../../src/runtime/session.js';
import { conformanceCases } from '../backends/cases.js';
import { mismatch, type Tolerance } from '../backends/tolerance.js';
import { encode } from './codec.js';
import { MODEL_CASE, nonZeroRouters } from './model-case.js';

export interface WebGlReady {
  readonly error?: string;
  readonly backend?: string;
  readonly device?: string;
  /** Backends chooseBackend passed over, with reasons. */
  readonly skipped?: readonly { readonly name: string; readonly reason: string }[];
  readonly limits?: Readonly<Record<string, unknown>>;
}

export type WebGlRequest =
  | { readonly kind: 'conformance'; readonly skip: readonly string[]; readonly reordered: Readonly<Record<DType, Tolerance>> }
  | { readonly kind: 'model' };

export interface CaseResult {
  readonly name: string;
  readonly problem?: string;
  readonly ms: number;
}

export interface ModelResult {
  readonly error?: string;
  readonly lastLogits?: Float32Array;
  readonly routing?: Readonly<Record<string, Int32Array>>;
  readonly tokens?: readonly number[];
  readonly ms?: number;
}

const g = globalThis as unknown as { __modcReady?: WebGlReady; __modcRun?: (json: string) => void; __modcResults?: string };
const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

async function conformance(exec: Executor, req: Extract<WebGlRequest, { kind: 'conformance' }>): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of conformanceCases()) {
    if (req.skip.includes(c.name)) continue;
    const t0 = performance.now();
    let problem: string | undefined;
    try {
      const prepared = await exec.prepare(c.graph, c.weights);
      try {
        if (c.error) {
          try {
            await prepared.run(c.inputs, c.symbols);
            problem = `expected an error matching ${String(c.error)}, the run succeeded`;
          } catch (e) {
            if (!c.error.test(errorText(e))) problem = `expected an error matching ${String(c.error)}, got ${errorText(e)}`;
          }
        } else {
          const want = interpret(c.graph, c.inputs, { weights: c.weights, ...(c.symbols ? { symbols: c.symbols } : {}) });
          const got = await prepared.run(c.inputs, c.symbols);
          for (const [name, w] of Object.entries(want)) {
            const exact = c.compare === 'exact' && (w.dtype === 'i32' || w.dtype === 'u32' || w.dtype === 'bool');
            const p = mismatch(got[name], w, exact ? { abs: 0, rel: 0 } : req.reordered[w.dtype]);
            if (p !== undefined) problem ??= `${name}: ${p}`;
          }
          const extra = Object.keys(got).filter((k) => !(k in want));
          if (extra.length) problem ??= `outputs the reference lacks: ${extra.join(', ')}`;
        }
      } finally {
        prepared.dispose();
      }
    } catch (e) {
      problem = errorText(e);
    }
    out.push({ name: c.name, ms: performance.now() - t0, ...(problem !== undefined ? { problem } : {}) });
  }
  return out;
}

async function model(exec: Executor): Promise<ModelResult> {
  const spec = TINY_PMOD;
  const prefill = buildLanguageModel(spec, { kvState: true, lastLogits: true, exportRouting: true });
  const weights = randomWeights(prefill, MODEL_CASE.seed);
  nonZeroRouters(weights, spec.llm.numLayers);
  const t0 = performance.now();
  const session = await GenerationSession.create(exec, { prefill, decode: buildDecodeStep(spec) }, weights);
  try {
    const inputs = randomLlavaInputs(spec, MODEL_CASE.text, MODEL_CASE.vision, MODEL_CASE.seed);
    const res = await session.generate(inputs, { maxNewTokens: MODEL_CASE.tokens, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [] });
    const routing: Record<string, Int32Array> = {};
    for (const [k, v] of Object.entries(res.prefill.outputs)) if (k.startsWith('routing.')) routing[k] = Int32Array.from(v.data);
    return { lastLogits: Float32Array.from(res.prefill.logits.data), routing, tokens: res.tokens, ms: performance.now() - t0 };
  } finally {
    session.dispose();
  }
}

async function main(): Promise<void> {
  let chosen: Awaited<ReturnType<typeof chooseBackend>>;
  try {
    chosen = await chooseBackend();
  } catch (e) {
    g.__modcReady = { error: errorText(e) };
    return;
  }
  const exec = chosen.executor;
  g.__modcRun = (json: string): void => {
    const req = JSON.parse(json) as WebGlRequest;
    void (async () => {
      try {
        g.__modcResults = encode(req.kind === 'conformance' ? await conformance(exec, req) : await model(exec));
      } catch (e) {
        g.__modcResults = encode({ error: errorText(e) });
      }
    })();
  };
  g.__modcReady = { backend: chosen.name, device: chosen.device, skipped: chosen.skipped };
}

void main();
