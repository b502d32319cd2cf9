/**
 * A checkpoint directory's chat template: tokenizer_config.json's `chat_template` when it has one, else LLaVA's
 * vicuna_v1 (the LLaVA and p-MoD releases ship none); with the BOS token's text, which a rendered template may
 * begin with and the tokenizer adds by itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChatTemplate, chatTemplateFromConfig, ChatTemplateError, VICUNA_TEMPLATE } from './chat-template.js';

export function checkpointChatTemplate(dir: string): { template: ChatTemplate; bosText: string | undefined } {
  const path = join(dir, 'tokenizer_config.json');
  if (!existsSync(path)) return { template: VICUNA_TEMPLATE, bosText: undefined };
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ChatTemplateError(`${path}: cannot read JSON: ${(e as Error).message}`);
  }
  const bos = typeof config === 'object' && config !== null ? (config as { bos_token?: unknown }).bos_token : undefined;
  const bosText = typeof bos === 'string' ? bos : typeof bos === 'object' && bos !== null && typeof (bos as { content?: unknown }).content === 'string' ? (bos as { content: string }).content : undefined;
  return { template: chatTemplateFromConfig(config, path) ?? VICUNA_TEMPLATE, bosText };
}
