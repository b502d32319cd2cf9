/**
 * Binding a graph's weights to a checkpoint's tensors. The binding is planned and validated from the headers
 * alone (every missing, unexpected, mis-shaped or wrongly typed tensor is reported together, in one error), then
 * the tensors are streamed in one at a time and converted to the graph's dtype, so loading holds the converted
 * weights plus at most one raw tensor.
 */
import { byteSize, type DType, graphWeights, type Graph, type HostTensor, isFloat, MapStore, sizeOf, type TensorStore } from '../ir/index.js';
import type { Progress } from './progress.js';
import { ST_DTYPE_BYTES, ST_TO_DTYPE, type StDType } from './safetensors/format.js';

/** What a binder needs to know about a checkpoint tensor without reading it. */
export interface TensorHeader {
  readonly stDtype: StDType;
  readonly shape: readonly number[];
  /** The file holding it, for messages. */
  readonly file: string;
}

/** A checkpoint's tensors: headers without reading, data on demand. */
export interface CheckpointTensors extends TensorStore {
  names(): string[];
  info(name: string): TensorHeader;
}

/** How a checkpoint lays out the graph's weights. */
export interface CheckpointLayout {
  /** Checkpoint names that may hold a graph weight, in order of preference. */
  candidates(graphName: string): readonly string[];
  /** Why a tensor no graph binds is still expected (a vision-tower tensor, a derived buffer), or undefined. */
  usedElsewhere(checkpointName: string): string | undefined;
}

/** The identity layout: the graph's names are the checkpoint's (LLaVA / p-MoD checkpoints). */
export const SAME_NAMES: CheckpointLayout = { candidates: (n) => [n], usedElsewhere: () => undefined };

/** A weight a graph declares, with a constant shape. */
export interface WeightSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

export type BindingProblem =
  | { kind: 'missing'; weight: WeightSpec; tried: readonly string[] }
  | { kind: 'shape'; weight: WeightSpec; tensor: string; found: TensorHeader }
  | { kind: 'dtype'; weight: WeightSpec; tensor: string; found: TensorHeader }
  | { kind: 'unexpected'; tensor: string; found: TensorHeader };

const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

function problemLine(p: BindingProblem): string {
  switch (p.kind) {
    case 'missing':
      return `missing    ${p.weight.name}: expected ${p.weight.dtype} ${shapeStr(p.weight.shape)}${p.tried.length > 1 || p.tried[0] !== p.weight.name ? ` (looked for ${p.tried.join(', ')})` : ''}`;
    case 'shape':
      return `shape      ${p.tensor}: expected ${shapeStr(p.weight.shape)}, found ${p.found.stDtype} ${shapeStr(p.found.shape)} in ${p.found.file}`;
    case 'dtype':
      return `dtype      ${p.tensor}: expected ${p.weight.dtype} (or a 16-bit float widened to f32), found ${p.found.stDtype} in ${p.found.file}`;
    case 'unexpected':
      return `unexpected ${p.tensor}: ${p.found.stDtype} ${shapeStr(p.found.shape)} in ${p.found.file} (no graph weight uses it)`;
  }
}

/** Every problem found binding a checkpoint, listed one per line. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
  constructor(
    readonly source: string,
    readonly problems: readonly BindingProblem[],
  ) {
    super(`${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'} binding the checkpoint to the model:\n${problems.map((p) => `  ${problemLine(p)}`).join('\n')}`);
  }
}

/** The constant-shaped weights of some graphs, each name once (graphs sharing a weight must agree on its type). */
export function weightSpecs(graphs: readonly Graph[]): WeightSpec[] {
  const out = new Map<string, WeightSpec>();
  for (const g of graphs) {
    for (const w of graphWeights(g)) {
      const shape = w.attrs.shape.map((d) => {
        if (typeof d !== 'number') throw new Error(`weight '${w.attrs.name}' of graph '${g.name}' has a symbolic shape`);
        return d;
      });
      const prev = out.get(w.attrs.name);
      if (prev && (prev.dtype !== w.attrs.dtype || shapeStr(prev.shape) !== shapeStr(shape)))
        throw new Error(`weight '${w.attrs.name}' is declared as ${prev.dtype} ${shapeStr(prev.shape)} and as ${w.attrs.dtype} ${shapeStr(shape)}`);
      out.set(w.attrs.name, { name: w.attrs.name, dtype: w.attrs.dtype, shape });
    }
  }
  return [...out.values()];
}

/** Whether a stored tensor can become a graph weight of dtype `want` exactly. */
export function convertible(st: StDType, want: DType): boolean {
  const have = ST_TO_DTYPE[st];
  if (have === want) return true;
  return want === 'f32' && (have === 'f16' || have === 'bf16');
}

