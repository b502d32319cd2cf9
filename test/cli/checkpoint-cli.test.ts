/**
 * `modc run --checkpoint`: the --inputs/--out machine interface end to end (in process, as a user would run it),
 * the streamed --prompt chat, and the errors users get for bad checkpoints and bad inputs.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openCheckpoint, spliceImage } from '../../models/index.js';
import { chatPrompt, type HostTensor, loadTokenizer, makeTensor, referenceExecutor, Rng, SafetensorsFile, tensorEntry, type TensorEntry, tokenizeWithImages, writeSafetensors } from '../../src/index.js';
import { main } from '../../src/cli/main.js';
import { argmax, Sampler } from '../../src/runtime/sampling.js';
import { GenerationSession } from '../../src/runtime/session.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { tempDir } from '../helpers/temp.js';

interface Run {
  code: number;
  out: string;
  err: string;
  progress: string;
}

async function cli(...given: string[]): Promise<Run> {
  // These tests check the interface against the reference backend's exact results.
  const argv = given[0] === 'run' && !given.includes('--backend') ? [...given, '--backend', 'reference'] : given;
  const out: string[] = [];
  const err: string[] = [];
  const progress: string[] = [];
  const code = await main(argv, (s) => out.push(s), (s) => err.push(s), { progress: { write: (s: string) => progress.push(s), isTTY: false } });
  return { code, out: out.join('\n'), err: err.join('\n'), progress: progress.join('') };
}

const root = tempDir('modc-cli-');
const pmod = join(root, 'pmod');
writeCheckpoint(pmod, { kind: 'pmod-llava', dtype: 'f32', seed: 4 });
const NV = 20;
const rng = new Rng(8);
const text = Array.from({ length: 12 }, () => 3 + rng.int(380));
const IMAGE_AT = 4;
const ids = [...text.slice(0, IMAGE_AT), -200, ...text.slice(IMAGE_AT)];
const features = makeTensor('f32', [NV, 32], Array.from({ length: NV * 32 }, () => rng.normal()));

function inputsFile(name: string, tensors: Record<string, HostTensor>, as: Record<string, 'I64'> = {}): string {
  const path = join(root, name);
  writeSafetensors(path, Object.entries(tensors).map(([n, t]): TensorEntry => tensorEntry(n, t, as[n])));
  return path;
}

function readOut(path: string): { tensors: Record<string, HostTensor>; metadata: Readonly<Record<string, string>> } {
  const f = SafetensorsFile.open(path);
  const tensors = Object.fromEntries(f.names().map((n) => [n, f.get(n)]));
  const metadata = f.metadata;
  f.close();
  return { tensors, metadata };
}

describe('modc run --checkpoint --inputs --out', () => {
  const idsT = makeTensor('i32', [ids.length], ids);

  it('writes logits, routing and the greedy continuation for image_features', async () => {
    const inPath = inputsFile('in-features.safetensors', { input_ids: idsT, image_features: features });
    const outPath = join(root, 'out-features.safetensors');
    const r = await cli('run', '--checkpoint', pmod, '--inputs', inPath, '--out', outPath, '--max-new-tokens', '4');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe(`wrote ${outPath}: logits [32, 384], routing of 6 MoD layers, 4 generated tokens`);
    expect(r.progress).toBe('');
    const { tensors: o, metadata } = readOut(outPath);
    expect(Object.keys(o).sort()).toEqual(['generated_ids', 'generated_logits', 'logits', ...[2, 3, 4, 5, 6, 7].map((l) => `routing.layer${l}`)].sort());
    expect(o.logits?.shape).toEqual([ids.length - 1 + NV, 384]);
    expect(metadata).toMatchObject({ format: 'modc', sequence_length: '32', vision_tokens: '20', vision_start: '4', stop: 'length', generated: '4' });

    // The same computation in process: projector, prefill, greedy decode.
    const ck = openCheckpoint(pmod);
    const proj = await referenceExecutor().prepare(ck.projector ?? ck.decode, ck.weights);
    const embeds = (await proj.run({ image_features: features })).vision_embeds;
    const session = await GenerationSession.create(referenceExecutor(), { prefill: ck.prefillAllLogits, decode: ck.decode }, ck.weights);
    const res = await session.generate(spliceImage(ck.spec, ids, embeds, 4).inputs, { maxNewTokens: 4, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [2] });
    expect(Array.from(o.logits?.data ?? [])).toEqual(Array.from(res.prefill.logits.data));
    for (let l = 2; l < 8; l++) {
      const kept = Array.from(o[`routing.layer${l}`]?.data ?? []);
      expect(o[`routing.layer${l}`]?.dtype).toBe('i32');
      expect(kept).toEqual(Array.from(res.prefill.outputs[`routing.layer${l}`]?.data ?? [], (p) => p - IMAGE_AT));
      expect(kept.every((k, i) => k >= 0 && k < NV && (i === 0 || k > (kept[i - 1] ?? -1)))).toBe(true);
    }
    expect(Array.from(o.generated_ids?.data ?? [])).toEqual([...res.tokens]);
    expect(o.generated_logits?.shape).toEqual([4, 384]);
    for (let i = 0; i < 4; i++) expect(argmax((o.generated_logits?.data ?? new Float32Array()).subarray(i * 384, (i + 1) * 384))).toBe(res.tokens[i]);
    // vision_embeds (used as is) give the same result as the features through the projector; I64 ids are read too.
    const inEmbeds = inputsFile('in-embeds.safetensors', { input_ids: idsT, vision_embeds: embeds ?? makeTensor('f32', [0, 64]) }, { input_ids: 'I64' });
    const outEmbeds = join(root, 'out-embeds.safetensors');
    expect((await cli('run', '--checkpoint', pmod, '--inputs', inEmbeds, '--out', outEmbeds, '--max-new-tokens', '4')).code).toBe(0);
    const e = readOut(outEmbeds).tensors;
    expect(Array.from(e.logits?.data ?? [])).toEqual(Array.from(o.logits?.data ?? []));
    expect(Array.from(e.generated_ids?.data ?? [])).toEqual(Array.from(o.generated_ids?.data ?? []));
  });

  it('stops at EOS with fewer rows, the last being the EOS token', async () => {
    const dir = join(root, 'pmod-eos');
    writeCheckpoint(dir, { kind: 'pmod-llava', dtype: 'f32', seed: 4 });
    const inPath = inputsFile('in-eos.safetensors', { input_ids: idsT, image_features: features });
    const first = join(root, 'out-eos-1.safetensors');
    expect((await cli('run', '--checkpoint', dir, '--inputs', inPath, '--out', first, '--max-new-tokens', '6')).code).toBe(0);
    const full = Array.from(readOut(first).tensors.generated_ids?.data ?? []);
    expect(full).toHaveLength(6);
    // Declare the token generated at the first step j whose token is new as EOS: generation must stop there.
    const j = Math.max(0, full.findIndex((t, i) => i > 0 && !full.slice(0, i).includes(t)));
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 1, eos_token_id: [full[j]] }));
    const second = join(root, 'out-eos-2.safetensors');
    const r = await cli('run', '--checkpoint', dir, '--inputs', inPath, '--out', second, '--max-new-tokens', '6');
    expect(r.out).toMatch(new RegExp(`${j + 1} generated tokens \\(stopped at EOS\\)`));
    const { tensors: o, metadata } = readOut(second);
    expect(Array.from(o.generated_ids?.data ?? [])).toEqual(full.slice(0, j + 1));
    expect(o.generated_logits?.shape).toEqual([j + 1, 384]);
    expect(metadata).toMatchObject({ stop: 'eos', generated: String(j + 1), max_new_tokens: '6' });
  });

  it('runs text only (no -200) and writes no generation with --max-new-tokens 0', async () => {
    const inPath = inputsFile('in-text.safetensors', { input_ids: makeTensor('i32', [text.length], text) });
    const outPath = join(root, 'out-text.safetensors');
    const r = await cli('run', '--checkpoint', pmod, '--inputs', inPath, '--out', outPath);
    expect(r.code).toBe(0);
    const { tensors: o, metadata } = readOut(outPath);
    expect(o.logits?.shape).toEqual([text.length, 384]);
    expect(o['routing.layer2']?.shape).toEqual([0]);
    expect(o.generated_ids).toBeUndefined();
    expect(metadata).toMatchObject({ vision_tokens: '0', vision_start: '', stop: '' });
  });

  const bad: [string, Record<string, HostTensor>, RegExp][] = [
    ['vision input without -200', { input_ids: makeTensor('i32', [text.length], text), image_features: features }, /bad-vision-input-without-200.safetensors: vision rows given but tensor 'input_ids' has no image position \(-200\)$/],
    ['vision_embeds without -200', { input_ids: makeTensor('i32', [text.length], text), vision_embeds: makeTensor('f32', [3, 64]) }, /: vision rows given but tensor 'input_ids' has no image position \(-200\)$/],
    ['two -200s', { input_ids: makeTensor('i32', [5], [5, -200, 6, -200, 7]), image_features: features }, /: tensor 'input_ids' holds 2 image positions \(-200\) at elements 1, 3; one image is supported$/],
    ['-200 without vision input', { input_ids: makeTensor('i32', [5], [5, 6, 7, -200, 8]) }, /: tensor 'input_ids' has an image position \(-200\) at element 3 but no image_features or vision_embeds were given$/],
    ['wrong vision_embeds width', { input_ids: idsT, vision_embeds: makeTensor('f32', [3, 48]) }, /tensor 'vision_embeds' must be \[N_v, 64\] \(the model's hidden size\), got \[3, 48\]/],
    ['wrong image_features width', { input_ids: idsT, image_features: makeTensor('f32', [3, 31]) }, /tensor 'image_features' must be \[N_v, 32\] \(mm_hidden_size\), got \[3, 31\]/],
    ['both vision inputs', { input_ids: idsT, image_features: features, vision_embeds: makeTensor('f32', [3, 64]) }, /give tensor 'image_features' or 'vision_embeds', not both/],
    ['an id outside the vocabulary', { input_ids: makeTensor('i32', [3], [5, 6, 999]) }, /: tensor 'input_ids' element 2 = 999 is outside the vocabulary \[0, 384\)$/],
    ['no input_ids', { tokens: makeTensor('i32', [3], [5, 6, 7]) }, /tensor 'tokens' is not an input: expected input_ids/],
    ['float input_ids', { input_ids: makeTensor('f32', [2], [1, 2]) }, /: tensor 'input_ids' must be an int32 \(or int64\) vector, got F32 \[2\]$/],
  ];
  it.each(bad)('rejects %s', async (name, tensors, message) => {
    const inPath = inputsFile(`bad-${name.replace(/\W+/g, '-')}.safetensors`, tensors);
    const outPath = join(root, 'never.safetensors');
    const r = await cli('run', '--checkpoint', pmod, '--inputs', inPath, '--out', outPath);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(() => readFileSync(outPath)).toThrow(/ENOENT/);
  });
});

describe('modc run --checkpoint errors', () => {
  it('names a missing config.json, a corrupt safetensors file and missing tensors', async () => {
    const dir = join(root, 'broken');
    writeCheckpoint(dir, { kind: 'llama', dtype: 'f32', numLayers: 2 });
    const inPath = inputsFile('in-small.safetensors', { input_ids: makeTensor('i32', [3], [5, 6, 7]) });
    const run = (): Promise<Run> => cli('run', '--checkpoint', dir, '--inputs', inPath, '--out', join(root, 'x.safetensors'));
    const model = join(dir, 'model.safetensors');
    const bytes = readFileSync(model);
    writeFileSync(model, bytes.subarray(0, 100));
    let r = await run();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/modc run: SafetensorsError: .*model.safetensors: byte 0: header length \d+ is larger than the file \(100 bytes\)/);
    const f = SafetensorsFile.open(join(pmod, 'model.safetensors'));
    writeSafetensors(model, f.names().filter((n) => n.startsWith('model.layers.0.') || n === 'model.norm.weight').map((n) => tensorEntry(n, f.get(n))));
    f.close();
    writeFileSync(join(dir, 'config.json'), readFileSync(join(pmod, 'config.json')));
    r = await run();
    expect(r.err).toMatch(/modc run: CheckpointError: .*broken: \d+ problems binding the checkpoint to the model:\n {2}missing {4}model.embed_tokens.weight: expected f32 \[384, 64\]/);
    expect(r.err).toMatch(/missing {4}model.layers.7.decoder_layer.mlp.down_proj.weight/);
    rmSync(join(dir, 'config.json'));
    r = await run();
    expect(r.err).toMatch(/modc run: ConfigError: .*broken: no config.json/);
  });

  it('explains usage mistakes', async () => {
    const p = await cli('run', '--checkpoint', pmod, '--prompt', 'Describe <image> please');
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/the prompt contains <image>: give the image with --image FILE/);
    expect((await cli('run', '--checkpoint', pmod, '--prompt', 'x', '--inputs', 'a.safetensors')).err).toMatch(/give --prompt or --inputs, not both/);
    expect((await cli('run', '--checkpoint', pmod, '--inputs', 'a.safetensors')).code).toBe(2);
    expect((await cli('run', '--checkpoint', pmod)).err).toMatch(/--checkpoint needs --prompt TEXT or --inputs/);
    expect((await cli('run', '--prompt', 'hi', 'tiny-pmod')).err).toMatch(/--prompt does not apply without --checkpoint DIR/);
    expect((await cli('run', '--checkpoint', pmod, '--prompt', 'hi', '--temperature', 'hot')).err).toMatch(/--temperature must be a number, got 'hot'/);
    expect((await cli('run', '--checkpoint', pmod, '--inputs', 'a', '--out', 'b', '--temperature', '1')).err).toMatch(/--temperature \(an --inputs run is greedy\) does not apply with --inputs/);
    expect((await cli('run', '--checkpoint', pmod, 'tiny-pmod', '--prompt', 'x')).err).toMatch(/--checkpoint takes no model argument/);
  });
});

describe('modc run --checkpoint --prompt', () => {
  it('streams the greedy answer to stdout, keeping progress off it', async () => {
    const r = await cli('run', '--checkpoint', pmod, '--prompt', 'What is shown in this image?', '--max-new-tokens', '6', '--progress');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.progress).toMatch(/loading weights \[#+\] 100%/);
    const tok = loadTokenizer(pmod);
    const ck = openCheckpoint(pmod);
    const session = await GenerationSession.create(referenceExecutor(), ck, ck.weights);
    const ids = tokenizeWithImages(chatPrompt('What is shown in this image?'), tok);
    const res = await session.generate(spliceImage(ck.spec, ids, undefined).inputs, { maxNewTokens: 6, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [2] });
    expect(r.out).toBe(`${tok.decode(res.tokens)}\n`);
  });

  it('samples reproducibly with a seed', async () => {
    const args = ['run', '--checkpoint', pmod, '--prompt', 'Hello', '--max-new-tokens', '8', '--temperature', '1.5', '--top-p', '0.95', '--seed'];
    const a = await cli(...args, '7');
    const b = await cli(...args, '7');
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
  });
});

describe('other checkpoint kinds through the CLI', () => {
  it('chats with a Vicuna-style Llama checkpoint (tied embeddings, tokenizer.json)', async () => {
    const dir = join(root, 'llama');
    writeCheckpoint(dir, { kind: 'llama', dtype: 'f16', numLayers: 2, tieWordEmbeddings: true, tokenizer: 'json' });
    const r = await cli('run', '--checkpoint', dir, '--prompt', 'Hi there', '--max-new-tokens', '3', '--template', 'none');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const tok = loadTokenizer(dir);
    expect(tok.source).toMatch(/tokenizer\.json$/);
    const ck = openCheckpoint(dir);
    const session = await GenerationSession.create(referenceExecutor(), ck, ck.weights);
    const res = await session.generate(spliceImage(ck.spec, tok.encode('Hi there'), undefined).inputs, { maxNewTokens: 3, sampler: new Sampler({ temperature: 0 }), eosTokenIds: [2] });
    expect(r.out).toBe(`${tok.decode(res.tokens)}\n`);
  });

  it('runs a llava-hf LLaVA-NeXT checkpoint (bf16, sharded) on image features', async () => {
    const dir = join(root, 'next-hf');
    writeCheckpoint(dir, { kind: 'llava-next-hf', dtype: 'bf16', numLayers: 3, shards: 2 });
    const inPath = inputsFile('in-next.safetensors', { input_ids: makeTensor('i32', [ids.length], ids), image_features: features });
    const outPath = join(root, 'out-next.safetensors');
    const r = await cli('run', '--checkpoint', dir, '--inputs', inPath, '--out', outPath, '--max-new-tokens', '2');
    expect(r.err).toBe('');
    expect(r.out).toBe(`wrote ${outPath}: logits [32, 384], routing of 0 MoD layers, 2 generated tokens`);
    expect(readOut(outPath).metadata).toMatchObject({ model_type: 'llava_next' });
  });
});

describe('modc run --checkpoint on the wasm backend (the default)', () => {
  it('generates the reference backend greedy tokens, with logits within f32 tolerance', async () => {
    const inPath = inputsFile('in-wasm.safetensors', { input_ids: makeTensor('i32', [ids.length], ids), image_features: features });
    const [outRef, outWasm] = [join(root, 'out-ref.safetensors'), join(root, 'out-wasm.safetensors')];
    expect((await cli('run', '--checkpoint', pmod, '--inputs', inPath, '--out', outRef, '--max-new-tokens', '5', '--backend', 'reference')).code).toBe(0);
    const r = await main(['run', '--checkpoint', pmod, '--inputs', inPath, '--out', outWasm, '--max-new-tokens', '5'], () => undefined, () => undefined, { progress: { write: () => undefined, isTTY: false } });
    expect(r).toBe(0);
    const [a, b] = [readOut(outRef).tensors, readOut(outWasm).tensors];
    expect(Array.from(b.generated_ids?.data ?? [])).toEqual(Array.from(a.generated_ids?.data ?? []));
    for (const name of Object.keys(a).filter((n) => n.startsWith('routing.'))) expect(Array.from(b[name]?.data ?? [])).toEqual(Array.from(a[name]?.data ?? []));
    const [la, lb] = [a.logits?.data ?? [], b.logits?.data ?? []];
    expect(lb.length).toBe(la.length);
    let worst = 0;
    for (let i = 0; i < la.length; i++) worst = Math.max(worst, Math.abs((la[i] ?? 0) - (lb[i] ?? 0)));
    expect(worst).toBeLessThan(1e-3);
  }, 60_000);
});
