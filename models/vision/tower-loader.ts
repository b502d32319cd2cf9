/**
 * Finds and loads a LLaVA model's vision tower: a CLIP checkpoint directory given by the user (`--vision-tower`)
 * or named by `mm_vision_tower` as a local path, else the tower embedded in the LLaVA checkpoint (LLaVA and
 * llava-hf names). Weights are bound with the same validation as the language model and loaded in the dtype the
 * checkpoint stores.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import {
  type CheckpointLayout,
  checkpointFloatDtype,
  type Graph,
  type HostTensor,
  loadBoundWeights,
  type MapStore,
  planBinding,
  prefixed,
  type Progress,
  readJsonFile,
  SafetensorsStore,
  weightSpecs,
} from '../../src/index.js';
import { clipProcessorForSize, clipProcessorFromHf } from '../../src/io/image/index.js';
import { ConfigError, type ModelSpec } from '../config.js';
import { buildClipVisionTower, CLIP_VISION_PREFIX, LLAVA_VISION_TOWER_PREFIX } from './clip.js';
import { clipVisionFromHf } from './clip-config.js';
import { type VisionTower, visionTowerFor } from './llava-image.js';

export interface LoadedVisionTower {
  /** Where the tower came from, for messages. */
  readonly source: string;
  readonly tower: VisionTower;
  /** pixel_values f32[3, S, S] -> image_features f32[P, C]. */
  readonly graph: Graph;
  readonly weights: MapStore;
}

export interface VisionTowerOptions {
  /** A CLIP checkpoint directory (config.json, *.safetensors, optionally preprocessor_config.json). */
  towerDir?: string;
  progress?: (totalBytes: number) => Progress;
}

/** Prefixes of an embedded tower: LLaVA, llava-hf before transformers 4.52, and after. */
const EMBEDDED_PREFIXES = [LLAVA_VISION_TOWER_PREFIX, 'vision_tower.vision_model.', 'model.vision_tower.vision_model.'] as const;

function readJson(path: string): unknown {
  return readJsonFile(path, prefixed(ConfigError), { what: 'config file' });
}

/** `mm_vision_tower` as a local CLIP directory (absolute, or relative to the checkpoint), if it is one. */
function localTowerDir(checkpointDir: string, name: string): string | undefined {
  const candidates = isAbsolute(name) ? [name] : [resolve(checkpointDir, name), resolve(name)];
  return candidates.find((p) => existsSync(join(p, 'config.json')) && statSync(p).isDirectory());
}

function bindTower(source: string, tensors: SafetensorsStore, build: (dtype: HostTensor['dtype'] | undefined) => Graph, prefix: string, opts: VisionTowerOptions): { graph: Graph; weights: MapStore } {
  const provisional = build(undefined);
  // Only the tower's own tensors up to the selected layer are needed; everything else in the file is someone else's.
  const used = new Set(weightSpecs([provisional]).map((w) => w.name));
  const layout: CheckpointLayout = {
    candidates: (n) => [n],
    usedElsewhere: (n) => (used.has(n) ? undefined : n.startsWith(prefix) ? 'vision tower: after the selected layer, or not used by LLaVA' : 'not part of the vision tower'),
  };
  const dtype = checkpointFloatDtype(tensors, weightSpecs([provisional]), layout);
  const graph = dtype === undefined ? provisional : build(dtype);
  const plan = planBinding(source, tensors, weightSpecs([graph]), layout);
  return { graph, weights: loadBoundWeights(tensors, plan, opts.progress?.(plan.storedBytes)) };
}

/** Loads the vision tower of a LLaVA checkpoint (see the module comment for where it is looked for). */
export function openVisionTower(checkpointDir: string, spec: ModelSpec, config: Readonly<Record<string, unknown>>, opts: VisionTowerOptions = {}): LoadedVisionTower {
  const vision = spec.vision;
  if (vision === undefined) throw new ConfigError(`model '${spec.name}' has no vision side: it takes no images`);
  const towerDir = opts.towerDir ?? localTowerDir(checkpointDir, vision.visionTower);
  const selectLayer = vision.selectLayer;

  if (towerDir !== undefined) {
    const cfgPath = join(towerDir, 'config.json');
    if (!existsSync(cfgPath)) throw new ConfigError(`${towerDir}: no config.json (expected a CLIP vision checkpoint directory)`);
    const clip = clipVisionFromHf(readJson(cfgPath), cfgPath);
    const procPath = join(towerDir, 'preprocessor_config.json');
    const processor = existsSync(procPath) ? clipProcessorFromHf(readJson(procPath), procPath) : clipProcessorForSize(clip.imageSize);
    const tensors = SafetensorsStore.fromDir(towerDir);
    try {
      const bound = bindTower(towerDir, tensors, (weightDtype) => buildClipVisionTower(clip, { selectLayer, prefix: CLIP_VISION_PREFIX, ...(weightDtype ? { weightDtype } : {}) }), CLIP_VISION_PREFIX, opts);
      return { source: towerDir, tower: { clip, processor }, ...bound };
    } finally {
      tensors.close();
    }
  }

  const tensors = SafetensorsStore.fromDir(checkpointDir);
  try {
    // A usable embedded tower has its embeddings and at least its first encoder layer; a few leftover tensors
    // (some checkpoints keep the patch embedding only) do not make one.
    const complete = (p: string): boolean =>
      ['embeddings.patch_embedding.weight', 'embeddings.position_embedding.weight', 'encoder.layers.0.self_attn.q_proj.weight'].every((n) => tensors.has(`${p}${n}`));
    const prefix = EMBEDDED_PREFIXES.find(complete);
    if (prefix === undefined) {
      const partial = EMBEDDED_PREFIXES.map((p) => [p, tensors.names().filter((n) => n.startsWith(p)).length] as const).find(([, n]) => n > 0);
      throw new ConfigError(
        `${checkpointDir}: the vision tower '${vision.visionTower}' (mm_vision_tower) is not in the checkpoint${partial ? ` (only ${partial[1]} stray tensors under ${partial[0]})` : ''} and is not a local directory; download it (a CLIP checkpoint directory with config.json and *.safetensors) and pass --vision-tower DIR`,
      );
    }
    // llava-hf configs carry the tower's config; LLaVA configs only name it.
    const hfClip = config.vision_config !== undefined ? clipVisionFromHf(config, join(checkpointDir, 'config.json')) : undefined;
    const tower: VisionTower = hfClip ? { clip: hfClip, processor: clipProcessorForSize(hfClip.imageSize) } : visionTowerFor(vision);
    const bound = bindTower(checkpointDir, tensors, (weightDtype) => buildClipVisionTower(tower.clip, { selectLayer, prefix, ...(weightDtype ? { weightDtype } : {}) }), prefix, opts);
    return { source: `${checkpointDir} (embedded, ${prefix}*)`, tower, ...bound };
  } finally {
    tensors.close();
  }
}

/** LLaVA-NeXT's `image_newline` [d] from the checkpoint (LLaVA or llava-hf name), converted to f32. */
export function readImageNewline(checkpointDir: string): HostTensor | undefined {
  const tensors = SafetensorsStore.fromDir(checkpointDir);
  try {
    const name = ['model.image_newline', 'image_newline', 'model.image_newline.weight'].find((n) => tensors.has(n));
    if (name === undefined) return undefined;
    const t = tensors.get(name);
    return { dtype: 'f32', shape: t.shape, data: Float32Array.from(t.data) };
  } finally {
    tensors.close();
  }
}
