/**
 * A Model (src/runtime/model.ts) from a compiled artifact directory, run without the compiler: the artifact read
 * and checked, the checkpoint's weights bound to its manifest, one PlanSession per vision-token count on the
 * device of the artifact's kernels. Also the parts every Node loader shares (tokenizer, chat template, inputs).
 */
import { type ModelSpec, spliceImage } from '../../models/index.js';
import { artifactDirSource, pathExists } from '../io/artifact-dir.js';
import { checkpointChatTemplate } from '../io/chat-template-file.js';
import { loadTokenizer } from '../io/tokenizer/index.js';
import { loadArtifact } from '../runtime/artifact.js';
import { type Generator, Model, ModelError, type ModelParts, type SpliceFn } from '../runtime/model.js';
import { PlanSession } from '../runtime/plan-session.js';
import { PlanVision, towerInput } from '../runtime/plan-vision.js';
import { cropPixels } from '../io/image/heatmap.js';
import type { RgbImage } from '../io/image/rgb.js';
import { DeviceResidency } from '../runtime/runner.js';
import { artifactDevice, artifactSpec, checkpointWeights } from './artifact-node.js';

export interface LoadModelOptions {
  /** For a checkpoint: the backend it is compiled for and run on (default 'wasm'). An artifact runs on the device of its kernels. */
  readonly backend?: string;
  /** For an artifact directory: the checkpoint with its weights and tokenizer (default: the one it was compiled from). */
  readonly checkpoint?: string;
  /** Where compiled programs and kernels persist (default $XDG_CACHE_HOME/modc or ~/.cache/modc); false keeps nothing. */
  readonly cacheDir?: string | false;
  /** Host threads of the Wasm device (default: the machine's cores). */
  readonly threads?: number;
  /** The CLIP tower's directory, when the checkpoint neither holds it nor names a local one. */
  readonly visionTower?: string;
}

/** The tokenizer, chat template and input builder of a checkpoint directory. */
export function checkpointParts(dir: string, spec: ModelSpec): Pick<ModelParts, 'tokenizer' | 'chat' | 'bosText' | 'splice'> {
  const tokenizer = loadTokenizer(dir);
  const { template, bosText } = checkpointChatTemplate(dir);
  const splice: SpliceFn = (ids, vision, reserve) => spliceImage(spec, ids, vision, reserve);
  return { tokenizer, chat: template, ...(bosText !== undefined ? { bosText } : {}), splice };
}

export async function loadArtifactModel(dir: string, o: LoadModelOptions = {}): Promise<Model> {
  const loaded = await loadArtifact(artifactDirSource(dir));
  const a = loaded.artifact;
  const ck = o.checkpoint ?? (a.source.kind === 'checkpoint' ? a.source.name : undefined);
  if (ck === undefined || !pathExists(ck)) throw new ModelError(`${dir}: give the checkpoint with the weights ({ checkpoint: dir }); the artifact was compiled from '${a.source.name}'`);
  const weights = checkpointWeights(loaded, ck, o.visionTower);
  const device = await artifactDevice(loaded, o.threads);
  const residency = new DeviceResidency(device);
  let vision: Promise<PlanVision<unknown, unknown>> | undefined;
  const planVision = (): Promise<PlanVision<unknown, unknown>> => (vision ??= PlanVision.load(device, loaded, weights, residency));
  const v = a.vision;
  const sessions = new Map<number, Promise<PlanSession<unknown, unknown>>>();
  const parts = checkpointParts(ck, artifactSpec(loaded));
  const eos = a.model.eosTokenIds.length ? a.model.eosTokenIds : parts.tokenizer.eosId !== undefined ? [parts.tokenizer.eosId] : [];
  const generator = (nv: number): Promise<Generator> => {
    let s = sessions.get(nv);
    if (s === undefined) {
      s = PlanSession.load(device, loaded, PlanSession.entryFor(loaded, nv), weights, residency);
      sessions.set(nv, s);
    }
    return s;
  };
  return new Model({
    name: a.model.name,
    backend: `${a.target.name} (artifact ${dir})`,
    ...parts,
    eosTokenIds: eos,
    generator,
    ...(v !== undefined
      ? {
          encodeImage: async (image: RgbImage) => (await planVision()).encode(image, PlanSession.entryFor(loaded, v.side * v.side)),
          imageView: (image: RgbImage) => Promise.resolve({ view: cropPixels(towerInput(image, v), v.processor), side: v.side }),
        }
      : {}),
    dispose: async () => {
      for (const s of sessions.values()) (await s).dispose();
      if (vision !== undefined) await (await vision).dispose();
      await device.dispose();
    },
  });
}

