/**
 * Images for the vision tower: PNG/JPEG decoding to RGB with PIL's conversions, PIL-exact bicubic resizing, the
 * CLIP image processor (and LLaVA's square padding), and LLaVA-NeXT anyres geometry.
 */
export * from './rgb.js';
export * from './resample.js';
export * from './png.js';
export * from './jpeg.js';
export * from './decode.js';
export * from './limits.js';
export * from './clip-processor.js';
export * from './anyres.js';
