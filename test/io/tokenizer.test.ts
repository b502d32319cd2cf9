/**
 * Tokenizers of checkpoints: modc's SentencePiece BPE encoder and tokenizers.js (tokenizer.json) against ids that
 * the real SentencePiece library produced for the fixture model, plus LlamaTokenizer's BOS / special-token rules,
 * the vicuna_v1 template and LLaVA's `<image>` tokenisation.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureSentencePiece, writeTokenizerFiles } from '../../scripts/fixture-tokenizer.js';
import { chatPrompt, IMAGE_TOKEN_INDEX, renderConversation, tokenizeWithImages, VICUNA_V1 } from '../../src/io/prompt.js';
import { loadTokenizer, MODEL_TYPE, parseSentencePieceModel, serializeSentencePieceModel, StreamDecoder, type Tokenizer, TokenizerError } from '../../src/io/tokenizer/index.js';
import { tempDir } from '../helpers/temp.js';

interface Golden {
  vocabSize: number;
  cases: { text: string; ids: number[]; decoded: string }[];
}
const golden = JSON.parse(readFileSync(new URL('./golden/sentencepiece-384.json', import.meta.url), 'utf8')) as Golden;

function tokenizerDir(files: 'model' | 'json' | 'both', legacy?: boolean): { dir: string; tok: Tokenizer } {
  const dir = tempDir('modc-tok-');
  writeTokenizerFiles(dir, { vocabSize: golden.vocabSize, files, ...(legacy !== undefined ? { legacy } : {}) });
  return { dir, tok: loadTokenizer(dir) };
}

describe('tokenizer.model (SentencePiece BPE, modc encoder)', () => {
  const { tok } = tokenizerDir('model');

  it('encodes and decodes like the SentencePiece library on every golden case', () => {
    expect(golden.cases.length).toBeGreaterThan(50);
    for (const c of golden.cases) {
      expect({ text: c.text, ids: tok.encode(c.text, { addBos: false }) }).toEqual({ text: c.text, ids: c.ids });
      expect(tok.decode(c.ids)).toBe(c.decoded);
    }
  });

  it('uses byte fallback for characters outside the vocabulary', () => {
    const ids = tok.encode('🐱', { addBos: false });
    expect(ids.slice(-4).map((i) => tok.idToPiece(i))).toEqual(['<0xF0>', '<0x9F>', '<0x90>', '<0xB1>']);
    expect(tok.decode(ids)).toBe('🐱');
  });

  it('prepends BOS <s> = 1 as LlamaTokenizer does, and knows EOS </s> = 2', () => {
    expect(tok.bosId).toBe(1);
    expect(tok.eosId).toBe(2);
    expect(tok.encode('Hello')[0]).toBe(1);
    expect(tok.encode('Hello').slice(1)).toEqual(tok.encode('Hello', { addBos: false }));
    expect(tok.encode('')).toEqual([1]);
    expect(tok.vocabSize).toBe(384);
  });

  it('splits special-token text out as its id; legacy decides the dummy prefix after it', () => {
    const ids = tok.encode('hi</s>USER', { addBos: false });
    expect(ids).toEqual([...tok.encode('hi', { addBos: false }), 2, ...tok.encode('USER', { addBos: false })]);
    const strict = tokenizerDir('model', false).tok;
    const sid = strict.encode('hi</s>USER', { addBos: false });
    expect(sid.slice(0, ids.indexOf(2) + 1)).toEqual(ids.slice(0, ids.indexOf(2) + 1));
    // Without legacy, "USER" after a special token has no leading U+2581.
    expect(strict.decode(sid.slice(sid.indexOf(2) + 1))).toBe('USER');
    expect(sid.slice(sid.indexOf(2) + 1).map((i) => strict.idToPiece(i)).join('')).toBe('USER');
    expect(ids.slice(ids.indexOf(2) + 1).map((i) => tok.idToPiece(i)).join('')).toBe('\u2581USER');
    expect(tok.decode([1, ...tok.encode('ok', { addBos: false }), 2])).toBe('ok');
    expect(tok.decode([1, ...tok.encode('ok', { addBos: false }), 2], { skipSpecial: false })).toBe('<s>ok</s>');
  });

  it('follows add_bos_token / add_eos_token in tokenizer_config.json', () => {
    const { dir } = tokenizerDir('model');
    const cfg = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...cfg, add_bos_token: false, add_eos_token: true }));
    const t = loadTokenizer(dir);
    expect(t.encode('a')).toEqual([...tok.encode('a', { addBos: false }), 2]);
  });
});

describe('tokenizer.json (tokenizers.js)', () => {
  const { tok } = tokenizerDir('json');
  it('agrees with the SentencePiece library on every golden case', () => {
    for (const c of golden.cases) {
      expect({ text: c.text, ids: tok.encode(c.text, { addBos: false }) }).toEqual({ text: c.text, ids: c.ids });
      expect(tok.decode(c.ids)).toBe(c.decoded);
    }
    expect(tok.encode('Hi')[0]).toBe(1);
    expect(tok.eosId).toBe(2);
  });

  it('is preferred over tokenizer.model when both are present', () => {
    expect(tokenizerDir('both').tok.source).toMatch(/tokenizer\.json$/);
  });
});

describe('tokenizer errors', () => {
  it('names the directory without tokenizer files', () => {
    const dir = tempDir('modc-tok-');
    expect(() => loadTokenizer(dir)).toThrow(new TokenizerError(`${dir}: no tokenizer.json or tokenizer.model`));
  });

  it('names a damaged or unsupported tokenizer.model', () => {
    const { dir } = tokenizerDir('model');
    const path = join(dir, 'tokenizer.model');
    writeFileSync(path, readFileSync(path).subarray(0, 1001));
    expect(() => loadTokenizer(dir)).toThrow(/tokenizer.model: not a valid SentencePiece model: byte \d+: .* runs past the end of the message/);
    writeFileSync(path, serializeSentencePieceModel({ ...fixtureSentencePiece(384), modelType: MODEL_TYPE.unigram }));
    expect(() => loadTokenizer(dir)).toThrow(/tokenizer.model: SentencePiece model type 1 is not supported \(BPE = 2/);
    writeFileSync(join(dir, 'tokenizer_config.json'), '{"add_bos_token": "yes"}');
    expect(() => loadTokenizer(dir)).toThrow(/tokenizer_config.json: 'add_bos_token' must be a boolean, got "yes"/);
  });

  it('round-trips the model file through the protobuf writer and reader', () => {
    const m = fixtureSentencePiece(340);
    const back = parseSentencePieceModel(serializeSentencePieceModel({ ...m, padId: -1 }), 'x');
    expect(back).toEqual({ ...m, padId: -1 });
  });
});

describe('LLaVA prompts', () => {
  const { tok } = tokenizerDir('model');

  it('renders vicuna_v1 as conv_vicuna_v1.get_prompt does', () => {
    expect(chatPrompt('<image>\nWhat is this?')).toBe(
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. USER: <image>\nWhat is this? ASSISTANT:",
    );
    expect(renderConversation([{ role: 0, message: 'Hi' }, { role: 1, message: 'Hello.' }, { role: 0, message: 'Bye' }, { role: 1, message: null }])).toBe(
      `${VICUNA_V1.system} USER: Hi ASSISTANT: Hello.</s>USER: Bye ASSISTANT:`,
    );
  });

  it('tokenises <image> as tokenizer_image_token: one BOS, -200 at the image, chunks tokenised separately', () => {
    const ids = tokenizeWithImages('USER: <image>\nWhat is it?', tok);
    const before = tok.encode('USER: ');
    const after = tok.encode('\nWhat is it?');
    expect(ids).toEqual([...before, IMAGE_TOKEN_INDEX, ...after.slice(1)]);
    expect(ids.filter((i) => i === 1)).toHaveLength(1);
    // The chunk after the image starts with the dummy-prefix piece and the newline byte, as in LLaVA.
    expect(after.slice(1, 3).map((i) => tok.idToPiece(i))).toEqual(['\u2581', '<0x0A>']);
    expect(tokenizeWithImages('<image>', tok)).toEqual([1, IMAGE_TOKEN_INDEX]);
    expect(tokenizeWithImages('a<image>b<image>c', tok).filter((i) => i === IMAGE_TOKEN_INDEX)).toHaveLength(2);
    expect(tokenizeWithImages('plain text', tok)).toEqual(tok.encode('plain text'));
  });
});

describe('streaming detokenisation', () => {
  const { tok } = tokenizerDir('model');
  it('emits text as soon as it is final and never a partial UTF-8 character', () => {
    const ids = tok.encode('The cat 🐱 sat.', { addBos: false });
    const s = new StreamDecoder(tok);
    const parts = ids.map((id) => s.push(id));
    parts.push(s.finish());
    expect(parts.join('')).toBe('The cat 🐱 sat.');
    expect(parts.every((p) => !p.includes('\uFFFD'))).toBe(true);
    // The four byte tokens of the emoji produce output only at the last one.
    const firstByte = ids.findIndex((i) => tok.idToPiece(i) === '<0xF0>');
    expect(parts.slice(firstByte, firstByte + 3)).toEqual(['', '', '']);
    expect(parts[firstByte + 3]).toBe('🐱');
  });
});
