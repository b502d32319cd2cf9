/**
 * LLaVA's prompt conventions: the vicuna_v1 conversation template (llava/conversation.py `conv_vicuna_v1`) and the
 * `<image>` placeholder tokenisation of llava/mm_utils.py `tokenizer_image_token`, which marks the image position
 * with the id IMAGE_TOKEN_INDEX (-200) for the caller to replace by the vision embeddings.
 */
import type { Tokenizer } from './tokenizer/index.js';

export const IMAGE_TOKEN_INDEX = -200;
export const IMAGE_PLACEHOLDER = '<image>';

export interface ConversationTemplate {
  readonly name: string;
  readonly system: string;
  readonly roles: readonly [string, string];
  /** Separator after the user's turns and after the assistant's turns (SeparatorStyle.TWO). */
  readonly sep: string;
  readonly sep2: string;
}

export const VICUNA_V1: ConversationTemplate = {
  name: 'vicuna_v1',
  system: "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
  roles: ['USER', 'ASSISTANT'],
  sep: ' ',
  sep2: '</s>',
};

/** One turn; a `null` message is the open assistant turn the model is to complete. */
export interface Turn {
  readonly role: 0 | 1;
  readonly message: string | null;
}

/** The prompt text of a conversation, exactly as Conversation.get_prompt renders SeparatorStyle.TWO. */
export function renderConversation(turns: readonly Turn[], t: ConversationTemplate = VICUNA_V1): string {
  const seps = [t.sep, t.sep2];
  let out = t.system + t.sep;
  turns.forEach((turn, i) => {
    const role = t.roles[turn.role];
    out += turn.message !== null && turn.message !== '' ? `${role}: ${turn.message}${seps[i % 2] ?? ''}` : `${role}:`;
  });
  return out;
}

/** The single-question prompt LLaVA's run_llava builds: one user message, then the open assistant turn. */
export function chatPrompt(question: string, t: ConversationTemplate = VICUNA_V1): string {
  return renderConversation([{ role: 0, message: question }, { role: 1, message: null }], t);
}

/**
 * Token ids of a prompt with `<image>` placeholders: each chunk between placeholders is tokenised on its own (with
 * the tokenizer's BOS), one BOS is kept at the start, and each placeholder becomes IMAGE_TOKEN_INDEX.
 */
export function tokenizeWithImages(prompt: string, tok: Pick<Tokenizer, 'encode' | 'bosId'>): number[] {
  const chunks = prompt.split(IMAGE_PLACEHOLDER).map((c) => tok.encode(c));
  const first = chunks[0] ?? [];
  const offset = first.length > 0 && first[0] === tok.bosId ? 1 : 0;
  const ids: number[] = offset ? [first[0] ?? 0] : [];
  chunks.forEach((c, i) => {
    if (i > 0) ids.push(IMAGE_TOKEN_INDEX);
    // A loop, not push(...c): a long prompt has more ids than a call may take arguments.
    for (let k = offset; k < c.length; k++) ids.push(c[k] ?? 0);
  });
  return ids;
}
