/**
 * Chat templates: a checkpoint's own (`chat_template` of tokenizer_config.json, a Jinja template rendered with
 * @huggingface/jinja, the Hugging Face implementation), or LLaVA's vicuna_v1 conversation for checkpoints that
 * ship none (the LLaVA and p-MoD releases). Messages carry text and images; an image renders as the `<image>`
 * placeholder that tokenizeWithImages turns into the vision embeddings' position. Browser-safe.
 */
import { Template } from '@huggingface/jinja';
import { IMAGE_PLACEHOLDER, renderConversation, type Turn, VICUNA_V1 } from './prompt.js';

export type ChatContent = string | readonly ({ readonly type: 'text'; readonly text: string } | { readonly type: 'image' })[];

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: ChatContent;
}

export interface ChatTemplate {
  /** 'vicuna_v1', or 'tokenizer_config.json' (the checkpoint's own template). */
  readonly name: string;
  /** The prompt text of a conversation, ending with the open assistant turn. */
  render(messages: readonly ChatMessage[]): string;
}

export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

/** Text of a message's content with each image as the `<image>` placeholder. */
export function contentText(c: ChatContent): string {
  return typeof c === 'string' ? c : c.map((p) => (p.type === 'image' ? IMAGE_PLACEHOLDER : p.text)).join('');
}

/**
 * vicuna_v1 (llava/conversation.py): the system line, then USER / ASSISTANT turns. An image part goes before the
 * message's text as "<image>\n", as LLaVA's run_llava puts it; a string content may place `<image>` itself.
 */
export const VICUNA_TEMPLATE: ChatTemplate = {
  name: 'vicuna_v1',
  render(messages) {
    const turns: Turn[] = [];
    for (const m of messages) {
      if (m.role === 'system') throw new ChatTemplateError('vicuna_v1 has a fixed system prompt: give user and assistant messages only');
      const text =
        typeof m.content === 'string'
          ? m.content
          : `${m.content.filter((p) => p.type === 'image').map(() => `${IMAGE_PLACEHOLDER}\n`).join('')}${m.content.map((p) => (p.type === 'text' ? p.text : '')).join('')}`;
      turns.push({ role: m.role === 'user' ? 0 : 1, message: text });
    }
    turns.push({ role: 1, message: null });
    return renderConversation(turns, VICUNA_V1);
  },
};

type Json = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A special token's text: tokenizer_config.json writes it as a string or as an AddedToken object { content }. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  return isObj(v) && typeof v.content === 'string' ? v.content : undefined;
}

/**
 * The checkpoint's template from a parsed tokenizer_config.json, or undefined when it has none. `chat_template`
 * is a string or a list of { name, template } (the 'default' one is used).
 */
export function chatTemplateFromConfig(config: unknown, source: string): ChatTemplate | undefined {
  if (!isObj(config)) return undefined;
  const raw = config.chat_template;
  if (raw === undefined || raw === null) return undefined;
  let text: string | undefined;
  if (typeof raw === 'string') text = raw;
  else if (Array.isArray(raw)) {
    const named = raw.filter(isObj);
    const pick = named.find((t) => t.name === 'default') ?? named[0];
    text = typeof pick?.template === 'string' ? pick.template : undefined;
  }
  if (text === undefined) throw new ChatTemplateError(`${source}: chat_template must be a string or a list of { name, template }`);
  let template: Template;
  try {
    template = new Template(text);
  } catch (e) {
    throw new ChatTemplateError(`${source}: chat_template does not parse: ${(e as Error).message}`);
  }
  const specials: Record<string, string> = {};
  for (const k of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
    const t = tokenText(config[k]);
    if (t !== undefined) specials[k] = t;
  }
  return {
    name: 'tokenizer_config.json',
    render(messages) {
      // Content lists are passed as they are (templates test `content is string` and loop over the parts).
      const msgs = messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.map((p) => ({ ...p })) }));
      try {
        return template.render({ messages: msgs, add_generation_prompt: true, ...specials });
      } catch (e) {
        throw new ChatTemplateError(`${source}: chat_template failed to render: ${(e as Error).message}`);
      }
    },
  };
}
