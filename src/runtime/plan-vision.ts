/**
 * A compiled artifact's vision side without the compiler: an image preprocessed as LLaVA-1.5 does (padded to a
 * square with the processor's mean colour, or as it is, then the CLIP processor), the CLIP tower program and an
 * entry's projector program on a device: image -> vision rows [N_v, d] for the language model. Browser-safe.
 */
import { ExecutionError, type HostTensor } from '../ir/index.js';
import { clipPreprocess, expandToSquare, llavaPadColor } from '../io/image/clip-processor.js';
import type { RgbImage } from '../io/image/rgb.js';
import type { ArtifactEntry, ArtifactVision, LoadedArtifact } from './artifact.js';
import type { Device } from './device.js';
import { type DeviceResidency, ProgramRunner } from './runner.js';
import type { TensorStore } from '../ir/index.js';

/** The tower's input for an image, and the image as the tower sees it (before normalisation). */
export function towerInput(image: RgbImage, v: ArtifactVision): HostTensor {
  const square = v.aspect === 'pad' ? expandToSquare(image, llavaPadColor(v.processor)) : image;
  return clipPreprocess(square, v.processor);
}

export class PlanVision<B, K> {
  private readonly projectors = new Map<number, Promise<ProgramRunner<B, K>>>();

  private constructor(
    readonly vision: ArtifactVision,
    private readonly loaded: LoadedArtifact,
    private readonly device: Device<B, K>,
    private readonly store: TensorStore,
    private readonly residency: DeviceResidency<B>,
    private readonly tower: ProgramRunner<B, K>,
  ) {}

  static async load<B, K>(device: Device<B, K>, loaded: LoadedArtifact, store: TensorStore, residency: DeviceResidency<B>): Promise<PlanVision<B, K>> {
    const v = loaded.artifact.vision;
    if (v === undefined) throw new ExecutionError('the artifact has no vision tower (compile it from a checkpoint that has one, or give --vision-tower DIR)');
    const p = loaded.programs[v.tower.program];
    if (p === undefined) throw new ExecutionError('internal: the tower program index is out of range');
    return new PlanVision(v, loaded, device, store, residency, await ProgramRunner.load(device, p, store, residency));
  }

  /** Vision tokens of one image: the tower's patches. */
  get visionTokens(): number {
    return this.vision.side * this.vision.side;
  }

  private projector(entry: ArtifactEntry): Promise<ProgramRunner<B, K>> {
    let r = this.projectors.get(entry.visionTokens);
    if (r === undefined) {
      const p = entry.projector === undefined ? undefined : this.loaded.programs[entry.projector.program];
      if (p === undefined) throw new ExecutionError(`the artifact's entry for ${entry.visionTokens} vision tokens has no projector`);
      r = ProgramRunner.load(this.device, p, this.store, this.residency);
      this.projectors.set(entry.visionTokens, r);
    }
    return r;
  }

  /** Vision rows [N_v, d] of an image, through the tower and `entry`'s projector. */
  async encode(image: RgbImage, entry: ArtifactEntry): Promise<HostTensor> {
    const features = (await this.tower.run({ pixel_values: towerInput(image, this.vision) })).image_features;
    if (features === undefined) throw new ExecutionError('the tower program has no image_features output');
    const rows = (await (await this.projector(entry)).run({ image_features: features })).vision_embeds;
    if (rows === undefined) throw new ExecutionError('the projector program has no vision_embeds output');
    return rows;
  }

  async dispose(): Promise<void> {
    this.tower.dispose();
    for (const r of this.projectors.values()) (await r).dispose();
  }
}
