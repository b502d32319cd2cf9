/**
 * Incremental detokenisation for streaming output: decodes the whole generated sequence each step and emits only
 * the new text, holding back a trailing incomplete UTF-8 character (byte-fallback tokens arrive one byte at a time).
 */
import type { Tokenizer } from './tokenizer.js';

export class StreamDecoder {
  private readonly ids: number[] = [];
  private emitted = '';

  constructor(private readonly tokenizer: Pick<Tokenizer, 'decode'>) {}

  /** Adds one token; returns the text that became final (possibly ''). */
  push(id: number): string {
    this.ids.push(id);
    const text = this.tokenizer.decode(this.ids);
    if (text.endsWith('\uFFFD')) return '';
    return this.take(text);
  }

  /** The rest of the text at the end of generation (including any replacement characters). */
  finish(): string {
    return this.take(this.tokenizer.decode(this.ids));
  }

  private take(text: string): string {
    // Decoding is not always prefix-stable (a leading space is stripped only at the very start), so emit the
    // difference from what was already printed when it extends it, and nothing otherwise.
    if (!text.startsWith(this.emitted)) return '';
    const fresh = text.slice(this.emitted.length);
    this.emitted = text;
    return fresh;
  }
}
