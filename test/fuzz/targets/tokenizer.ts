/**
 * tokenizer.json: the fixture's Llama-style file with hostile vocabulary ids, merges, model types and added tokens,
 * sometimes byte-corrupted, loaded (then every id it encodes must lie in its vocabulary) or refused with
 * TokenizerError naming the file and the field or line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { fixtureSentencePiece, tokenizerJson } from '../../../scripts/fixture-tokenizer.js';
import { loadTokenizer, TokenizerError } from '../../../src/io/tokenizer/index.js';
import { corrupt, type Corruption, corruptions, type FuzzTarget, LOCATION } from '../harness.js';

const BASE = JSON.stringify(tokenizerJson(fixtureSentencePiece(384)));
const SAMPLE = 'Hello, world! 漢字 <s> the quick brown fox </s> 🙂';

const id = fc.oneof(fc.integer({ min: -5, max: 400 }), fc.constantFrom(-1, 0.5, 1e9, 4e9, 2 ** 22, 2 ** 22 - 1, Number.MAX_SAFE_INTEGER), fc.string({ maxLength: 3 }), fc.constant(null));
const token = fc.oneof(fc.constantFrom('▁the', '▁a', 't', 'h', 'e', '<unk>', '<s>', '</s>', '<0x41>', '', ' ', 'zz'), fc.string({ maxLength: 3 }));

export type TokenizerEdit =
  | { readonly k: 'vocab'; readonly token: string; readonly id: unknown }
  | { readonly k: 'merge'; readonly at: number; readonly merge: unknown }
  | { readonly k: 'added'; readonly token: unknown }
  | { readonly k: 'model'; readonly field: string; readonly value: unknown };

const edit: fc.Arbitrary<TokenizerEdit> = fc.oneof(
  fc.record({ k: fc.constant('vocab' as const), token, id }),
  fc.record({ k: fc.constant('merge' as const), at: fc.nat(400), merge: fc.oneof(fc.tuple(token, token).map(([a, b]) => `${a} ${b}`), fc.tuple(token, token), fc.array(token, { maxLength: 3 }), fc.integer()) }),
  fc.record({ k: fc.constant('added' as const), token: fc.oneof(fc.record({ id, content: token, special: fc.oneof(fc.boolean(), fc.constant('yes')) }), fc.record({ id }), fc.string({ maxLength: 2 })) }),
  fc.record({
    k: fc.constant('model' as const),
    field: fc.constantFrom('type', 'vocab', 'merges', 'dropout', 'unk_token', 'byte_fallback', 'continuing_subword_prefix'),
    value: fc.oneof(fc.constantFrom('BPE', 'WordPiece', 'Unigram', 'Magic', 'abc', 2, -1, 0.5), fc.constant(null), fc.array(fc.string({ maxLength: 2 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 2 }), fc.integer({ min: -2, max: 5 }), { maxKeys: 3 })),
  }),
);

export interface TokenizerCase {
  readonly edits: readonly TokenizerEdit[];
  readonly bytes: readonly Corruption[] | null;
}

type Json = Record<string, unknown>;

function fileText(c: TokenizerCase): Uint8Array {
  const json = JSON.parse(BASE) as Json;
  const model = json.model as Json;
  for (const e of c.edits) {
    if (e.k === 'vocab' && typeof model.vocab === 'object' && model.vocab !== null) (model.vocab as Json)[e.token] = e.id;
    else if (e.k === 'merge' && Array.isArray(model.merges)) model.merges[e.at % (model.merges.length + 1)] = e.merge;
    else if (e.k === 'added' && Array.isArray(json.added_tokens)) json.added_tokens.push(e.token);
    else if (e.k === 'model') model[e.field] = e.value;
  }
  const text = new TextEncoder().encode(JSON.stringify(json));
  return c.bytes === null ? text : corrupt(text, c.bytes);
}

export const tokenizerTarget: FuzzTarget<TokenizerCase> = {
  name: 'tokenizer.json',
  cases: fc.record({ edits: fc.array(edit, { minLength: 1, maxLength: 3 }), bytes: fc.option(corruptions, { freq: 4 }) }),
  errors: [TokenizerError],
  file: (_c, dir) => join(dir, 'tokenizer.json'),
  located: (m) => LOCATION.test(m) || /\bmodel(\.\w+)?\b|added_tokens/.test(m),
  run(c, dir) {
    writeFileSync(join(dir, 'tokenizer.json'), fileText(c));
    const tok = loadTokenizer(dir);
    const ids = tok.encode(SAMPLE);
    for (const i of ids) if (!Number.isInteger(i) || i < 0 || i >= tok.vocabSize) throw new Error(`${dir}: encode gave id ${i} outside the vocabulary of ${tok.vocabSize}`);
    if (typeof tok.decode(ids) !== 'string') throw new Error(`${dir}: decode did not give text`);
  },
};
