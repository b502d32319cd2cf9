// Writes an --inputs file for `modc run --checkpoint DIR --inputs IN --out OUT`: token ids with -200 where the
// image goes, and the image as CLIP features (run through the checkpoint's projector) or as vision_embeds.
import { makeTensor, tensorEntry, writeSafetensors } from 'modc';

export function writeInputs(path: string, inputIds: readonly number[], imageFeatures?: { rows: number; width: number; values: readonly number[] }): void {
  const entries = [tensorEntry('input_ids', makeTensor('i32', [inputIds.length], inputIds))];
  // image_features [N_v, mm_hidden_size] f32; or give 'vision_embeds' [N_v, hidden_size] to skip the projector.
  if (imageFeatures) entries.push(tensorEntry('image_features', makeTensor('f32', [imageFeatures.rows, imageFeatures.width], imageFeatures.values)));
  writeSafetensors(path, entries);
}

// In Python, the same file: safetensors.torch.save_file({"input_ids": ids.int(), "image_features": feats.float()}, path)
