/**
 * The WebGL Target: gather schedules only (src/kernel/builders/gather/), f32 arithmetic, limits from the WebGL2
 * context (MAX_TEXTURE_SIZE bounds every buffer and every dispatch: a buffer is one float texture of at most
 * MAX_TEXTURE_SIZE^2 texels and 2^24 elements; lowering splits larger weights into windows; MAX_TEXTURE_IMAGE_UNITS bounds the buffers a kernel reads, one unit kept for the
 * output's previous contents). In gpu.js's cpu mode (Node tests) there is no context: the WebGL2 minimums are
 * used, stated in `device`.
 */
import type { Target } from '../../kernel/target.js';

/** What a WebGL2 context reports (or the WebGL2 minimums). */
export interface WebGlLimits {
  readonly maxTextureSize: number;
  readonly maxTextureUnits: number;
  /** Device memory the runner may use (WebGL does not report it). */
  readonly memoryBytes: number;
  readonly renderer: string;
}

/** WebGL2's guaranteed minimums (MAX_TEXTURE_SIZE 2048, 16 texture units in fragment shaders). */
export const WEBGL2_MINIMUMS: WebGlLimits = { maxTextureSize: 2048, maxTextureUnits: 16, memoryBytes: 1 << 30, renderer: 'WebGL2 minimums' };

/**
 * Integers travel as float texel values, and gpu.js's GLSL holds every integer variable (indices, counters) as a
 * float too: both are exact only up to 2^24.
 */
export const MAX_EXACT_INT = 2 ** 24;

/**
 * Elements one buffer (one texture) holds: MAX_TEXTURE_SIZE^2 texels, and at most 2^24 so that every element
 * index is exact in the float variables gpu.js declares for integers.
 */
export const textureElements = (l: WebGlLimits): number => Math.min(MAX_EXACT_INT, l.maxTextureSize * l.maxTextureSize);

/** The rows x columns gpu.js gives a texture of `n` texels (utils.closestSquareDimensions). */
export function textureShape(n: number): [number, number] {
  const sqrt = Math.sqrt(n);
  let high = Math.ceil(sqrt);
  let low = Math.floor(sqrt);
  while (high * low < n) {
    high--;
    low = Math.ceil(n / high);
  }
  return [low, Math.ceil(n / low)];
}

export function webglTarget(l: WebGlLimits, mode: 'webgl2' | 'cpu'): Target {
  const elems = textureElements(l);
  return {
    name: 'webgl',
    device: `${l.renderer} (gpu.js ${mode}; MAX_TEXTURE_SIZE ${l.maxTextureSize})`,
    limits: {
      maxThreadsPerWorkgroup: 1,
      sharedBytes: 0,
      maxBuffersPerKernel: l.maxTextureUnits,
      maxGrid: [elems, 1, 1],
      maxBindingBytes: 4 * elems,
      maxBufferBytes: 4 * elems,
      memoryBytes: l.memoryBytes,
    },
    caps: { f64: false, f64Math: false, f16Storage: false, bf16Storage: false, u8Storage: false, f16Math: false, vectorWidth: 1, subgroups: false, aliasedBindings: false },
    schedules: {
      matmul: { kind: 'gather' },
      gemv: { kind: 'gather', maxRows: 1 },
      attention: { kind: 'gather' },
      rows: { kind: 'gather' },
      elementwise: { kind: 'gather' },
      route: { kind: 'gather' },
    },
  };
}
