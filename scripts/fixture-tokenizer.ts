/**
 * Tiny Llama-style tokenizers for test checkpoints: a SentencePiece BPE model trained here on a small English corpus
 * (the LLaVA system prompt and a few sentences), written as `tokenizer.model` exactly as SentencePiece stores it,
 * and the equivalent `tokenizer.json` as transformers' Llama converter lays it out.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_TYPE, type Piece, PIECE_TYPE, type SentencePieceModel, serializeSentencePieceModel } from '../src/io/tokenizer/index.js';

const SPACE = '\u2581';

export const FIXTURE_CORPUS = [
  "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
  'USER: What is shown in this image? ASSISTANT: The image shows a cat sitting on a table next to a window.',
  'USER: Describe the picture in detail. ASSISTANT: There is a red car parked on the street, and two people are walking past it.',
  'The quick brown fox jumps over the lazy dog. 0123456789 + - * / = ( ) [ ] { } < > # @ ! ? ; : , . \' " _',
  'How many animals are there? What color is the sky? Where is the person standing?',
];

/** Byte pieces <0x00>..<0xFF> follow the three special pieces, as in Llama's vocabulary. */
const SPECIALS = 3;
const BYTES = 256;

/**
 * Trains a BPE vocabulary of exactly `vocabSize` pieces on the corpus (most frequent adjacent pair first, ties to the
 * lexicographically smaller pair), never merging across words. Merged pieces come first with descending scores,
 * single characters last, like Llama's `tokenizer.model`.
 */
export function fixtureSentencePiece(vocabSize: number, corpus: readonly string[] = FIXTURE_CORPUS): SentencePieceModel {
  const words = new Map<string, number>();
  for (const line of corpus) for (const w of line.split(' ')) if (w) words.set(SPACE + w, (words.get(SPACE + w) ?? 0) + 1);
  const chars = new Map<string, number>();
  for (const [w, n] of words) for (const c of w) chars.set(c, (chars.get(c) ?? 0) + n);
  const alphabet = [...chars.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c]) => c);
  const budget = vocabSize - SPECIALS - BYTES - alphabet.length;
  if (budget < 0) throw new RangeError(`vocabulary of ${vocabSize} is too small: ${SPECIALS + BYTES + alphabet.length} pieces are fixed`);
  let seqs = [...words.entries()].map(([w, n]) => ({ syms: [...w], n }));
  const merges: string[] = [];
  const known = new Set(alphabet);
  while (merges.length < budget) {
    const counts = new Map<string, number>();
    for (const { syms, n } of seqs) for (let i = 1; i < syms.length; i++) {
      const key = `${syms[i - 1]}\u0000${syms[i]}`;
      counts.set(key, (counts.get(key) ?? 0) + n);
    }
    const best = [...counts.entries()].filter(([k]) => !known.has(k.replace('\u0000', ''))).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (best === undefined) {
      // Corpus exhausted: pad with pairs of alphabet characters so the size is exact (all are valid BPE merges).
      const extra = alphabet.flatMap((a) => alphabet.map((b) => a + b)).find((p) => !known.has(p));
      if (extra === undefined) throw new RangeError(`cannot fill a vocabulary of ${vocabSize}`);
      merges.push(extra);
      known.add(extra);
      continue;
    }
    const [l, r] = best[0].split('\u0000') as [string, string];
    const merged = l + r;
    merges.push(merged);
    known.add(merged);
    seqs = seqs.map(({ syms, n }) => {
      const out: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (syms[i] === l && syms[i + 1] === r) {
          out.push(merged);
          i++;
        } else out.push(syms[i] ?? '');
      }
      return { syms: out, n };
    });
  }
  const pieces: Piece[] = [
    { piece: '<unk>', score: 0, type: PIECE_TYPE.unknown },
    { piece: '<s>', score: 0, type: PIECE_TYPE.control },
    { piece: '</s>', score: 0, type: PIECE_TYPE.control },
    ...Array.from({ length: BYTES }, (_, b) => ({ piece: `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: PIECE_TYPE.byte })),
    ...merges.map((p, i) => ({ piece: p, score: -i, type: PIECE_TYPE.normal })),
    ...alphabet.map((c, i) => ({ piece: c, score: -(merges.length + i), type: PIECE_TYPE.normal })),
  ];
  return {
    pieces,
    modelType: MODEL_TYPE.bpe,
    byteFallback: true,
    treatWhitespaceAsSuffix: false,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    normalizer: { name: 'identity', hasCharsmap: false, addDummyPrefix: true, removeExtraWhitespaces: false, escapeWhitespaces: true },
  };
}

/** The tokenizer.json transformers' LlamaConverter writes for a SentencePiece BPE model (legacy layout). */
export function tokenizerJson(m: SentencePieceModel): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  m.pieces.forEach((p, i) => (vocab[p.piece] = i));
  // Every split of a piece into two pieces is a merge, ranked by the merged piece's score (the converter's rule).
  const merges: { l: string; r: string; score: number; li: number; ri: number }[] = [];
  m.pieces.forEach((p) => {
    if (p.type !== PIECE_TYPE.normal) return;
    const cps = [...p.piece];
    for (let k = 1; k < cps.length; k++) {
      const [l, r] = [cps.slice(0, k).join(''), cps.slice(k).join('')];
      const [li, ri] = [vocab[l], vocab[r]];
      if (li !== undefined && ri !== undefined) merges.push({ l, r, score: p.score, li, ri });
    }
  });
  merges.sort((a, b) => b.score - a.score || a.li - b.li || a.ri - b.ri);
  const special = (id: number, content: string): Record<string, unknown> => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: SPACE }, { type: 'Replace', pattern: { String: ' ' }, content: SPACE }] },
    pre_tokenizer: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
    },
    decoder: {
      type: 'Sequence',
      decoders: [{ type: 'Replace', pattern: { String: SPACE }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 1, stop: 0 }],
    },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges: merges.map((x) => `${x.l} ${x.r}`) },
  };
}

export interface TokenizerFixtureOptions {
  vocabSize: number;
  /** Which files to write: LLaVA checkpoints usually ship only tokenizer.model. */
  files: 'model' | 'json' | 'both';
  /** tokenizer_config.json's `legacy` (omitted when undefined). */
  legacy?: boolean;
}

export function writeTokenizerFiles(dir: string, opts: TokenizerFixtureOptions): SentencePieceModel {
  const m = fixtureSentencePiece(opts.vocabSize);
  if (opts.files !== 'json') writeFileSync(join(dir, 'tokenizer.model'), serializeSentencePieceModel(m));
  if (opts.files !== 'model') writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(m), null, 2));
  const tok = (content: string): Record<string, unknown> => ({ __type: 'AddedToken', content, lstrip: false, normalized: false, rstrip: false, single_word: false });
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify(
      {
        add_bos_token: true,
        add_eos_token: false,
        bos_token: tok('<s>'),
        eos_token: tok('</s>'),
        unk_token: tok('<unk>'),
        pad_token: null,
        clean_up_tokenization_spaces: false,
        ...(opts.legacy !== undefined ? { legacy: opts.legacy } : {}),
        model_max_length: 2048,
        padding_side: 'right',
        sp_model_kwargs: {},
        tokenizer_class: 'LlamaTokenizer',
      },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify({ bos_token: tok('<s>'), eos_token: tok('</s>'), unk_token: tok('<unk>') }, null, 2));
  return m;
}
