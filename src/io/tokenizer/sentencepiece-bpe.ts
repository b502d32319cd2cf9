/**
 * SentencePiece BPE encoding and decoding (the algorithm of sentencepiece's bpe_model.cc, which Llama, Vicuna and
 * LLaVA tokenizers use): identity normalisation with the dummy-prefix and whitespace rules, user-defined symbols
 * kept whole, repeated merging of the adjacent pair whose merged piece scores highest (ties to the leftmost),
 * unused pieces re-split, and byte fallback (`<0xXX>` pieces) for characters outside the vocabulary.
 */
import { TokenizerError } from './errors.js';
import { MODEL_TYPE, PIECE_TYPE, type SentencePieceModel } from './sentencepiece-model.js';

const SPACE = '\u2581';

interface Candidate {
  left: number;
  right: number;
  score: number;
  /** Length (UTF-16 units) of the merged piece: a stale candidate no longer matches it. */
  size: number;
}

/** Max-heap on (score, then lower left index), as sentencepiece's agenda orders merges. */
class Agenda {
  private readonly heap: Candidate[] = [];
  private static before(a: Candidate, b: Candidate): boolean {
    return a.score > b.score || (a.score === b.score && a.left < b.left);
  }
  get size(): number {
    return this.heap.length;
  }
  push(c: Candidate): void {
    const h = this.heap;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const [hp, hi] = [h[p] as Candidate, h[i] as Candidate];
      if (!Agenda.before(hi, hp)) break;
      h[p] = hi;
      h[i] = hp;
      i = p;
    }
  }
  pop(): Candidate | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const [l, r] = [2 * i + 1, 2 * i + 2];
      let m = i;
      if (l < h.length && Agenda.before(h[l] as Candidate, h[m] as Candidate)) m = l;
      if (r < h.length && Agenda.before(h[r] as Candidate, h[m] as Candidate)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m] as Candidate, h[i] as Candidate];
      i = m;
    }
    return top;
  }
}

export class SentencePieceBpe {
  /** Pieces that merges may produce and that text may match: normal, user-defined, unused. */
  private readonly mergeable = new Map<string, number>();
  /** Control, unknown and byte pieces: only reachable by id (and bytes by fallback). */
  private readonly reserved = new Map<string, number>();
  private readonly userDefined: string[];
  private readonly byteIds: (number | undefined)[] = new Array<number | undefined>(256);
  readonly vocabSize: number;

