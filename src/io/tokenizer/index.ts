/** Tokenizers of checkpoints: tokenizer.json (tokenizers.js) and SentencePiece tokenizer.model (modc's BPE encoder). */
export { TokenizerError } from './errors.js';
export { loadTokenizer, type Tokenizer } from './tokenizer.js';
export { SentencePieceBpe } from './sentencepiece-bpe.js';
export { MODEL_TYPE, parseSentencePieceModel, type Piece, PIECE_TYPE, type PieceType, type SentencePieceModel, serializeSentencePieceModel } from './sentencepiece-model.js';
export { StreamDecoder } from './stream.js';
export { checkTokenizerJson, MAX_VOCAB_SIZE } from './tokenizer-json.js';
