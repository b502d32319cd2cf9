/**
 * The checkpoint's own tokenizer behind one interface: `tokenizer.json` through Hugging Face's tokenizers.js, or
 * SentencePiece's `tokenizer.model` through modc's BPE encoder with the special-token splitting, BOS/EOS and
 * `legacy` rules of transformers' LlamaTokenizer (the tokenizer LLaVA and p-MoD checkpoints name).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { TokenizerError } from './errors.js';
import { isDirectory, prefixed, readJsonFile, readRegularFile } from '../files.js';
import { checkTokenId, checkTokenizerJson, idSpaceSize, withDefaults } from './tokenizer-json.js';
import { parseSentencePieceModel } from './sentencepiece-model.js';
import { SentencePieceBpe } from './sentencepiece-bpe.js';
import { showValue } from '../json.js';

export interface Tokenizer {
  /** Which file it was loaded from: 'tokenizer.json' or 'tokenizer.model'. */
  readonly source: string;
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** Token ids of `text`, with BOS first when `addBos` (default true) and the tokenizer config adds one. */
  encode(text: string, opts?: { addBos?: boolean }): number[];
  /** Text of `ids`; special tokens are dropped unless `skipSpecial` is false. */
  decode(ids: readonly number[], opts?: { skipSpecial?: boolean }): string;
  idToPiece(id: number): string | undefined;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** tokenizer.json of the largest vocabularies is tens of megabytes; this bounds what is read into memory. */
const MAX_TOKENIZER_BYTES = 512 << 20;

function readJson(path: string, maxBytes?: number): Json | undefined {
  if (!existsSync(path)) return undefined;
  const v = readJsonFile(path, prefixed(TokenizerError), { what: 'tokenizer file', ...(maxBytes !== undefined ? { maxBytes } : {}) });
  if (!isObj(v)) throw new TokenizerError(`${path}: the top-level value must be a JSON object`);
  return v;
}

/** A special token named in tokenizer_config.json / special_tokens_map.json: a string or {content: ...}. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObj(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

interface AddedToken {
  readonly content: string;
  readonly id: number;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly special: boolean;
}

/** Settings shared by both kinds of tokenizer, from tokenizer_config.json and special_tokens_map.json. */
interface TokenizerSettings {
  readonly config: Json;
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  readonly addBos: boolean;
  readonly addEos: boolean;
}

