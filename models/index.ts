/** modc's model zoo and model builders (public API). */
export * from './config.js';
export * from './prd.js';
export * from './llama.js';
export * from './zoo.js';
export * from './resolve.js';
export * from './inputs.js';
export * from './vision/index.js';
export * from './decode.js';
export * from './projector.js';
export * from './checkpoint.js';
