/**
 * Malformed tokenizer files are refused as the Hugging Face tokenizers library refuses them (tokenizers.js would
 * accept them and give wrong ids), huge ids are refused before they make loading slow, and long prompts in
 * scripts without merges (CJK, byte fallback) encode without overflowing the stack.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureSentencePiece, tokenizerJson, writeTokenizerFiles } from '../../scripts/fixture-tokenizer.js';
import { tokenizeWithImages } from '../../src/io/prompt.js';
import { loadTokenizer, TokenizerError } from '../../src/io/tokenizer/index.js';
import { tempDir } from '../helpers/temp.js';
import { thrown } from '../helpers/thrown.js';

type Json = Record<string, unknown>;

/** A directory with the fixture's tokenizer.json as `edit` changes it. */
function withTokenizerJson(edit: (json: Json, model: Json) => void): string {
  const dir = tempDir('modc-tok-');
  const json = tokenizerJson(fixtureSentencePiece(384));
  edit(json, json.model as Json);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  return dir;
}

const loadError = (dir: string): TokenizerError => thrown(() => loadTokenizer(dir), TokenizerError);

describe('malformed tokenizer.json', () => {
  it.each<[string, (json: Json, model: Json) => void, RegExp]>([
    ['a string as vocabulary', (_j, m) => (m.vocab = 'abc'), /tokenizer.json: model.vocab must be an object mapping tokens to ids, got "abc"$/],
    ['a negative id', (_j, m) => ((m.vocab as Json)['▁the'] = -1), /tokenizer.json: model.vocab\["▁the"\]: token id must be a non-negative integer, got -1$/],
    ['a fractional id', (_j, m) => ((m.vocab as Json)['▁the'] = 2.5), /model.vocab\["▁the"\]: token id must be a non-negative integer, got 2.5$/],
    ['merges that are not a list', (_j, m) => (m.merges = 'a b'), /tokenizer.json: model.merges must be a list, got "a b"$/],
    ['a merge of three tokens', (_j, m) => ((m.merges as unknown[])[3] = 'a b c'), /tokenizer.json: model.merges\[3\] must be two tokens, got "a b c"$/],
    ['a merge of an unknown token', (_j, m) => ((m.merges as unknown[])[0] = '▁t zzz'), /tokenizer.json: model.merges\[0\] "▁t zzz": token "zzz" is not in the vocabulary$/],
    ['a merge whose result is unknown', (_j, m) => ((m.merges as unknown[])[0] = ['a', 'b']), /model.merges\[0\] \["a","b"\]: token "ab" is not in the vocabulary$/],
    ['a number as merge', (_j, m) => ((m.merges as unknown[])[1] = 7), /model.merges\[1\] must be "a b" or \["a", "b"\], got 7$/],
    ['dropout above 1', (_j, m) => (m.dropout = 2), /model.dropout must be a number in \[0, 1\], got 2$/],
    ['an unknown model type', (_j, m) => (m.type = 'Magic'), /model.type "Magic" is not supported \(BPE, WordPiece, Unigram\)$/],
    ['an unk_token outside the vocabulary', (_j, m) => (m.unk_token = '<nope>'), /model.unk_token "<nope>" is not in the vocabulary$/],
    ['a pipeline stage without a type', (j) => (j.decoder = { decoders: [] }), /'decoder' must be null or an object with a 'type', got \{"decoders":\[\]\}$/],
    ['a pipeline stage tokenizers.js does not know', (j) => (j.normalizer = { type: 'Magic' }), /cannot build the tokenizer: field 'normalizer': Unknown Normalizer type: Magic$/],
    ['an added token without content', (j) => (j.added_tokens = [{ id: 5 }]), /added_tokens\[0\] must be an object with an id and a content, got \{"id":5\}$/],
    ['an added token with a negative id', (j) => (j.added_tokens = [{ id: -3, content: '<x>' }]), /added_tokens\[0\] \("<x>"\): token id must be a non-negative integer, got -3$/],
  ])('refuses %s, naming the file and the field', (_what, edit, message) => {
    expect(loadError(withTokenizerJson(edit)).message).toMatch(message);
  });

  it('refuses an added token id of 1e9 at once (it used to take 30 s to load)', () => {
    const dir = withTokenizerJson((j) => (j.added_tokens = [{ id: 1e9, content: '<big>', special: true }]));
    const t0 = performance.now();
    expect(loadError(dir).message).toMatch(/added_tokens\[0\] \("<big>"\): token id 1000000000 is beyond the largest vocabulary a model may have \(4194304 tokens\)$/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('refuses huge or malformed ids in tokenizer_config.json and added_tokens.json', () => {
    const dir = tempDir('modc-tok-');
    writeTokenizerFiles(dir, { vocabSize: 384, files: 'model' });
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ added_tokens_decoder: { '4000000000': { content: '<big>' } } }));
    expect(loadError(dir).message).toMatch(/tokenizer_config.json: added_tokens_decoder\['4000000000'\]: token id 4000000000 is beyond/);
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ added_tokens_decoder: { '-1': { content: '<neg>' } } }));
    expect(loadError(dir).message).toMatch(/added_tokens_decoder\['-1'\]: token id must be a non-negative integer, got "-1"$/);
    writeFileSync(join(dir, 'tokenizer_config.json'), '{}');
    writeFileSync(join(dir, 'added_tokens.json'), JSON.stringify({ '<x>': 1.5 }));
    expect(loadError(dir).message).toMatch(/added_tokens.json: '<x>': token id must be a non-negative integer, got 1.5$/);
  });

  it('still loads the valid file unchanged', () => {
    const dir = withTokenizerJson(() => undefined);
    expect(loadTokenizer(dir).vocabSize).toBe(384);
  });

  it('reads absent pipeline stages and added tokens as none, as the Hugging Face library does', () => {
    const full = loadTokenizer(withTokenizerJson(() => undefined));
    const bare = loadTokenizer(withTokenizerJson((j) => delete j.added_tokens));
    expect(bare.encode('the cat')).toEqual(full.encode('the cat'));
    const noPost = loadTokenizer(withTokenizerJson((j) => delete j.post_processor));
    expect(noPost.encode('the cat')).toEqual(full.encode('the cat'));
  });

  it('counts the id space, not the tokens: a sparse id makes the vocabulary that large', () => {
    const tok = loadTokenizer(withTokenizerJson((_j, m) => ((m.vocab as Json)['▁sparse'] = 5000)));
    expect(tok.vocabSize).toBe(5001);
  });
});

describe('tokenizer directories', () => {
  it('says when the directory itself is missing', () => {
    const missing = join(tempDir('modc-tok-'), 'nope');
    expect(loadError(missing).message).toBe(`${missing}: no such checkpoint directory`);
  });
});

describe('long prompts', () => {
  it.each(['model', 'json'] as const)('encode 60,000 CJK characters with tokenizer.%s (byte fallback) without overflowing the stack', (files) => {
    const dir = tempDir('modc-tok-');
    writeTokenizerFiles(dir, { vocabSize: 384, files });
    const tok = loadTokenizer(dir);
    const text = '漢字'.repeat(30_000);
    const ids = tok.encode(text);
    // BOS, the dummy-prefix space, then three UTF-8 bytes per character, each a byte-fallback piece.
    expect(ids.length).toBe(2 + 3 * 60_000);
    expect(tokenizeWithImages(text, tok)).toEqual(ids);
  });
});
