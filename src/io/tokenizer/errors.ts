/** The error raised for unreadable or unsupported tokenizer files; the message names the file. */
export class TokenizerError extends Error {
  override name = 'TokenizerError';
}
