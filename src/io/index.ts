/** Reading and writing what lives on disk: safetensors checkpoints, their binding to graphs, tokenizers, prompts. */
export * from './safetensors/index.js';
export * from './tokenizer/index.js';
export * from './prompt.js';
export * from './checkpoint.js';
export * from './progress.js';
export { checkOutputFile, FileError, isDirectory, type MakeError, MAX_CONFIG_BYTES, openRegularFile, prefixed, readJsonFile, readRegularFile, readTextFile } from './files.js';
export { MAX_JSON_DEPTH, parseJsonText, scanJson, showValue } from './json.js';
