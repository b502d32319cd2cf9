/**
 * SentencePiece's `tokenizer.model` (a ModelProto): the pieces with their scores and types, the trainer facts the
 * encoder needs (model type, byte fallback, special ids) and the normalizer settings. Read and written here.
 */
import { float32FromBits, ProtobufError, ProtoWriter, readFields, type Field } from './protobuf.js';
import { TokenizerError } from './errors.js';

/** SentencePiece piece types (sentencepiece_model.proto). */
export const PIECE_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;
export type PieceType = (typeof PIECE_TYPE)[keyof typeof PIECE_TYPE];

export const MODEL_TYPE = { unigram: 1, bpe: 2, word: 3, char: 4 } as const;

export interface Piece {
  readonly piece: string;
  readonly score: number;
  readonly type: PieceType;
}

export interface NormalizerSpec {
  readonly name: string;
  /** Whether the model carries a precompiled character map (NFKC-style rules); identity normalizers do not. */
  readonly hasCharsmap: boolean;
  readonly addDummyPrefix: boolean;
  readonly removeExtraWhitespaces: boolean;
  readonly escapeWhitespaces: boolean;
}

export interface SentencePieceModel {
  readonly pieces: readonly Piece[];
  readonly modelType: number;
  readonly byteFallback: boolean;
  readonly treatWhitespaceAsSuffix: boolean;
  readonly unkId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly normalizer: NormalizerSpec;
}

const bool = (f: Field): boolean => f.value !== 0;

function parsePiece(f: Field, index: number): Piece {
  let piece = '';
  let score = 0;
  let type: PieceType = PIECE_TYPE.normal;
  for (const g of readFields(f.bytes, f.offset)) {
    if (g.number === 1) piece = new TextDecoder('utf-8', { fatal: true }).decode(g.bytes);
    else if (g.number === 2) score = float32FromBits(g.value);
    else if (g.number === 3) {
      if (g.value < 1 || g.value > 6) throw new ProtobufError(g.offset, `piece ${index} has unknown type ${g.value}`);
      type = g.value as PieceType;
    }
  }
  return { piece, score, type };
}

/** Parses `tokenizer.model`; `file` names it in errors. */
export function parseSentencePieceModel(bytes: Uint8Array, file: string): SentencePieceModel {
  try {
    const pieces: Piece[] = [];
    let trainer: Field[] = [];
    let normalizer: Field[] = [];
    for (const f of readFields(bytes)) {
      if (f.number === 1 && f.wire === 2) pieces.push(parsePiece(f, pieces.length));
      else if (f.number === 2 && f.wire === 2) trainer = readFields(f.bytes, f.offset);
      else if (f.number === 3 && f.wire === 2) normalizer = readFields(f.bytes, f.offset);
    }
    const t = (n: number): Field | undefined => trainer.filter((f) => f.number === n).pop();
    const nf = (n: number): Field | undefined => normalizer.filter((f) => f.number === n).pop();
    const name = nf(1);
    const model: SentencePieceModel = {
      pieces,
      modelType: t(3)?.value ?? MODEL_TYPE.unigram,
      byteFallback: (t(35) && bool(t(35) as Field)) ?? false,
      treatWhitespaceAsSuffix: (t(24) && bool(t(24) as Field)) ?? false,
      unkId: t(40)?.int32 ?? 0,
      bosId: t(41)?.int32 ?? 1,
      eosId: t(42)?.int32 ?? 2,
      padId: t(43)?.int32 ?? -1,
      normalizer: {
        name: name ? new TextDecoder().decode(name.bytes) : '',
        hasCharsmap: (nf(2)?.bytes.length ?? 0) > 0,
        addDummyPrefix: nf(3) ? bool(nf(3) as Field) : true,
        removeExtraWhitespaces: nf(4) ? bool(nf(4) as Field) : true,
        escapeWhitespaces: nf(5) ? bool(nf(5) as Field) : true,
      },
    };
    if (pieces.length === 0) throw new TokenizerError(`${file}: not a SentencePiece model (no pieces)`);
    return model;
  } catch (e) {
    if (e instanceof ProtobufError) throw new TokenizerError(`${file}: not a valid SentencePiece model: ${e.message}`);
    if (e instanceof TypeError) throw new TokenizerError(`${file}: not a valid SentencePiece model: a piece is not valid UTF-8`);
    throw e;
  }
}

/** Serialises a model (used to write test fixtures in the exact format SentencePiece reads). */
export function serializeSentencePieceModel(m: SentencePieceModel): Uint8Array {
  const w = new ProtoWriter();
  for (const p of m.pieces) w.message(1, new ProtoWriter().string(1, p.piece).float(2, p.score).uint(3, p.type));
  const trainer = new ProtoWriter()
    .uint(3, m.modelType)
    .uint(4, m.pieces.length)
    .bool(24, m.treatWhitespaceAsSuffix)
    .bool(35, m.byteFallback)
    .int(40, m.unkId)
    .int(41, m.bosId)
    .int(42, m.eosId)
    .int(43, m.padId);
  w.message(2, trainer);
  const n = m.normalizer;
  w.message(3, new ProtoWriter().string(1, n.name).bool(3, n.addDummyPrefix).bool(4, n.removeExtraWhitespaces).bool(5, n.escapeWhitespaces));
  return w.finish();
}
