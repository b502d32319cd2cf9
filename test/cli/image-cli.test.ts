/**
 * `modc run --checkpoint --image`: the image goes through the model's preprocessing (pad or anyres), the CLIP
 * tower (a local directory, `--vision-tower`, or embedded), the projector and image_newline, and is spliced where
 * `<image>` stands. The CLI's answer must equal the same pipeline assembled from the library and fed through the
 * --inputs machine interface.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import {
  clipEncoder,
  imageToVisionEmbeddings,
  openCheckpoint,
  openVisionTower,
  readCheckpointConfig,
  readImageNewline,
  visionTokenCount,
} from '../../models/index.js';
import { chatPrompt, type HostTensor, loadImage, loadTokenizer, makeTensor, referenceExecutor, SafetensorsFile, StreamDecoder, tensorEntry, tokenizeWithImages, writeSafetensors } from '../../src/index.js';
import { TINY_TOWER_PINPOINTS, writeCheckpoint, writeVisionTower } from '../../scripts/make-checkpoint.js';
import { type CliRun, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/temp.js';

const cli = (...argv: string[]): Promise<CliRun> => runCli(argv, { reference: true });

const root = tempDir('modc-image-');

function writePng(name: string, w: number, h: number, seed: number): string {
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h * 4; i++) png.data[i] = (i * 37 + seed * 101 + ((i * i) % 251)) & 255;
  const path = join(root, name);
  writeFileSync(path, PNG.sync.write(png));
  return path;
}

/** The answer the library pipeline gives: vision embeddings computed directly, then --inputs/--out, decoded. */
async function libraryAnswer(dir: string, image: string, question: string, maxNew: number, towerDir?: string): Promise<{ text: string; embeds: HostTensor }> {
  const ck = openCheckpoint(dir);
  const { config } = readCheckpointConfig(dir);
  const tower = openVisionTower(dir, ck.spec, config, towerDir ? { towerDir } : {});
  const ex = referenceExecutor();
  const clip = await ex.prepare(tower.graph, tower.weights);
  const proj = await ex.prepare(ck.projector ?? tower.graph, ck.weights);
  const newline = readImageNewline(dir);
  const embeds = await imageToVisionEmbeddings(loadImage(image), {
    vision: ck.spec.vision ?? (() => { throw new Error('no vision'); })(),
    tower: tower.tower,
    encode: clipEncoder(clip),
    project: async (f) => (await proj.run({ image_features: f })).vision_embeds ?? f,
    ...(newline ? { imageNewline: newline } : {}),
  });
  const tok = loadTokenizer(dir);
  const ids = tokenizeWithImages(chatPrompt(`<image>\n${question}`), tok);
  const inPath = join(root, `in-${Math.random().toString(36).slice(2)}.safetensors`);
  const outPath = `${inPath}.out`;
  writeSafetensors(inPath, [tensorEntry('input_ids', makeTensor('i32', [ids.length], ids)), tensorEntry('vision_embeds', embeds)]);
  const r = await cli('run', '--checkpoint', dir, '--inputs', inPath, '--out', outPath, '--max-new-tokens', String(maxNew));
  expect(r.code).toBe(0);
  const f = SafetensorsFile.open(outPath);
  const gen = maxNew > 0 ? Array.from(f.get('generated_ids').data) : [];
  f.close();
  const sd = new StreamDecoder(tok);
  const text = gen.map((id) => sd.push(id)).join('') + sd.finish();
  return { text, embeds };
}

