/**
 * The `--inputs` file of `modc run --checkpoint`: random tensors (input_ids of every dtype and shape, with image
 * positions and ids outside the vocabulary; image_features and vision_embeds of right and wrong widths; extra
 * tensors), sometimes byte-corrupted, run end to end on a tiny LLaVA checkpoint (the output file must then hold the
 * logits) or refused with InputError / SafetensorsError naming the file and the tensor or byte offset.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { InputError } from '../../../models/index.js';
import { runInputs } from '../../../src/cli/run-checkpoint.js';
import { makeTensor, referenceExecutor } from '../../../src/index.js';
import { SafetensorsError, SafetensorsFile, ST_DTYPES, type StDType, tensorEntry } from '../../../src/io/safetensors/index.js';
import { safetensorsBytes } from '../../helpers/safetensors-raw.js';
import { writeCheckpoint } from '../../../scripts/make-checkpoint.js';
import { tempDir } from '../../helpers/temp.js';
import { corrupt, type Corruption, corruptions, type FuzzTarget, LOCATION } from '../harness.js';

let checkpoint: string | undefined;

/** A tiny LLaVA-1.5 checkpoint (vocabulary 384, hidden 64, mm_hidden 32), written once per test file. */
function tinyCheckpoint(): string {
  checkpoint ??= writeCheckpoint(join(tempDir('modc-fuzz-ck-'), 'ck'), { kind: 'llava-1.5', dtype: 'f32', numLayers: 2, seed: 3, tokenizer: false }).dir;
  return checkpoint;
}

interface TensorCase {
  readonly name: string;
  readonly st: StDType;
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

const dtype = fc.constantFrom<StDType>(...ST_DTYPES);
const idValue = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 383 }), weight: 8 }, { arbitrary: fc.constantFrom(-200, -1, 384, 2 ** 31 - 1, -(2 ** 31)), weight: 1 });

const idsCase: fc.Arbitrary<TensorCase> = fc.record({
  name: fc.constant('input_ids'),
  st: fc.oneof({ arbitrary: fc.constantFrom<StDType>('I32', 'I64'), weight: 4 }, { arbitrary: dtype, weight: 1 }),
  shape: fc.oneof({ arbitrary: fc.integer({ min: 0, max: 12 }).map((n) => [n]), weight: 6 }, { arbitrary: fc.constantFrom([], [1, 3], [2, 2]), weight: 1 }),
  values: fc.array(idValue, { maxLength: 12 }),
});

const rowsCase: fc.Arbitrary<TensorCase> = fc.record({
  name: fc.constantFrom('image_features', 'vision_embeds', 'pixels'),
  st: fc.oneof({ arbitrary: fc.constant<StDType>('F32'), weight: 3 }, { arbitrary: dtype, weight: 1 }),
  shape: fc.oneof(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.constantFrom(32, 64, 31, 0)).map(([n, w]) => [n, w]), fc.constantFrom([5], [1, 2, 3])),
  values: fc.constant([]),
});

export interface InputsCase {
  readonly tensors: readonly TensorCase[];
  readonly maxNewTokens: number;
  readonly bytes: readonly Corruption[] | null;
}

/** The tensor's values fitted to its dtype (so the file can be written) and its shape. */
function entryOf(t: TensorCase): ReturnType<typeof tensorEntry> {
  const n = t.shape.reduce((a, b) => a * b, 1);
  const fit = (v: number): number => {
    if (t.st === 'BOOL') return Math.abs(v) % 2;
    if (t.st === 'U8') return Math.abs(v) % 256;
    if (t.st === 'U32') return Math.abs(v);
    return v;
  };
  const values = Array.from({ length: n }, (_, i) => fit(t.values[i] ?? (i * 7919) % 50) / (t.st.startsWith('F') || t.st === 'BF16' ? 16 : 1));
  const dt = ({ F32: 'f32', F16: 'f16', BF16: 'bf16', I32: 'i32', U32: 'u32', I64: 'i32', U8: 'i32', BOOL: 'bool' } as const)[t.st];
  return tensorEntry(t.name, makeTensor(dt, [...t.shape], dt === 'f16' || dt === 'bf16' ? values.map((v) => Math.round(v)) : values), t.st);
}

function fileBytes(c: InputsCase): Uint8Array {
  const seen = new Set<string>();
  const entries = c.tensors.filter((t) => !seen.has(t.name) && seen.add(t.name)).map(entryOf);
  const out = safetensorsBytes(entries);
  return c.bytes === null ? out : corrupt(out, c.bytes);
}

export const inputsTarget: FuzzTarget<InputsCase> = {
  name: '--inputs file',
  cases: fc.record({
    tensors: fc.tuple(fc.option(idsCase, { freq: 8 }), fc.array(rowsCase, { maxLength: 2 })).map(([ids, rows]) => [...(ids ? [ids] : []), ...rows]),
    maxNewTokens: fc.integer({ min: 0, max: 2 }),
    bytes: fc.option(corruptions, { freq: 5 }),
  }),
  errors: [InputError, SafetensorsError],
  file: (_c, dir) => join(dir, 'in.safetensors'),
  located: (m) => LOCATION.test(m),
  async run(c, dir) {
    const inputs = join(dir, 'in.safetensors');
    const out = join(dir, 'out.safetensors');
    writeFileSync(inputs, fileBytes(c));
    const io = { write: () => undefined, progress: { write: () => undefined, isTTY: false }, terminal: false };
    await runInputs({ dir: tinyCheckpoint(), executor: referenceExecutor(), maxNewTokens: c.maxNewTokens, sampling: { temperature: 0 }, progress: false, inputs, out }, io, () => undefined);
    if (!existsSync(out)) throw new Error(`${out} was not written`);
    const f = SafetensorsFile.open(out);
    const shape = f.info('logits').shape;
    f.close();
    if (shape[1] !== 384) throw new Error(`${out}: logits of shape [${shape.join(', ')}]`);
  },
};