export interface BindingPlan {
  readonly source: string;
  /** Graph weight name -> checkpoint tensor name. */
  readonly bindings: ReadonlyMap<string, string>;
  readonly weights: readonly WeightSpec[];
  /** Checkpoint tensors bound by no graph but expected elsewhere, with the reason. */
  readonly usedElsewhere: ReadonlyMap<string, string>;
  /** Bytes the bound tensors occupy in the checkpoint. */
  readonly storedBytes: number;
}

/** Plans the binding from headers alone; throws CheckpointError listing every problem. */
export function planBinding(source: string, tensors: CheckpointTensors, weights: readonly WeightSpec[], layout: CheckpointLayout): BindingPlan {
  const problems: BindingProblem[] = [];
  const bindings = new Map<string, string>();
  const bound = new Set<string>();
  let storedBytes = 0;
  for (const w of weights) {
    const tried = layout.candidates(w.name);
    const name = tried.find((c) => tensors.has(c));
    if (name === undefined) {
      problems.push({ kind: 'missing', weight: w, tried });
      continue;
    }
    bound.add(name);
    const found = tensors.info(name);
    if (shapeStr(found.shape) !== shapeStr(w.shape)) problems.push({ kind: 'shape', weight: w, tensor: name, found });
    else if (!convertible(found.stDtype, w.dtype)) problems.push({ kind: 'dtype', weight: w, tensor: name, found });
    else {
      bindings.set(w.name, name);
      storedBytes += found.shape.reduce((a, b) => a * b, 1) * ST_DTYPE_BYTES[found.stDtype];
    }
  }
  const usedElsewhere = new Map<string, string>();
  for (const name of tensors.names()) {
    if (bound.has(name)) continue;
    const why = layout.usedElsewhere(name);
    if (why !== undefined) usedElsewhere.set(name, why);
    else problems.push({ kind: 'unexpected', tensor: name, found: tensors.info(name) });
  }
  if (problems.length) throw new CheckpointError(source, problems);
  return { source, bindings, weights, usedElsewhere, storedBytes };
}

/**
 * The single float dtype the bound tensors share, or f32 when they mix 16-bit formats (f16/bf16 widen to f32
 * exactly). Only float weights count; `weights` should be the graph's with any provisional dtype.
 */
export function checkpointFloatDtype(tensors: CheckpointTensors, weights: readonly WeightSpec[], layout: CheckpointLayout): DType | undefined {
  const seen = new Set<DType>();
  for (const w of weights) {
    const name = layout.candidates(w.name).find((c) => tensors.has(c));
    if (name === undefined) continue;
    const dt = ST_TO_DTYPE[tensors.info(name).stDtype];
    if (isFloat(dt)) seen.add(dt);
  }
  if (seen.size === 0) return undefined;
  const [only] = seen;
  return seen.size === 1 ? only : 'f32';
}

/**
 * Bytes the named tensors (default: all) occupy in the checkpoint's files, from the headers alone: nothing is
 * read, so a memory check can run before any weight is loaded.
 */
export function checkpointBytes(tensors: CheckpointTensors, names: Iterable<string> = tensors.names()): number {
  let total = 0;
  for (const name of names) {
    const t = tensors.info(name);
    total += sizeOf(t.shape) * ST_DTYPE_BYTES[t.stDtype];
  }
  return total;
}

/** Bytes the planned weights take once loaded in the graph's dtypes (16-bit floats widened to f32 count 4). */
export function loadedWeightBytes(plan: BindingPlan): number {
  return plan.weights.reduce((n, w) => n + byteSize({ dtype: w.dtype, shape: w.shape }), 0);
}

/** Reads the planned tensors one at a time into a store keyed by the graph's names, in the graph's dtypes. */
export function loadBoundWeights(tensors: CheckpointTensors, plan: BindingPlan, progress?: Progress): MapStore {
  const store = new MapStore();
  let done = 0;
  for (const w of plan.weights) {
    const name = plan.bindings.get(w.name);
    if (name === undefined) throw new Error(`weight '${w.name}' has no binding`);
    const t = tensors.get(name);
    // f16/bf16 values are already exact float32 numbers: widening only relabels the tensor.
    const converted: HostTensor = t.dtype === w.dtype ? t : { dtype: w.dtype, shape: t.shape, data: t.data };
    store.set(w.name, converted);
    done += t.data.length * ST_DTYPE_BYTES[tensors.info(name).stDtype];
    progress?.update(done, w.name);
  }
  progress?.finish();
  return store;
}
