/**
 * Progressive ratio decay (PRD): which decoder layers are MoD layers and their retention ratios R_l, parsed from
 * the Hugging Face `mod_target_layers` / `mod_router_factor` fields (method doc section 2).
 */
import { floorMulF32 } from '../src/ir/index.js';

export type DecayCurve = 'shiftedcos' | 'shiftedlinear';
export type ConstantLayout = 'deep_all' | 'deep_all_include_last' | 'interleave';

export type RatioSchedule =
  | { readonly kind: 'decay'; readonly curve: DecayCurve; readonly maxRatio: number; readonly minRatio: number; readonly shift: number }
  | { readonly kind: 'constant'; readonly layout: ConstantLayout; readonly ratio: number };

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/**
 * Parses `mod_target_layers` ("shiftedcos_decay_0.85_0.15", "shiftedlinear_decay_0.9_0.1", "deep_all",
 * "deep_all_include_last", "interleave") with `mod_router_factor` (the shift of a decay curve, or the constant ratio).
 */
export function parseSchedule(targetLayers: string, routerFactor: number): RatioSchedule {
  if (!Number.isFinite(routerFactor)) throw new ScheduleError(`mod_router_factor must be a number, got ${routerFactor}`);
  const m = /^(\w+?)_decay_(\d+\.\d+)_(\d+\.\d+)$/.exec(targetLayers);
  if (m) {
    const [, curve, max, min] = m;
    if (curve !== 'shiftedcos' && curve !== 'shiftedlinear')
      throw new ScheduleError(`mod_target_layers '${targetLayers}': unknown decay curve '${curve}' (shiftedcos | shiftedlinear)`);
    const maxRatio = Number(max);
    const minRatio = Number(min);
    if (!(minRatio >= 0 && minRatio <= maxRatio && maxRatio <= 1))
      throw new ScheduleError(`mod_target_layers '${targetLayers}': need 0 <= min (${minRatio}) <= max (${maxRatio}) <= 1`);
    return { kind: 'decay', curve, maxRatio, minRatio, shift: routerFactor };
  }
  if (targetLayers === 'deep_all' || targetLayers === 'deep_all_include_last' || targetLayers === 'interleave') {
    if (!(routerFactor >= 0 && routerFactor <= 1)) throw new ScheduleError(`constant retention ratio ${routerFactor} must be in [0, 1]`);
    return { kind: 'constant', layout: targetLayers, ratio: routerFactor };
  }
  throw new ScheduleError(
    `unsupported mod_target_layers '${targetLayers}' (expected '{shiftedcos|shiftedlinear}_decay_{max}_{min}', 'deep_all', 'deep_all_include_last' or 'interleave')`,
  );
}

/** The schedule curve r(l). The reference code hard-codes L-1 = 31; modc uses L-1 so other depths work. */
export function curveValue(curve: DecayCurve, shift: number, layer: number, numLayers: number): number {
  const t = numLayers > 1 ? layer / (numLayers - 1) : 0;
  return curve === 'shiftedcos' ? Math.cos(Math.PI * t) / 2 + shift : -t + 0.5 + shift;
}

/** Per layer: the retention ratio R_l of a MoD layer, or null for a dense layer. */
export function layerRatios(s: RatioSchedule, numLayers: number): (number | null)[] {
  if (!Number.isInteger(numLayers) || numLayers < 1) throw new ScheduleError(`number of layers must be a positive integer, got ${numLayers}`);
  return Array.from({ length: numLayers }, (_, l) => {
    if (s.kind === 'decay') {
      const r = curveValue(s.curve, s.shift, l, numLayers);
      return r <= s.maxRatio ? Math.max(r, s.minRatio) : null;
    }
    const isMod =
      s.layout === 'interleave' ? l % 2 === 1 : s.layout === 'deep_all' ? l >= 2 && l < numLayers - 1 : l >= 2;
    return isMod ? s.ratio : null;
  });
}

/** k_l = floor(N_v * R_l) in float32, the reference code's rule; N_v for dense layers. */
export function layerCapacities(ratios: readonly (number | null)[], visionTokens: number): number[] {
  return ratios.map((r) => (r === null ? visionTokens : floorMulF32(visionTokens, r)));
}

/** Mean retained fraction of vision tokens over all layers (dense layers count as 1). */
export function meanRetention(ratios: readonly (number | null)[], visionTokens?: number): number {
  const per = ratios.map((r) => (r === null ? 1 : visionTokens === undefined ? r : floorMulF32(visionTokens, r) / visionTokens));
  return per.reduce((a, b) => a + b, 0) / per.length;
}

export function scheduleText(s: RatioSchedule): string {
  return s.kind === 'decay'
    ? `${s.curve}_decay_${s.maxRatio}_${s.minRatio} (shift ${s.shift})`
    : `${s.layout} (ratio ${s.ratio})`;
}
