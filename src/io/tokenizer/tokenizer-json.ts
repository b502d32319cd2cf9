/**
 * Validation of a `tokenizer.json` before it is handed to tokenizers.js, which accepts malformed files silently
 * (a string as vocabulary, merges of three tokens, negative or fractional ids) and then gives wrong ids. What is
 * refused, and how, follows the Hugging Face tokenizers library (its serde types and BpeBuilder::build): the
 * vocabulary maps tokens to unsigned integer ids, a merge is "a b" or [a, b] with a, b and their concatenation in
 * the vocabulary, added tokens have an id and a content. Ids are also bounded (tokenizers.js fills an array up
 * to the largest id: an added token with id 1e9 made loading take 30 s), by the largest vocabulary any model may
 * declare.
 */
import { showValue } from '../json.js';
import { TokenizerError } from './errors.js';

/** The largest vocabulary a model config may declare (models/config.ts bounds vocab_size by it). */
export const MAX_VOCAB_SIZE = 1 << 22;

type Json = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks a token id; `where` names the field in the message. */
export function checkTokenId(v: unknown, file: string, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TokenizerError(`${file}: ${where}: token id must be a non-negative integer, got ${showValue(v)}`);
  if (v >= MAX_VOCAB_SIZE) throw new TokenizerError(`${file}: ${where}: token id ${v} is beyond the largest vocabulary a model may have (${MAX_VOCAB_SIZE} tokens)`);
  return v;
}

function vocabMap(v: unknown, file: string): ReadonlyMap<string, number> {
  if (!isObj(v)) throw new TokenizerError(`${file}: model.vocab must be an object mapping tokens to ids, got ${showValue(v)}`);
  const out = new Map<string, number>();
  for (const [token, id] of Object.entries(v)) out.set(token, checkTokenId(id, file, `model.vocab[${showValue(token)}]`));
  return out;
}

function checkMerges(model: Json, vocab: ReadonlyMap<string, number>, file: string): void {
  const merges = model.merges;
  if (!Array.isArray(merges)) throw new TokenizerError(`${file}: model.merges must be a list, got ${showValue(merges)}`);
  const prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix.length : 0;
  merges.forEach((m: unknown, i) => {
    let pair: unknown[];
    if (typeof m === 'string') pair = m.split(' ');
    else if (Array.isArray(m)) pair = m;
    else throw new TokenizerError(`${file}: model.merges[${i}] must be "a b" or ["a", "b"], got ${showValue(m)}`);
    const [a, b] = pair;
    if (pair.length !== 2 || typeof a !== 'string' || typeof b !== 'string') throw new TokenizerError(`${file}: model.merges[${i}] must be two tokens, got ${showValue(m)}`);
    for (const token of [a, b, a + b.slice(prefix)])
      if (!vocab.has(token)) throw new TokenizerError(`${file}: model.merges[${i}] ${showValue(m)}: token ${showValue(token)} is not in the vocabulary`);
  });
  const dropout = model.dropout;
  if (dropout !== undefined && dropout !== null && !(typeof dropout === 'number' && dropout >= 0 && dropout <= 1))
    throw new TokenizerError(`${file}: model.dropout must be a number in [0, 1], got ${showValue(dropout)}`);
}

function checkUnigram(model: Json, file: string): void {
  const vocab = model.vocab;
  if (!Array.isArray(vocab)) throw new TokenizerError(`${file}: model.vocab of a Unigram model must be a list of [token, score] pairs, got ${showValue(vocab)}`);
  if (vocab.length > MAX_VOCAB_SIZE) throw new TokenizerError(`${file}: model.vocab has ${vocab.length} tokens, more than ${MAX_VOCAB_SIZE}`);
  vocab.forEach((e: unknown, i) => {
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'number' || !Number.isFinite(e[1]))
      throw new TokenizerError(`${file}: model.vocab[${i}] must be a [token, score] pair, got ${showValue(e)}`);
  });
  const unk = model.unk_id;
  if (unk !== undefined && unk !== null && !(typeof unk === 'number' && Number.isInteger(unk) && unk >= 0 && unk < vocab.length))
    throw new TokenizerError(`${file}: model.unk_id must be an index into model.vocab (0..${vocab.length - 1}), got ${showValue(unk)}`);
}

