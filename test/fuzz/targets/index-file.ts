/**
 * model.safetensors.index.json: a three-shard checkpoint whose weight_map is edited (shards that escape the
 * directory, are absent, are directories, are not strings; tensors added, moved, dropped) or whose text is
 * corrupted. It opens, and then every tensor reads back from a shard inside the checkpoint with its value, or is
 * refused with SafetensorsError naming the index or shard and the tensor, shard, line or offset.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { makeTensor } from '../../../src/ir/index.js';
import { INDEX_FILE, SafetensorsError, SafetensorsStore, tensorEntry, writeSafetensors } from '../../../src/io/safetensors/index.js';
import { corrupt, type Corruption, corruptions, type FuzzTarget, LOCATION } from '../harness.js';

const SHARDS = ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors'];
/** Tensor i holds [i, i + 1]; it lives in shard i % 3. */
const TENSORS = Array.from({ length: 6 }, (_, i) => `layer.${i}.weight`);

const shardName = fc.oneof(
  fc.constantFrom(...SHARDS),
  fc.constantFrom('../outside.safetensors', '/etc/passwd', '', '.', 'sub', 'sub/../model-00001-of-00003.safetensors', 'missing.safetensors', './model-00002-of-00003.safetensors', 'a\u0000b'),
  fc.string({ maxLength: 5 }),
);

export type IndexEdit =
  | { readonly k: 'map'; readonly tensor: string; readonly shard: unknown }
  | { readonly k: 'drop'; readonly tensor: string }
  | { readonly k: 'root'; readonly value: unknown };

const edit: fc.Arbitrary<IndexEdit> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('map' as const), tensor: fc.oneof(fc.constantFrom(...TENSORS), fc.string({ maxLength: 4 })), shard: fc.oneof(shardName, fc.integer(), fc.constant(null), fc.constant([])) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('drop' as const), tensor: fc.constantFrom(...TENSORS) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('root' as const), value: fc.oneof(fc.constant(null), fc.constant([]), fc.constant('x'), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 })) }), weight: 1 },
);

export interface IndexCase {
  readonly edits: readonly IndexEdit[];
  readonly bytes: readonly Corruption[] | null;
}

function write(dir: string, c: IndexCase): string {
  const ck = join(dir, 'checkpoint');
  mkdirSync(join(ck, 'sub'), { recursive: true });
  // A valid safetensors file next to the checkpoint: an escaping shard name must never reach it.
  writeSafetensors(join(dir, 'outside.safetensors'), [tensorEntry(TENSORS[0] ?? '', makeTensor('f32', [2], [-1, -1]))]);
  SHARDS.forEach((shard, s) =>
    writeSafetensors(
      join(ck, shard),
      TENSORS.flatMap((t, i) => (i % 3 === s ? [tensorEntry(t, makeTensor('f32', [2], [i, i + 1]))] : [])),
    ),
  );
  const weightMap: Record<string, unknown> = Object.fromEntries(TENSORS.map((t, i) => [t, SHARDS[i % 3]]));
  let index: unknown = { metadata: { total_size: 48 }, weight_map: weightMap };
  for (const e of c.edits) {
    if (e.k === 'map') weightMap[e.tensor] = e.shard;
    else if (e.k === 'drop') delete weightMap[e.tensor];
    else index = { weight_map: e.value };
  }
  const text = new TextEncoder().encode(JSON.stringify(index));
  writeFileSync(join(ck, INDEX_FILE), c.bytes === null ? text : corrupt(text, c.bytes));
  return ck;
}

export const indexTarget: FuzzTarget<IndexCase> = {
  name: 'sharded index',
  cases: fc.record({ edits: fc.array(edit, { minLength: 1, maxLength: 3 }), bytes: fc.option(corruptions, { freq: 4 }) }),
  errors: [SafetensorsError],
  file: (_c, dir) => join(dir, 'checkpoint'),
  located: (m) => LOCATION.test(m) || /shard '|weight_map/.test(m),
  run(c, dir) {
    const ck = write(dir, c);
    const store = SafetensorsStore.fromDir(ck);
    try {
      for (const name of store.names()) {
        const file = store.info(name).file;
        if (relative(ck, file).startsWith('..')) throw new Error(`${name} was read from ${file}, outside the checkpoint`);
        const i = TENSORS.indexOf(name);
        const got = Array.from(store.get(name).data);
        if (i < 0 || got[0] !== i || got[1] !== i + 1) throw new Error(`${name} read back as [${got.join(', ')}]`);
      }
    } finally {
      store.close();
    }
  },
};
