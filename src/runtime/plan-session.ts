/**
 * Running a compiled artifact without the compiler: one entry's prefill and decode programs on a Device through
 * the program runner, the KV cache resident in device buffers of the capacities the artifact was built for.
 * Prompts shorter than the entry's text tokens are padded at the end: attention is causal, so the padding changes
 * nothing at the real positions (logits, routing, cached rows), the logits of the last real position are returned,
 * and decoding overwrites the padded cache rows. Browser-safe.
 */
import { ExecutionError, type HostTensor, makeTensor, type TensorStore } from '../ir/index.js';
import { bufferBytes, type KernelProgram } from '../kernel/program.js';
import { targetProblems } from '../kernel/target.js';
import type { ArtifactEntry, LoadedArtifact } from './artifact.js';
import type { Device } from './device.js';
import type { ExecutorState, StateTensorSpec, TensorMap } from './executor.js';
import { DeviceResidency, ProgramRunner } from './runner.js';
import type { Sampler } from './sampling.js';
import { ResidentCache } from './session.js';

const CACHE_STATE = /^cache\.layer(\d+)\.(k|v|positions)$/;

/** The cache state tensors a program reads, with their program buffers. */
function stateInputs(p: KernelProgram): { name: string; dtype: StateTensorSpec['dtype']; shape: readonly number[]; bytes: number }[] {
  return p.inputs
    .filter((t) => CACHE_STATE.test(t.name))
    .map((t) => {
      const b = p.buffers[t.buffer];
      if (b === undefined) throw new ExecutionError(`state input '${t.name}' has no buffer`);
      return { name: t.name, dtype: t.dtype, shape: t.shape, bytes: Math.max(4, bufferBytes(b)) };
    });
}

/** Problems of a program's dispatches on a device's Target (limits and storage capabilities). */
export function programProblems(p: KernelProgram, target: Device['target']): string[] {
  const out = new Set<string>();
  for (const s of p.steps) {
    if (s.op !== 'dispatch') continue;
    const k = p.kernels[s.kernel];
    if (k !== undefined) for (const problem of targetProblems(k, target, s.grid)) out.add(problem);
  }
  return [...out];
}

/** KV-cache state in device buffers. */
class PlanState<B> implements ExecutorState {
  private released = false;
  constructor(
    readonly specs: readonly StateTensorSpec[],
    readonly buffers: ReadonlyMap<string, B>,
    private readonly device: Device<B, unknown>,
    private readonly release: () => void,
  ) {}

  async read(name: string): Promise<HostTensor> {
    const spec = this.specs.find((s) => s.name === name);
    const b = this.buffers.get(name);
    if (spec === undefined || b === undefined) throw new ExecutionError(`no state tensor '${name}'`);
    const n = spec.shape.reduce((a, c) => a * c, 1);
    const bytes = (await this.device.read(b, 0, n * 4)).slice();
    return makeTensor(spec.dtype, spec.shape, spec.dtype === 'i32' ? new Int32Array(bytes.buffer) : new Float32Array(bytes.buffer));
  }

  dispose(): void {
    if (this.released) return;
    this.released = true;
    this.release();
  }
}

export interface PlanPrefill {
  /** Logits of the last real prompt position [1, vocab]. */
  readonly logits: HostTensor;
  /** Logits of every real position [S, vocab]. */
  readonly allLogits: HostTensor;
  /** routing.layer{l}: kept vision-token positions (sequence indices) of each MoD layer. */
  readonly outputs: Readonly<Record<string, HostTensor>>;
  readonly cache: ResidentCache;
  /** Real prompt tokens S (text + vision): the first generated token's position. */
  readonly length: number;
}

export interface PlanGenerateOptions {
  readonly maxNewTokens: number;
  readonly sampler: Sampler;
  readonly eosTokenIds: readonly number[];
  readonly onToken?: (id: number, step: number) => void;
}

