/**
 * Checkpoint directories in Hugging Face layout: every fixture kind in fp32 / fp16 / bf16, sharded and not, binds
 * and loads exactly; bad checkpoints are reported with every problem at once; loading streams.
 */
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, openCheckpoint } from '../../models/index.js';
import { CheckpointError, checkpointBytes, loadedWeightBytes, makeTensor, progressBar, SafetensorsFile, SafetensorsStore, tensorEntry, type TensorEntry, writeSafetensors } from '../../src/index.js';
import { FIXTURE_KINDS, writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { tempDir } from '../helpers/temp.js';

const tmp = (): string => tempDir('modc-ck-');

/** Rewrites a single-file checkpoint's tensors through `edit` (entries by name). */
function editWeights(dir: string, edit: (m: Map<string, TensorEntry>) => void): void {
  const path = join(dir, 'model.safetensors');
  const f = SafetensorsFile.open(path);
  const m = new Map(f.names().map((n) => [n, tensorEntry(n, f.get(n), f.info(n).stDtype)] as const));
  f.close();
  edit(m);
  writeSafetensors(path, [...m.values()]);
}

describe('fixture checkpoints of every kind bind and load exactly', () => {
  const cases = FIXTURE_KINDS.flatMap((kind) => (['f32', 'f16', 'bf16'] as const).map((dtype, i) => [kind, dtype, i === 1 ? 2 : 1] as const));
  it.each(cases)('%s %s in %i file(s)', (kind, dtype, shards) => {
    const dir = tmp();
    const w = writeCheckpoint(dir, { kind, dtype, shards, seed: 3, numLayers: 4, tokenizer: false });
    const ck = openCheckpoint(dir);
    expect(ck.weightDtype).toBe(dtype);
    expect(ck.spec.llm.weightDtype).toBe(dtype);
    // Every bound tensor reads back bit-exactly under the graph's name.
    for (const [graphName, ckptName] of ck.plan.bindings) {
      const want = w.tensors.get(ckptName);
      const got = ck.weights.get(graphName);
      expect(got.shape).toEqual(want?.shape);
      expect(got.dtype).toBe(dtype);
      expect(Array.from(got.data)).toEqual(Array.from(want?.data ?? []));
    }
    const hf = kind === 'llava-hf' || kind === 'llava-next-hf';
    if (hf) expect(ck.plan.bindings.get('model.layers.0.self_attn.q_proj.weight')).toBe('language_model.model.layers.0.self_attn.q_proj.weight');
    if (hf) expect(ck.plan.bindings.get('model.mm_projector.2.bias')).toBe('multi_modal_projector.linear_2.bias');
    const elsewhere = [...ck.plan.usedElsewhere.keys()];
    if (kind === 'llama') expect(elsewhere).toEqual([]);
    else expect(elsewhere.some((n) => n.includes('vision_tower.'))).toBe(true);
    expect(elsewhere.some((n) => n.endsWith('image_newline'))).toBe(kind === 'pmod-llava-next' || kind === 'llava-next-hf');
    expect(ck.projector === undefined).toBe(kind === 'llama');
    expect(ck.generation.eosTokenIds).toEqual([2]);
  });

  it('binds tied embeddings without lm_head, and calls a stray lm_head tied', () => {
    const dir = tmp();
    writeCheckpoint(dir, { kind: 'llama', dtype: 'f16', numLayers: 2, tieWordEmbeddings: true, tokenizer: false });
    const ck = openCheckpoint(dir);
    expect(ck.plan.bindings.has('lm_head.weight')).toBe(false);
    editWeights(dir, (m) => m.set('lm_head.weight', tensorEntry('lm_head.weight', makeTensor('f16', [384, 64]))));
    expect(openCheckpoint(dir).plan.usedElsewhere.get('lm_head.weight')).toMatch(/tied to the token embeddings/);
  });

  it('widens a checkpoint that mixes f16 and bf16 to f32 graph weights, exactly', () => {
    const dir = tmp();
    const w = writeCheckpoint(dir, { kind: 'llava-1.5', dtype: 'bf16', numLayers: 2, tokenizer: false });
    const norm = makeTensor('f16', [64], Array.from({ length: 64 }, (_, i) => 1 + i / 1024));
    editWeights(dir, (m) => m.set('model.norm.weight', tensorEntry('model.norm.weight', norm)));
    const ck = openCheckpoint(dir);
    expect(ck.weightDtype).toBe('f32');
    expect(ck.weights.get('model.norm.weight')).toMatchObject({ dtype: 'f32' });
    expect(Array.from(ck.weights.get('model.norm.weight').data)).toEqual(Array.from(norm.data));
    expect(Array.from(ck.weights.get('model.embed_tokens.weight').data)).toEqual(Array.from(w.tensors.get('model.embed_tokens.weight')?.data ?? []));
    // Widened to f32, the loaded weights take twice the bytes they take in the files.
    expect(loadedWeightBytes(ck.plan)).toBe(2 * ck.plan.storedBytes);
  });
});

describe('checkpoint sizes from the headers alone', () => {
  it('checkpointBytes sums every shard data section without reading a tensor', () => {
    const dir = tmp();
    const w = writeCheckpoint(dir, { kind: 'pmod-llava', dtype: 'bf16', numLayers: 4, shards: 3, tokenizer: false });
    const shards = w.files.filter((f) => f.endsWith('.safetensors'));
    const dataBytes = shards.reduce((n, f) => {
      const file = SafetensorsFile.open(join(dir, f));
      const bytes = file.fileSize - file.header.dataStart;
      file.close();
      return n + bytes;
    }, 0);
    const store = SafetensorsStore.fromDir(dir);
    // Cut every shard down to its header: a read would now fail, a header-only sum must not.
    for (const f of shards) {
      const file = SafetensorsFile.open(join(dir, f));
      const start = file.header.dataStart;
      file.close();
      truncateSync(join(dir, f), start);
    }
    expect(checkpointBytes(store)).toBe(dataBytes);
    expect(checkpointBytes(store, ['model.norm.weight'])).toBe(64 * 2);
    expect(() => store.get('model.norm.weight')).toThrow(/unexpected end of file/);
    store.close();
  });
});

describe('bad checkpoints', () => {
  it('lists every missing, unexpected, mis-shaped and mistyped tensor in one error', () => {
    const dir = tmp();
    writeCheckpoint(dir, { kind: 'pmod-llava', dtype: 'bf16', numLayers: 4, tokenizer: false });
    editWeights(dir, (m) => {
      m.delete('model.layers.3.router.router.bias');
      m.delete('model.mm_projector.0.weight');
      m.set('model.layers.0.self_attn.q_proj.weight', tensorEntry('model.layers.0.self_attn.q_proj.weight', makeTensor('bf16', [64, 32])));
      m.set('model.norm.weight', tensorEntry('model.norm.weight', makeTensor('i32', [64])));
      m.set('model.layers.9.mlp.up_proj.weight', tensorEntry('model.layers.9.mlp.up_proj.weight', makeTensor('bf16', [128, 64])));
    });
    let err: unknown;
    try {
      openCheckpoint(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CheckpointError);
    const msg = (err as CheckpointError).message;
    expect((err as CheckpointError).problems).toHaveLength(5);
    expect(msg).toContain(`${dir}: 5 problems binding the checkpoint to the model:`);
    expect(msg).toContain('missing    model.layers.3.router.router.bias: expected bf16 [1]');
    expect(msg).toContain('missing    model.mm_projector.0.weight: expected bf16 [64, 32]');
    expect(msg).toContain(`shape      model.layers.0.self_attn.q_proj.weight: expected [64, 64], found BF16 [64, 32] in ${join(dir, 'model.safetensors')}`);
    expect(msg).toContain('dtype      model.norm.weight: expected bf16 (or a 16-bit float widened to f32), found I32');
    expect(msg).toContain('unexpected model.layers.9.mlp.up_proj.weight: BF16 [128, 64]');
  });

  it('names the llava-hf candidates it looked for', () => {
    const dir = tmp();
    writeCheckpoint(dir, { kind: 'llava-hf', dtype: 'f32', numLayers: 2, tokenizer: false });
    editWeights(dir, (m) => m.delete('language_model.lm_head.weight'));
    expect(() => openCheckpoint(dir)).toThrow(/missing {4}lm_head.weight: expected f32 \[384, 64\] \(looked for language_model.lm_head.weight, lm_head.weight\)/);
  });

  it('says what is missing from the directory', () => {
    const dir = tmp();
    expect(() => openCheckpoint(join(dir, 'nope'))).toThrow(new ConfigError(`${join(dir, 'nope')}: no such checkpoint directory`));
    expect(() => openCheckpoint(dir)).toThrow(/no config.json \(a Hugging Face checkpoint directory holds config.json and \*.safetensors\)/);
    writeCheckpoint(dir, { kind: 'llama', dtype: 'f32', numLayers: 2, tokenizer: false });
    writeFileSync(join(dir, 'config.json'), '{"model_type": "llama",');
    expect(() => openCheckpoint(dir)).toThrow(/config.json: cannot read JSON/);
    writeCheckpoint(dir, { kind: 'llama', dtype: 'f32', numLayers: 2, tokenizer: false });
    rmSync(join(dir, 'model.safetensors'));
    expect(() => openCheckpoint(dir)).toThrow(/no model.safetensors or model.safetensors.index.json/);
    writeFileSync(join(dir, 'generation_config.json'), '{"eos_token_id": "two"}');
  });

  it('passes a corrupt safetensors file through as a SafetensorsError naming it', () => {
    const dir = tmp();
    writeCheckpoint(dir, { kind: 'llama', dtype: 'f32', numLayers: 2, tokenizer: false });
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, readFileSync(path).subarray(0, 4000));
    expect(() => openCheckpoint(dir)).toThrow(new RegExp(`${path}: tensor '.*': byte \\d+: data_offsets .* reach past the end of the data section`));
  });
});

describe('weight loading', () => {
  it('streams: peak buffer memory stays below the converted weights plus the largest raw tensor', () => {
    const dir = tmp();
    // bf16, about 12 MB on disk and 25 MB converted to float32 arrays.
    writeCheckpoint(dir, { kind: 'llama', dtype: 'bf16', hiddenSize: 256, intermediateSize: 1024, numLayers: 4, vocabSize: 4096, tokenizer: false });
    const store = SafetensorsStore.fromDir(dir);
    const names = store.names();
    const raw = names.map((n) => store.info(n).shape.reduce((a, b) => a * b, 1) * 2);
    store.close();
    const stored = raw.reduce((a, b) => a + b, 0);
    const largest = Math.max(...raw);
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const ck = openCheckpoint(dir, {
      progress: () => ({
        update: () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers - before)),
        finish: () => undefined,
      }),
    });
    const converted = [...ck.plan.bindings.keys()].reduce((a, n) => a + ck.weights.get(n).data.byteLength, 0);
    expect(stored).toBeGreaterThan(10_000_000);
    expect(converted).toBe(2 * stored);
    // A little slack for small buffers (headers, JSON), never a second copy of a tensor or the whole file.
    expect(peak).toBeLessThanOrEqual(converted + largest + 1_000_000);
    expect(peak).toBeGreaterThan(converted * 0.9);
  });

  it('draws a progress bar only when enabled, never on a non-terminal by default, as the weights are read', () => {
    const dir = tmp();
    writeCheckpoint(dir, { kind: 'llama', dtype: 'f32', numLayers: 2, tokenizer: false });
    const text: string[] = [];
    const stream = { write: (s: string) => text.push(s), isTTY: false };
    // Weights are read when a backend uploads them: read each once, as the runner does.
    const readAll = (ck: ReturnType<typeof openCheckpoint>): void => {
      for (const n of ck.weights.names()) ck.weights.get(n);
      ck.close();
    };
    readAll(openCheckpoint(dir, { progress: (total) => progressBar(stream, total, 'loading weights') }));
    expect(text).toEqual([]);
    const ck = openCheckpoint(dir, { progress: (total) => progressBar(stream, total, 'loading weights', true) });
    expect(text.join('')).not.toMatch(/100%/);
    readAll(ck);
    const all = text.join('');
    expect(all).toMatch(/\rloading weights \[#{30}\] 100% [\d.]+\/[\d.]+ MB done/);
    expect(all.endsWith('\n')).toBe(true);
    const tty: string[] = [];
    readAll(openCheckpoint(dir, { progress: (total) => progressBar({ write: (s: string) => tty.push(s), isTTY: true }, total, 'loading weights') }));
    expect(tty.length).toBeGreaterThan(2);
  });
});