function checkAddedTokens(v: unknown, file: string): void {
  if (v === undefined || v === null) return;
  if (!Array.isArray(v)) throw new TokenizerError(`${file}: added_tokens must be a list, got ${showValue(v)}`);
  v.forEach((t: unknown, i) => {
    if (!isObj(t) || typeof t.content !== 'string') throw new TokenizerError(`${file}: added_tokens[${i}] must be an object with an id and a content, got ${showValue(t)}`);
    checkTokenId(t.id, file, `added_tokens[${i}] (${showValue(t.content)})`);
    for (const flag of ['single_word', 'lstrip', 'rstrip', 'normalized', 'special'])
      if (t[flag] !== undefined && typeof t[flag] !== 'boolean') throw new TokenizerError(`${file}: added_tokens[${i}].${flag} must be a boolean, got ${showValue(t[flag])}`);
  });
}

/** The pipeline stages around the model; each is absent, null, or an object tagged with its `type`. */
export const PIPELINE_SECTIONS = ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder'] as const;

function checkSection(json: Json, key: string, file: string): void {
  const v = json[key];
  if (v === undefined || v === null) return;
  if (!isObj(v) || typeof v.type !== 'string') throw new TokenizerError(`${file}: '${key}' must be null or an object with a 'type', got ${showValue(v)}`);
}

/**
 * The object tokenizers.js is given: the Hugging Face library treats absent pipeline stages as none and absent
 * added_tokens as empty, while tokenizers.js requires each key; fill them in as the library reads them.
 */
export function withDefaults(json: Json): Json {
  const out: Record<string, unknown> = { ...json };
  for (const key of PIPELINE_SECTIONS) if (out[key] === undefined) out[key] = null;
  if (out.added_tokens === undefined || out.added_tokens === null) out.added_tokens = [];
  return out;
}

/** Throws TokenizerError naming the file and the field of the first problem of a tokenizer.json object. */
export function checkTokenizerJson(json: unknown, file: string): asserts json is Json {
  if (!isObj(json)) throw new TokenizerError(`${file}: the top-level value must be a JSON object`);
  for (const key of PIPELINE_SECTIONS) checkSection(json, key, file);
  const model = json.model;
  if (!isObj(model)) throw new TokenizerError(`${file}: 'model' must be an object, got ${showValue(model)}`);
  // Without a type, the model is recognised by its fields, as both libraries do.
  const type = model.type ?? (Array.isArray(model.vocab) ? 'Unigram' : 'merges' in model ? 'BPE' : 'WordPiece');
  switch (type) {
    case 'BPE':
    case 'WordPiece': {
      const vocab = vocabMap(model.vocab, file);
      if (type === 'BPE') checkMerges(model, vocab, file);
      // The library fails on the first unknown character instead (UnkTokenOutOfVocabulary); refuse the file once.
      const unk = model.unk_token;
      if (unk !== undefined && unk !== null && (typeof unk !== 'string' || !vocab.has(unk))) throw new TokenizerError(`${file}: model.unk_token ${showValue(unk)} is not in the vocabulary`);
      break;
    }
    case 'Unigram':
      checkUnigram(model, file);
      break;
    default:
      throw new TokenizerError(`${file}: model.type ${showValue(type)} is not supported (BPE, WordPiece, Unigram)`);
  }
  checkAddedTokens(json.added_tokens, file);
}

/**
 * The size of the id space of a checked tokenizer.json: one more than the largest id of its vocabulary and added
 * tokens (ids need not be dense, so the number of tokens can be smaller).
 */
export function idSpaceSize(json: Json): number {
  const model = json.model as Json;
  let size = Array.isArray(model.vocab) ? model.vocab.length : 0;
  if (isObj(model.vocab)) for (const id of Object.values(model.vocab)) size = Math.max(size, (id as number) + 1);
  if (Array.isArray(json.added_tokens)) for (const t of json.added_tokens) size = Math.max(size, ((t as Json).id as number) + 1);
  return size;
}
