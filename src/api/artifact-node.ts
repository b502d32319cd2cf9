/**
 * Compiled artifacts in Node: the device for an artifact's kernels (Wasm with its binaries, WebGPU on Dawn with its
 * WGSL, or the PTX interpreter) and the checkpoint's weights bound to its manifest from the tensor headers (every
 * missing, mis-shaped, mis-typed or unexpected tensor in one CheckpointError) before any is read. Nothing here
 * reaches the compiler.
 */
import { checkpointLayout, type ModelSpec, readCheckpointConfig } from '../../models/index.js';
import { PtxEmuDevice } from '../backends/cuda-ptx/emu-device.js';
import { artifactKernelCache } from '../backends/wasm/artifact-kernels.js';
import { WasmDevice } from '../backends/wasm/device.js';
import { artifactShaders, missingFeatures } from '../backends/webgpu/artifact-shaders.js';
import type { MapStore, TensorStore } from '../ir/index.js';
import { bindManifest } from '../io/manifest-binding.js';
import { SafetensorsStore } from '../io/safetensors/index.js';
import type { ArtifactWithCode } from '../runtime/artifact.js';
import type { Device } from '../runtime/device.js';
import { Field } from '../runtime/plan-json.js';

export class ArtifactDeviceError extends Error {
  override name = 'ArtifactDeviceError';
}

/** The device that runs an artifact's kernels. */
export async function artifactDevice(a: ArtifactWithCode, threads: number | undefined): Promise<Device> {
  const r = a.artifact.renderer;
  if (r.kind === 'wasm') return new WasmDevice({ kernelCache: artifactKernelCache(a), relaxedSimd: r.relaxedFma, ...(threads !== undefined ? { threads } : {}) }) as Device;
  if (r.kind === 'ptx') return new PtxEmuDevice() as Device;
  if (r.kind === 'gpujs') {
    // Node has no WebGL context: gpu.js's cpu mode runs the same kernel source (a check, not a fast path).
    const { openCpuWebGlDevice } = await import('../backends/webgl/cpu.js');
    return (await openCpuWebGlDevice()) as Device;
  }
  const { openDawnDevice } = await import('../backends/webgpu/node.js');
  const d = await openDawnDevice({ shaders: artifactShaders(a) });
  const missing = missingFeatures(a.artifact.target, d.target);
  if (missing.length) {
    await d.dispose();
    throw new ArtifactDeviceError(`the artifact's shaders need ${missing.join(' and ')}, which this WebGPU adapter (${d.target.device}) lacks: compile with --target webgpu`);
  }
  return d as Device;
}

/** The artifact's ModelSpec, with the fields the input builders read checked. */
export function artifactSpec(a: ArtifactWithCode): ModelSpec {
  const f = new Field(a.artifact.model.spec, 'plan.json: model.spec');
  f.get('name').str();
  const llm = f.get('llm');
  for (const k of ['vocabSize', 'hiddenSize', 'maxPositions', 'numLayers']) llm.get(k).int(1);
  // Checked above where it is read; the rest is the compiler's own record of the model.
  return a.artifact.model.spec as ModelSpec;
}

/** The manifest's weights of one part from a directory's safetensors; `usedElsewhere` as bindManifest takes it. */
function bindDir(a: ArtifactWithCode, root: string, vision: boolean, usedElsewhere: (name: string) => string | undefined): MapStore {
  const tensors = SafetensorsStore.fromDir(root);
  try {
    return bindManifest(root, a.artifact.weights.filter((w) => (w.part === 'vision') === vision), tensors, usedElsewhere);
  } finally {
    tensors.close();
  }
}

/**
 * The checkpoint's tensors bound to the artifact's weight manifest from the headers (src/io/manifest-binding.ts),
 * then read in the manifest's dtypes: the language model's from the checkpoint directory (a tensor of no graph
 * that LLaVA does not expect elsewhere is a sign of another model), the vision tower's from its own directory
 * (the artifact's vision.weightsDir under the checkpoint, or `towerDir`), where the tower's unused layers are fine.
 */
export function checkpointWeights(a: ArtifactWithCode, dir: string, towerDir?: string): TensorStore {
  const others = checkpointLayout(a.artifact.model.modelType ?? readCheckpointConfig(dir).modelType, artifactSpec(a).llm.tieWordEmbeddings);
  const store = bindDir(a, dir, false, (name) => others.usedElsewhere(name) ?? (/mm_projector|multi_modal_projector/.test(name) ? 'the projector, not in this artifact' : undefined));
  const vision = a.artifact.vision;
  if (vision !== undefined) {
    const root = towerDir ?? (vision.weightsDir === '.' ? dir : `${dir}/${vision.weightsDir}`);
    const tower = bindDir(a, root, true, () => 'not read by this plan');
    for (const name of tower.names()) store.set(name, tower.get(name));
  }
  return store;
}
