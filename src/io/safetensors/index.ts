/** Safetensors reading (lazy, positioned reads, sharded checkpoints) and writing. */
export * from './format.js';
export { type Header, parseHeader, type TensorInfo } from './header.js';
export { decodeData, encodeData } from './codec.js';
export { SafetensorsFile, ScratchBuffer } from './reader.js';
export { encodeHeader, tensorEntry, type TensorEntry, writeSafetensors, writeSafetensorsAsync } from './writer.js';
export { INDEX_FILE, type LocatedTensor, SafetensorsStore, SINGLE_FILE } from './store.js';