  constructor(
    readonly model: SentencePieceModel,
    readonly file: string,
  ) {
    if (model.modelType !== MODEL_TYPE.bpe)
      throw new TokenizerError(`${file}: SentencePiece model type ${model.modelType} is not supported (BPE = ${MODEL_TYPE.bpe}, as Llama tokenizers use)`);
    if (model.normalizer.hasCharsmap)
      throw new TokenizerError(`${file}: normalizer '${model.normalizer.name}' carries a precompiled character map, which is not supported (Llama tokenizers use the identity normalizer)`);
    model.pieces.forEach((p, id) => {
      const normal = p.type === PIECE_TYPE.normal || p.type === PIECE_TYPE.userDefined || p.type === PIECE_TYPE.unused;
      const map = normal ? this.mergeable : this.reserved;
      if (!map.has(p.piece)) map.set(p.piece, id);
      if (p.type === PIECE_TYPE.byte) {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p.piece);
        if (m?.[1] !== undefined) this.byteIds[parseInt(m[1], 16)] = id;
      }
    });
    // Longest first, so the prefix match takes the longest user-defined symbol.
    this.userDefined = model.pieces.filter((p) => p.type === PIECE_TYPE.userDefined && p.piece.length > 0).map((p) => p.piece).sort((a, b) => b.length - a.length);
    this.vocabSize = model.pieces.length;
  }

  pieceToId(piece: string): number | undefined {
    return this.reserved.get(piece) ?? this.mergeable.get(piece);
  }

  idToPiece(id: number): string | undefined {
    return this.model.pieces[id]?.piece;
  }

  isControl(id: number): boolean {
    return this.model.pieces[id]?.type === PIECE_TYPE.control;
  }

  /** The normalised text: spaces escaped as U+2581, the dummy prefix added when asked (default: the model's setting). */
  normalize(text: string, dummyPrefix = this.model.normalizer.addDummyPrefix): string {
    const n = this.model.normalizer;
    let s = text;
    if (n.removeExtraWhitespaces) s = s.replace(/^ +| +$/g, '').replace(/ {2,}/g, ' ');
    if (s === '') return '';
    const ws = n.escapeWhitespaces ? SPACE : ' ';
    if (n.escapeWhitespaces) s = s.replaceAll(' ', SPACE);
    if (dummyPrefix) s = this.model.treatWhitespaceAsSuffix ? s + ws : ws + s;
    return s;
  }

  /** Token ids of one text segment (special-token strings are not recognised here; see Tokenizer). */
  encode(text: string, dummyPrefix?: boolean): number[] {
    const normalized = this.normalize(text, dummyPrefix);
    return this.encodeNormalized(normalized).flatMap((p) => this.toIds(p));
  }

  /** The BPE pieces of already-normalised text. */
  encodeNormalized(normalized: string): string[] {
    if (normalized === '') return [];
    const pieces: string[] = [];
    const frozen: boolean[] = [];
    for (let i = 0; i < normalized.length; ) {
      const user = this.userDefined.find((u) => normalized.startsWith(u, i));
      const cp = normalized.codePointAt(i) ?? 0;
      const piece = user ?? String.fromCodePoint(cp);
      pieces.push(piece);
      frozen.push(user !== undefined);
      i += piece.length;
    }
    const n = pieces.length;
    const prev = Array.from({ length: n }, (_, i) => i - 1);
    const next = Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
    const agenda = new Agenda();
    const revMerge = new Map<string, [string, string]>();
    const maybeAdd = (left: number, right: number): void => {
      if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
      const merged = (pieces[left] ?? '') + (pieces[right] ?? '');
      const id = this.mergeable.get(merged);
      if (id === undefined) return;
      agenda.push({ left, right, score: this.model.pieces[id]?.score ?? 0, size: merged.length });
      if (this.model.pieces[id]?.type === PIECE_TYPE.unused) revMerge.set(merged, [pieces[left] ?? '', pieces[right] ?? '']);
    };
    for (let i = 1; i < n; i++) maybeAdd(i - 1, i);
    for (let top = agenda.pop(); top !== undefined; top = agenda.pop()) {
      const [l, r] = [pieces[top.left] ?? '', pieces[top.right] ?? ''];
      if (l === '' || r === '' || l.length + r.length !== top.size) continue; // stale: a neighbour already merged
      pieces[top.left] = l + r;
      pieces[top.right] = '';
      const after = next[top.right] ?? -1;
      next[top.left] = after;
      if (after >= 0) prev[after] = top.left;
      maybeAdd(prev[top.left] ?? -1, top.left);
      maybeAdd(top.left, after);
    }
    const out: string[] = [];
    const resegment = (w: string): void => {
      const id = this.mergeable.get(w);
      const split = id !== undefined && this.model.pieces[id]?.type === PIECE_TYPE.unused ? revMerge.get(w) : undefined;
      if (split === undefined) out.push(w);
      else {
        resegment(split[0]);
        resegment(split[1]);
      }
    };
    for (let i = 0; i >= 0 && i < n; i = next[i] ?? -1) resegment(pieces[i] ?? '');
    return out;
  }

  private toIds(piece: string): number[] {
    const id = this.pieceToId(piece);
    if (id !== undefined && id !== this.model.unkId) return [id];
    if (!this.model.byteFallback) return [this.model.unkId];
    return Array.from(new TextEncoder().encode(piece), (b) => this.byteIds[b] ?? this.model.unkId);
  }

  /**
   * Text of token ids as SentencePiece decodes it: control tokens vanish (or are spelled out when skipControl is
   * false), byte pieces are joined into UTF-8, U+2581 becomes a space, and the dummy prefix's space is removed
   * (when `atStart`: the ids begin the text).
   */
  decode(ids: readonly number[], skipControl = true, atStart = true): string {
    let out = '';
    let bytes: number[] = [];
    let first = atStart;
    const flush = (): void => {
      if (bytes.length) out += new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (const id of ids) {
      const p = this.model.pieces[id];
      if (p === undefined) throw new TokenizerError(`${this.file}: token id ${id} is outside the vocabulary of ${this.vocabSize}`);
      if (p.type === PIECE_TYPE.byte) {
        const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p.piece);
        bytes.push(m?.[1] !== undefined ? parseInt(m[1], 16) : 0);
        first = false;
        continue;
      }
      flush();
      if (p.type === PIECE_TYPE.control) {
        if (!skipControl) out += p.piece;
        continue;
      }
      let text = p.type === PIECE_TYPE.unknown ? ' \u2047 ' : p.piece;
      if (first && this.model.normalizer.addDummyPrefix && text.startsWith(SPACE)) text = text.slice(SPACE.length);
      out += text.replaceAll(SPACE, ' ');
      first = false;
    }
    flush();
    return out;
  }
}
