/** The vision side of LLaVA: the CLIP tower as a graph, its configurations, and image -> vision embeddings. */
export * from './clip-config.js';
export * from './clip.js';
export * from './llava-image.js';
export * from './tower-loader.js';
