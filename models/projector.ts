/**
 * The LLaVA multimodal projector as a graph: `mlp{n}x_gelu` (LLaVA-1.5 / NeXT use mlp2x_gelu: Linear(mm_hidden->d),
 * GELU in its erf form (nn.GELU's default), Linear(d->d)) or `linear`, with the weight names of the LLaVA
 * checkpoint layout (`model.mm_projector.{0,2,...}.{weight,bias}`, or `model.mm_projector.{weight,bias}`).
 */
import { type DType, type Graph, GraphBuilder } from '../src/ir/index.js';
import { ConfigError, type ModelSpec } from './config.js';

export interface ProjectorOptions {
  weightDtype?: DType;
  /** Upper bound of the symbol N_v (vision tokens). */
  maxVisionTokens?: number;
}

/** Number of Linear layers of a projector type, or undefined if the type is not an MLP LLaVA builds. */
export function projectorDepth(type: string): number | undefined {
  if (type === 'linear') return 1;
  const m = /^mlp(\d+)x_gelu$/.exec(type);
  const n = m?.[1] !== undefined ? Number(m[1]) : undefined;
  return n !== undefined && n >= 1 ? n : undefined;
}

/** Input `image_features` f32[N_v, mm_hidden] -> output `vision_embeds` f32[N_v, d]. */
export function buildProjector(spec: ModelSpec, opts: ProjectorOptions = {}): Graph {
  const vision = spec.vision;
  if (vision === undefined) throw new ConfigError(`model '${spec.name}' has no vision side, so no projector`);
  const depth = projectorDepth(vision.projectorType);
  if (depth === undefined) throw new ConfigError(`model '${spec.name}': mm_projector_type '${vision.projectorType}' is not supported (linear | mlp{n}x_gelu)`);
  const wdt = opts.weightDtype ?? spec.llm.weightDtype;
  const d = spec.llm.hiddenSize;
  const b = new GraphBuilder(`${spec.name}.projector`, { N_v: [0, opts.maxVisionTokens ?? spec.llm.maxPositions] });
  let x = b.input('image_features', 'f32', [b.sym('N_v'), vision.mmHiddenSize]);
  for (let i = 0; i < depth; i++) {
    // nn.Sequential indices: Linear at 0, 2, 4, ...; GELU at the odd ones. A lone Linear has no index.
    const prefix = depth === 1 ? 'model.mm_projector' : `model.mm_projector.${2 * i}`;
    const inDim = i === 0 ? vision.mmHiddenSize : d;
    x = b.scope(`mm_projector.${2 * i}`, () => b.linear(x, b.weight(`${prefix}.weight`, wdt, [d, inDim]), b.weight(`${prefix}.bias`, wdt, [d]), 'linear'));
    if (i + 1 < depth) x = b.unary('gelu_erf', x, `mm_projector.${2 * i + 1}.gelu`);
  }
  b.output('vision_embeds', x);
  return b.build();
}
