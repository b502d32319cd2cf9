/**
 * `loadModel(dir, { backend })` in Node: a Hugging Face checkpoint directory, compiled in this process for the
 * backend (programs and kernels kept in the persistent cache), or a compiled artifact directory (plan.json), run
 * without the compiler on its own renderer's device with the weights of a checkpoint that matches its manifest.
 * Either way the Model streams answers (src/runtime/model.ts), with the checkpoint's chat template and tokenizer.
 *
 *   const m = await loadModel('ckpt/', { backend: 'wasm' });
 *   const stream = m.generate({ prompt: 'What is in the image?', image: loadImage('cat.png') });
 *   for await (const t of stream) process.stdout.write(t.text);
 *   const { timeToFirstTokenMs, tokensPerSecond } = await stream.result;
 */
import {
  clipEncoder,
  imageToVisionEmbeddings,
  llavaImageCrops,
  type LoadedCheckpoint,
  openCheckpoint,
  openVisionTower,
  readCheckpointConfig,
  patchesPerSide,
  readImageNewline,
} from '../../models/index.js';
import type { HostTensor } from '../ir/index.js';
import { isArtifactDir, pathExists } from '../io/artifact-dir.js';
import { cropPixels } from '../io/image/heatmap.js';
import type { RgbImage } from '../io/image/rgb.js';
import type { Executor } from '../runtime/executor.js';
import { type ImageView, Model, ModelError, type ModelParts } from '../runtime/model.js';
import { GenerationSession } from '../runtime/session.js';
import { checkpointParts, loadArtifactModel, type LoadModelOptions } from './artifact-model.js';

export type { LoadModelOptions };

/**
 * The vision side of a checkpoint on `executor`: an image's embeddings through the CLIP tower (loaded on first
 * use) and the projector, and the image as the tower sees it.
 */
function visionParts(ck: LoadedCheckpoint, executor: Executor, towerDir: string | undefined): Pick<ModelParts, 'encodeImage' | 'imageView'> {
  const vision = ck.spec.vision;
  const projectorGraph = ck.projector;
  if (vision === undefined || projectorGraph === undefined) return {};
  let loaded: ReturnType<typeof openVisionTower> | undefined;
  const tower = (): ReturnType<typeof openVisionTower> => (loaded ??= openVisionTower(ck.dir, ck.spec, readCheckpointConfig(ck.dir).config, towerDir !== undefined ? { towerDir } : {}));
  const imageView = (image: RgbImage): Promise<ImageView> => {
    const t = tower().tower;
    const crop = llavaImageCrops(image, vision, t).crops[0];
    if (crop === undefined) return Promise.reject(new ModelError('the image gave no crop'));
    return Promise.resolve({ view: cropPixels(crop, t.processor), side: patchesPerSide(t.clip) });
  };
  const encodeImage = async (image: RgbImage): Promise<HostTensor> => {
    const tw = tower();
    const clip = await executor.prepare(tw.graph, tw.weights);
    const projector = await executor.prepare(projectorGraph, ck.weights);
    try {
      const newline = readImageNewline(ck.dir);
      return await imageToVisionEmbeddings(image, {
        vision,
        tower: tw.tower,
        encode: clipEncoder(clip),
        project: async (features) => {
          const out = (await projector.run({ image_features: features })).vision_embeds;
          if (out === undefined) throw new ModelError('the projector graph has no vision_embeds output');
          return out;
        },
        ...(newline ? { imageNewline: newline } : {}),
      });
    } finally {
      clip.dispose();
      projector.dispose();
    }
  };
  return { encodeImage, imageView };
}

async function fromCheckpoint(dir: string, o: LoadModelOptions): Promise<Model> {
  const backend = o.backend ?? 'wasm';
  // The compiler is loaded only on this path: an artifact runs without it.
  const [{ createExecutor }, { diskCaches }] = await Promise.all([import('../backends/registry.js'), import('./caches.js')]);
  const ck = openCheckpoint(dir);
  const caches = o.cacheDir === false ? undefined : o.cacheDir === undefined ? diskCaches() : diskCaches(o.cacheDir);
  const executor = await createExecutor(backend, { ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(caches ? { programStore: caches.programs, kernelCache: caches.kernels } : {}) });
  const session = await GenerationSession.create(executor, ck, ck.weights);
  const parts = checkpointParts(dir, ck.spec);
  const eos = ck.generation.eosTokenIds.length ? ck.generation.eosTokenIds : parts.tokenizer.eosId !== undefined ? [parts.tokenizer.eosId] : [];
  const vision = visionParts(ck, executor, o.visionTower);
  return new Model({
    name: ck.spec.name,
    backend,
    ...parts,
    eosTokenIds: eos,
    generator: () => Promise.resolve(session),
    ...vision,
    dispose: async () => {
      session.dispose();
      ck.close();
      await executor.dispose();
    },
  });
}

/** A model from a checkpoint directory (compiled here) or a compiled artifact directory (run without the compiler). */
export function loadModel(dir: string, opts: LoadModelOptions = {}): Promise<Model> {
  if (!pathExists(dir)) return Promise.reject(new ModelError(`${dir}: no such directory`));
  return isArtifactDir(dir) ? loadArtifactModel(dir, opts) : fromCheckpoint(dir, opts);
}