export interface PlanGenerateResult {
  readonly prefill: PlanPrefill;
  readonly tokens: readonly number[];
  readonly logits: readonly Float32Array[];
  readonly stop: 'eos' | 'length';
}

/** One artifact entry loaded on a device: its prefill and decode programs and their weights. */
export class PlanSession<B, K> {
  private constructor(
    readonly entry: ArtifactEntry,
    private readonly device: Device<B, K>,
    private readonly residency: DeviceResidency<B>,
    private readonly prefillRunner: ProgramRunner<B, K>,
    private readonly decodeRunner: ProgramRunner<B, K>,
    private readonly states: ReturnType<typeof stateInputs>,
  ) {}

  /** The entry of `loaded` for N_v vision tokens; an error lists the N_v values the artifact has. */
  static entryFor(loaded: LoadedArtifact, visionTokens: number): ArtifactEntry {
    const e = loaded.artifact.entries.find((x) => x.visionTokens === visionTokens);
    if (e === undefined) throw new ExecutionError(`the artifact has no plan for ${visionTokens} vision tokens (it has N_v = ${loaded.artifact.entries.map((x) => x.visionTokens).join(', ')}); compile it with --vision-tokens ${visionTokens}`);
    return e;
  }

  /**
   * Loads an entry's programs on `device` with the weights of `store` (checked by the runner against the manifest,
   * from headers, before any is read). Every dispatch is first checked against the device's Target.
   */
  static async load<B, K>(device: Device<B, K>, loaded: LoadedArtifact, entry: ArtifactEntry, store: TensorStore, residency = new DeviceResidency<B>(device as Device<B, unknown>)): Promise<PlanSession<B, K>> {
    const prefill = loaded.programs[entry.prefill.program];
    const decode = loaded.programs[entry.decode.program];
    if (prefill === undefined || decode === undefined) throw new ExecutionError('internal: entry program index out of range');
    const problems = [...programProblems(prefill, device.target), ...programProblems(decode, device.target)];
    if (problems.length) throw new ExecutionError(`the artifact (compiled for ${loaded.artifact.target.name}, ${loaded.artifact.target.device}) does not fit ${device.target.name} (${device.target.device}): ${problems.slice(0, 6).join('; ')}`);
    const states = stateInputs(prefill);
    const decodeStates = new Map(stateInputs(decode).map((s) => [s.name, s]));
    for (const s of states) {
      const d = decodeStates.get(s.name);
      if (d === undefined || d.shape.join(',') !== s.shape.join(',')) throw new ExecutionError(`the decode program's '${s.name}' is [${d?.shape.join(', ') ?? 'absent'}], the prefill's [${s.shape.join(', ')}]`);
    }
    const names = new Set(states.map((s) => s.name));
    const p = await ProgramRunner.load(device, prefill, store, residency, names);
    try {
      const d = await ProgramRunner.load(device, decode, store, residency, names);
      return new PlanSession(entry, device, residency, p, d, states);
    } catch (e) {
      p.dispose();
      throw e;
    }
  }

  private createState(): PlanState<B> {
    const buffers = new Map<string, B>();
    const owned: [B, number][] = [];
    try {
      for (const s of this.states) {
        const b = this.residency.alloc(s.bytes, `state ${s.name}`);
        buffers.set(s.name, b);
        owned.push([b, s.bytes]);
      }
    } catch (e) {
      for (const [b, n] of owned) this.residency.release(b, n);
      throw e;
    }
    return new PlanState(this.states, buffers, this.device as Device<B, unknown>, () => owned.forEach(([b, n]) => this.residency.release(b, n)));
  }

