/**
 * A compiled artifact's weight manifest bound to a checkpoint's tensors, from the headers: every tensor the
 * manifest names is looked up (the name recorded at compile time, then the manifest's candidates), its shape and
 * dtype checked, and every problem reported in one CheckpointError before any weight is read. Browser-safe (the
 * tensors may be files or in-memory buffers).
 */
import type { DType, MapStore } from '../ir/index.js';
import { type CheckpointLayout, type CheckpointTensors, loadBoundWeights, planBinding } from './checkpoint.js';

/** What a manifest entry says about a weight (src/runtime/artifact.ts ArtifactWeight). */
export interface ManifestWeight {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly candidates: readonly string[];
  readonly checkpoint?: { readonly tensor: string };
}

/**
 * The manifest's weights from `tensors`, in the manifest's dtypes. `usedElsewhere` says why a checkpoint tensor
 * the manifest does not name is expected (a vision tower); any other such tensor is a problem.
 */
export function bindManifest(source: string, manifest: readonly ManifestWeight[], tensors: CheckpointTensors, usedElsewhere: (name: string) => string | undefined): MapStore {
  const byName = new Map(manifest.map((w) => [w.name, w]));
  const layout: CheckpointLayout = {
    candidates: (name) => {
      const w = byName.get(name);
      const recorded = w?.checkpoint?.tensor;
      return [...new Set([...(recorded !== undefined ? [recorded] : []), ...(w?.candidates ?? [name])])];
    },
    usedElsewhere,
  };
  return loadBoundWeights(tensors, planBinding(source, tensors, manifest.map((w) => ({ name: w.name, dtype: w.dtype, shape: w.shape })), layout));
}
