/**
 * modc's high-level API (`modc/api`): load a checkpoint or a compiled artifact and stream answers.
 * `loadModel(dir, { backend })`, then `for await (const t of model.generate({ prompt, image }))`.
 */
export { loadModel } from './load-model.js';
export { loadArtifactModel, type LoadModelOptions } from './artifact-model.js';
export { type GeneratedToken, type GenerateRequest, type GenerationResult, type GenerationStream, Model, ModelError } from '../runtime/model.js';
export { type ChatContent, type ChatMessage, type ChatTemplate, chatTemplateFromConfig, ChatTemplateError, VICUNA_TEMPLATE } from '../io/chat-template.js';
export { loadImage } from '../io/image/decode.js';