function settings(dir: string): TokenizerSettings {
  const config = readJson(join(dir, 'tokenizer_config.json')) ?? {};
  const map = readJson(join(dir, 'special_tokens_map.json')) ?? {};
  const flag = (key: string, fallback: boolean): boolean => {
    const v = config[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') throw new TokenizerError(`${join(dir, 'tokenizer_config.json')}: '${key}' must be a boolean, got ${showValue(v)}`);
    return v;
  };
  return {
    config,
    bosToken: tokenText(config.bos_token) ?? tokenText(map.bos_token),
    eosToken: tokenText(config.eos_token) ?? tokenText(map.eos_token),
    // LlamaTokenizer's defaults.
    addBos: flag('add_bos_token', true),
    addEos: flag('add_eos_token', false),
  };
}

function wrapIds(ids: number[], s: TokenizerSettings, bos: number | undefined, eos: number | undefined, addBos: boolean): number[] {
  return [...(addBos && s.addBos && bos !== undefined ? [bos] : []), ...ids, ...(s.addEos && eos !== undefined ? [eos] : [])];
}

/** The section tokenizers.js names in its "Unknown X type" errors, as the file spells it ('decoder: '), or ''. */
function sectionOf(message: string): string {
  const m = /^Unknown (Normalizer|PreTokenizer|PostProcessor|Decoder|TokenizerModel) type/.exec(message);
  const names: Record<string, string> = { Normalizer: 'normalizer', PreTokenizer: 'pre_tokenizer', PostProcessor: 'post_processor', Decoder: 'decoder', TokenizerModel: 'model.type' };
  return m?.[1] !== undefined ? `field '${names[m[1]] ?? m[1]}': ` : '';
}

/** `tokenizer.json` through tokenizers.js; BOS/EOS come from tokenizer_config.json as LlamaTokenizerFast sets them. */
function loadTokenizerJson(path: string, s: TokenizerSettings): Tokenizer {
  const json = readJson(path, MAX_TOKENIZER_BYTES);
  checkTokenizerJson(json, path);
  let hf: HfTokenizer;
  try {
    hf = new HfTokenizer(withDefaults(json), s.config);
  } catch (e) {
    throw new TokenizerError(`${path}: cannot build the tokenizer: ${sectionOf((e as Error).message)}${(e as Error).message}`);
  }
  const id = (t: string | undefined): number | undefined => (t === undefined ? undefined : hf.token_to_id(t));
  const bos = id(s.bosToken);
  const eos = id(s.eosToken);
  // The id space, not the count of tokens: a model must have a row for every id the tokenizer can give.
  const vocabSize = Math.max(idSpaceSize(json), hf.get_vocab(true).size);
  return {
    source: path,
    vocabSize,
    bosId: bos,
    eosId: eos,
    encode: (text, opts = {}) => wrapIds(hf.encode(text, { add_special_tokens: false }).ids, s, bos, eos, opts.addBos ?? true),
    // tokenizers.js rejects an empty id list; the text of no tokens is empty.
    decode: (ids, opts = {}) => (ids.length === 0 ? '' : hf.decode([...ids], { skip_special_tokens: opts.skipSpecial ?? true, clean_up_tokenization_spaces: false })),
    idToPiece: (i) => hf.id_to_token(i),
  };
}

function addedTokens(s: TokenizerSettings, dir: string, sp: SentencePieceBpe): AddedToken[] {
  const out = new Map<string, AddedToken>();
  const decoder = s.config.added_tokens_decoder;
  if (isObj(decoder)) {
    for (const [k, v] of Object.entries(decoder)) {
      const where = `added_tokens_decoder['${k}']`;
      const id = checkTokenId(/^\d+$/.test(k) ? Number(k) : k, join(dir, 'tokenizer_config.json'), where);
      if (!isObj(v) || typeof v.content !== 'string') throw new TokenizerError(`${join(dir, 'tokenizer_config.json')}: ${where} must map the id to {content, ...}`);
      out.set(v.content, { content: v.content, id, lstrip: v.lstrip === true, rstrip: v.rstrip === true, special: v.special !== false });
    }
  }
  const extra = readJson(join(dir, 'added_tokens.json'));
  for (const [content, id] of Object.entries(extra ?? {})) {
    checkTokenId(id, join(dir, 'added_tokens.json'), `'${content}'`);
    if (!out.has(content)) out.set(content, { content, id: id as number, lstrip: false, rstrip: false, special: false });
  }
  // The special tokens themselves are split out of the text as transformers does (their pieces are control pieces).
  for (const t of [s.bosToken, s.eosToken, tokenText(s.config.unk_token)]) {
    const id = t === undefined ? undefined : sp.pieceToId(t);
    if (t !== undefined && id !== undefined && !out.has(t)) out.set(t, { content: t, id, lstrip: false, rstrip: false, special: true });
  }
  return [...out.values()].filter((t) => t.content !== '').sort((a, b) => b.content.length - a.content.length);
}

type Segment = { text: string } | { token: AddedToken };

/** Splits text on added tokens (leftmost, then longest match) and applies their lstrip/rstrip to the neighbours. */
function splitAdded(text: string, added: readonly AddedToken[]): Segment[] {
  const out: Segment[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const hit = added.find((t) => text.startsWith(t.content, i));
    if (hit === undefined) {
      i++;
      continue;
    }
    if (i > start) out.push({ text: text.slice(start, i) });
    out.push({ token: hit });
    i += hit.content.length;
    start = i;
  }
  if (start < text.length) out.push({ text: text.slice(start) });
  out.forEach((seg, k) => {
    if (!('token' in seg)) return;
    const [l, r] = [out[k - 1], out[k + 1]];
    if (seg.token.lstrip && l && 'text' in l) l.text = l.text.trimEnd();
    if (seg.token.rstrip && r && 'text' in r) r.text = r.text.trimStart();
  });
  return out.filter((seg) => !('text' in seg) || seg.text !== '');
}

/**
 * `tokenizer.model` with LlamaTokenizer's rules: text is split on added/special tokens; with `legacy` (the default
 * when tokenizer_config.json does not say) every text segment gets SentencePiece's dummy prefix, without it only
 * the first segment of the text does.
 */
function loadSentencePiece(dir: string, path: string, s: TokenizerSettings): Tokenizer {
  const sp = new SentencePieceBpe(parseSentencePieceModel(readRegularFile(path, prefixed(TokenizerError), { what: 'tokenizer file', maxBytes: MAX_TOKENIZER_BYTES }), path), path);
  const legacy = s.config.legacy === undefined || s.config.legacy === null ? true : s.config.legacy === true;
  const added = addedTokens(s, dir, sp);
  const lookup = (t: string | undefined, fallback: number): number | undefined => {
    if (t === undefined) return fallback >= 0 ? fallback : undefined;
    const id = sp.pieceToId(t) ?? added.find((a) => a.content === t)?.id;
    if (id === undefined) throw new TokenizerError(`${dir}: special token '${t}' is not in ${path}`);
    return id;
  };
  const bos = lookup(s.bosToken, sp.model.bosId);
  const eos = lookup(s.eosToken, sp.model.eosId);
  const vocabSize = added.reduce((n, a) => Math.max(n, a.id + 1), sp.vocabSize);
  const addedById = new Map(added.map((a) => [a.id, a]));
  return {
    source: path,
    vocabSize,
    bosId: bos,
    eosId: eos,
    encode: (text, opts = {}) => {
      const ids: number[] = [];
      splitAdded(text, added).forEach((seg, k) => {
        if ('token' in seg) ids.push(seg.token.id);
        // A loop, not push(...ids): a long prompt has more ids than a call may take arguments.
        else for (const id of sp.encode(seg.text, legacy || k === 0 ? undefined : false)) ids.push(id);
      });
      return wrapIds(ids, s, bos, eos, opts.addBos ?? true);
    },
    decode: (ids, opts = {}) => {
      const skip = opts.skipSpecial ?? true;
      let out = '';
      let run: number[] = [];
      const flush = (): void => {
        out += sp.decode(run, skip, out === '');
        run = [];
      };
      for (const id of ids) {
        if (id >= 0 && id < sp.vocabSize) {
          run.push(id);
          continue;
        }
        const a = addedById.get(id);
        if (a === undefined) throw new TokenizerError(`${path}: token id ${id} is outside the vocabulary of ${vocabSize}`);
        flush();
        if (!(skip && a.special)) out += a.content;
      }
      flush();
      return out;
    },
    idToPiece: (i) => sp.idToPiece(i) ?? addedById.get(i)?.content,
  };
}

/** Loads the tokenizer of a checkpoint directory: tokenizer.json if present, else tokenizer.model. */
export function loadTokenizer(dir: string): Tokenizer {
  if (!isDirectory(dir)) throw new TokenizerError(existsSync(dir) ? `${dir}: not a directory (expected a checkpoint directory)` : `${dir}: no such checkpoint directory`);
  const s = settings(dir);
  const json = join(dir, 'tokenizer.json');
  if (existsSync(json)) return loadTokenizerJson(json, s);
  const model = join(dir, 'tokenizer.model');
  if (existsSync(model)) return loadSentencePiece(dir, model, s);
  throw new TokenizerError(`${dir}: no tokenizer.json or tokenizer.model`);
}