  /** Runs the prompt (input_ids [S], vision_embeds [N_v, d], vision_positions [N_v]) and fills the cache. */
  async prefill(inputs: TensorMap): Promise<PlanPrefill> {
    const ids = inputs.input_ids;
    if (ids === undefined) throw new ExecutionError('prefill needs input_ids');
    const s = ids.shape[0] ?? 0;
    const nv = inputs.vision_embeds?.shape[0] ?? 0;
    if (nv !== this.entry.visionTokens) throw new ExecutionError(`this plan entry is for ${this.entry.visionTokens} vision tokens, the input has ${nv}`);
    const t = s - nv;
    const T = this.entry.maxTextTokens;
    if (t < 0 || t > T) throw new ExecutionError(`the prompt has ${t} text tokens; the artifact was compiled for at most ${T} (compile with --text-tokens ${t})`);
    const padded = makeTensor('i32', [T + nv]);
    padded.data.set(ids.data);
    const state = this.createState();
    try {
      const out = await this.prefillRunner.run({ ...inputs, input_ids: padded }, { state: state.buffers });
      const all = out.logits;
      if (all === undefined) throw new ExecutionError('the prefill program has no logits output');
      const vocab = all.shape[1] ?? 0;
      const allLogits = makeTensor('f32', [s, vocab], all.data.subarray(0, s * vocab));
      const logits = makeTensor('f32', [1, vocab], all.data.subarray((s - 1) * vocab, s * vocab));
      const outputs = Object.fromEntries(Object.entries(out).filter(([k]) => k !== 'logits'));
      const valid = this.entry.layers.map((l) => t + l.visionRows);
      return { logits, allLogits, outputs, cache: new ResidentCache(state, this.entry.layers.map((l) => l.cacheCapacity), valid), length: s };
    } catch (e) {
      state.dispose();
      throw e;
    }
  }

  /** One new token at `position`, appended to every layer's cache; its logits row. */
  async decodeStep(cache: ResidentCache, id: number, position: number): Promise<Float32Array> {
    if (cache.free < 1) throw new ExecutionError(`the KV cache is full (capacities ${cache.capacities.join(', ')}); compile with a larger --max-new-tokens`);
    if (!(cache.state instanceof PlanState)) throw new ExecutionError('the cache was not created by this plan session');
    const symbols = Object.fromEntries(cache.lengths().map((len, l) => [`L${l}`, len]));
    const inputs = { input_ids: makeTensor('i32', [1], [id]), positions: makeTensor('i32', [1], [position]) };
    const out = await this.decodeRunner.run(inputs, { symbols, state: (cache.state as PlanState<B>).buffers });
    cache.advance(1);
    const logits = out.logits;
    if (logits === undefined) throw new ExecutionError('the decode program has no logits output');
    return Float32Array.from(logits.data);
  }

  async generate(inputs: TensorMap, opts: PlanGenerateOptions): Promise<PlanGenerateResult> {
    if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new RangeError(`maxNewTokens must be an integer >= 0, got ${opts.maxNewTokens}`);
    const prefill = await this.prefill(inputs);
    try {
      if (opts.maxNewTokens - 1 > prefill.cache.free) throw new ExecutionError(`${opts.maxNewTokens} new tokens do not fit the KV cache after this prompt (room for ${prefill.cache.free + 1}); compile with --max-new-tokens ${opts.maxNewTokens}`);
      const tokens: number[] = [];
      const rows: Float32Array[] = [];
      let current: Float32Array = Float32Array.from(prefill.logits.data);
      let stop: PlanGenerateResult['stop'] = 'length';
      for (let step = 0; step < opts.maxNewTokens; step++) {
        const id = opts.sampler.pick(current);
        tokens.push(id);
        rows.push(current);
        opts.onToken?.(id, step);
        if (opts.eosTokenIds.includes(id)) {
          stop = 'eos';
          break;
        }
        if (step + 1 === opts.maxNewTokens) break; // the last token needs no forward pass
        current = await this.decodeStep(prefill.cache, id, prefill.length + step);
      }
      return { prefill, tokens, logits: rows, stop };
    } finally {
      prefill.cache.dispose();
    }
  }

  dispose(): void {
    this.prefillRunner.dispose();
    this.decodeRunner.dispose();
  }
}