describe('modc run --image', () => {
  const pad = join(root, 'pmod');
  writeCheckpoint(pad, { kind: 'pmod-llava', dtype: 'f32', seed: 2, visionTower: 'full' });
  const img = writePng('wide.png', 9, 5, 1);

  it('LLaVA-1.5 (pad): the tower named by mm_vision_tower as a local directory; same answer as the library pipeline', async () => {
    const r = await cli('run', '--checkpoint', pad, '--image', img, '--prompt', 'What is shown?', '--max-new-tokens', '4');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.progress).toContain(`encoding ${img} (9x5, 1 crop) with ${join(pad, 'vision_tower')}`);
    const lib = await libraryAnswer(pad, img, 'What is shown?', 4);
    expect(r.streamed.trimEnd()).toBe(lib.text);
    // The tiny tower turns the 28x28 crop into 4 patches: 4 vision tokens.
    expect(lib.embeds.shape).toEqual([4, 64]);
  });

  it('different images give different vision embeddings', async () => {
    const other = writePng('other.png', 9, 5, 2);
    const [a, b] = [await libraryAnswer(pad, img, 'q', 0), await libraryAnswer(pad, other, 'q', 0)];
    expect(Array.from(a.embeds.data)).not.toEqual(Array.from(b.embeds.data));
  });

  it('--vision-tower DIR supplies a tower the checkpoint lacks; without it the error says what to do', async () => {
    const stub = join(root, 'stub');
    writeCheckpoint(stub, { kind: 'llava-1.5', dtype: 'bf16', seed: 3 });
    const towerDir = writeVisionTower(join(root, 'clip'), { dtype: 'f16', seed: 5 });
    const missing = await cli('run', '--checkpoint', stub, '--image', img, '--prompt', 'hi', '--max-new-tokens', '2');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/the vision tower 'openai\/clip-vit-large-patch14-336' \(mm_vision_tower\) is not in the checkpoint \(only 3 stray tensors under model\.vision_tower\.vision_tower\.vision_model\.\) .* pass --vision-tower DIR/);
    const r = await cli('run', '--checkpoint', stub, '--image', img, '--vision-tower', towerDir, '--prompt', 'hi', '--max-new-tokens', '3');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.streamed.trimEnd()).toBe((await libraryAnswer(stub, img, 'hi', 3, towerDir)).text);
  });

  it('llava-hf: the tower embedded in the checkpoint, configured by vision_config', async () => {
    const hf = join(root, 'hf');
    writeCheckpoint(hf, { kind: 'llava-hf', dtype: 'f16', seed: 6, visionTower: 'full', tokenizer: 'json' });
    const r = await cli('run', '--checkpoint', hf, '--image', img, '--prompt', 'what?', '--max-new-tokens', '3');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.progress).toContain('(embedded, vision_tower.vision_model.*)');
    expect(r.streamed.trimEnd()).toBe((await libraryAnswer(hf, img, 'what?', 3)).text);
  });

  it('LLaVA-NeXT anyres: base image + tiles + image_newline rows', async () => {
    const next = join(root, 'next');
    writeCheckpoint(next, { kind: 'pmod-llava-next', dtype: 'f32', seed: 7, visionTower: 'full', configOverrides: { image_grid_pinpoints: TINY_TOWER_PINPOINTS } });
    const tall = writePng('tall.png', 20, 50, 3);
    const r = await cli('run', '--checkpoint', next, '--image', tall, '--prompt', 'Describe.', '--max-new-tokens', '2');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.progress).toMatch(/encoding .*tall\.png \(20x50, 3 crops\)/);
    const lib = await libraryAnswer(next, tall, 'Describe.', 2);
    expect(r.streamed.trimEnd()).toBe(lib.text);
    const ck = readCheckpointConfig(next);
    expect(lib.embeds.shape[0]).toBe(visionTokenCount({ width: 20, height: 50 }, ck.spec.vision ?? (() => { throw new Error('no vision'); })(), openVisionTower(next, ck.spec, ck.config).tower));
  });

  it('reports bad image input clearly', async () => {
    const llama = join(root, 'llama');
    writeCheckpoint(llama, { kind: 'llama', dtype: 'f32', seed: 1 });
    const noVision = await cli('run', '--checkpoint', llama, '--image', img, '--prompt', 'hi');
    expect(noVision.code).toBe(1);
    expect(noVision.err).toMatch(/has no vision side/);
    const bad = join(root, 'bad.png');
    writeFileSync(bad, 'not a png at all');
    const corrupt = await cli('run', '--checkpoint', pad, '--image', bad, '--prompt', 'hi');
    expect(corrupt.code).toBe(1);
    expect(corrupt.err).toContain(bad);
    const bomb = await cli('run', '--checkpoint', pad, '--image', img, '--prompt', 'hi', '--max-image-pixels', '44');
    expect(bomb.code).toBe(1);
    expect(bomb.err).toContain(`${img}: PNG header (IHDR, byte offset 16): image size 9x5 (45 pixels) exceeds the limit of 44 pixels`);
    expect((await cli('run', '--checkpoint', pad, '--prompt', 'hi', '--max-image-pixels', '44')).err).toMatch(/--max-image-pixels does not apply without --image/);
    const noImage = await cli('run', '--checkpoint', pad, '--prompt', 'look: <image>');
    expect(noImage.code).toBe(1);
    expect(noImage.err).toMatch(/give the image with --image FILE/);
    const withInputs = await cli('run', '--checkpoint', pad, '--inputs', 'x', '--out', 'y', '--image', img);
    expect(withInputs.code).toBe(2);
  });
});
