/**
 * The WebGL device in a page: a WebGL2 context (its limits make the Target) handed to gpu.js in webgl2 mode.
 * Float render targets (EXT_color_buffer_float) are required: buffers are float32 textures.
 */
import { WebGlDevice } from './device.js';
import { loadGpuJs, WebGlUnavailable } from './gpujs.js';
import type { WebGlLimits } from './target.js';

/** The parts of a WebGL2 context read here (structural: the compiler core has no DOM types). */
export interface Gl2Context {
  getParameter(p: number): unknown;
  getExtension(name: string): unknown;
  readonly MAX_TEXTURE_SIZE: number;
  readonly MAX_TEXTURE_IMAGE_UNITS: number;
  readonly RENDERER: number;
}
export interface GlCanvas {
  getContext(kind: 'webgl2', attrs?: Readonly<Record<string, unknown>>): unknown;
}

export interface WebGlOpenOptions {
  /** A canvas to draw with (default: a new one from the page's document, or an OffscreenCanvas in workers). */
  readonly canvas?: GlCanvas;
  /** Device memory the runner may plan for (WebGL does not report it; default 1 GiB). */
  readonly memoryBytes?: number;
}

function newCanvas(): GlCanvas {
  const g = globalThis as { document?: { createElement(t: 'canvas'): GlCanvas }; OffscreenCanvas?: new (w: number, h: number) => GlCanvas };
  if (g.document !== undefined) return g.document.createElement('canvas');
  if (g.OffscreenCanvas !== undefined) return new g.OffscreenCanvas(1, 1);
  throw new WebGlUnavailable('no document and no OffscreenCanvas: the webgl backend needs a page or a worker with WebGL2');
}

/** What WebGL2 offers here, or a sentence saying what is missing. */
export function probeWebGl(canvas: GlCanvas = newCanvas()): { gl: Gl2Context; limits: Omit<WebGlLimits, 'memoryBytes'> } | string {
  const gl = canvas.getContext('webgl2', { antialias: false, depth: false, stencil: false, preserveDrawingBuffer: false }) as Gl2Context | null;
  if (gl === null || typeof gl.getParameter !== 'function') return 'this browser has no WebGL2 context';
  if (!gl.getExtension('EXT_color_buffer_float')) return 'WebGL2 here cannot render to float32 textures (EXT_color_buffer_float), which the webgl backend stores buffers in';
  const info = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  const renderer = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  return { gl, limits: { maxTextureSize: Number(gl.getParameter(gl.MAX_TEXTURE_SIZE)), maxTextureUnits: Number(gl.getParameter(gl.MAX_TEXTURE_IMAGE_UNITS)), renderer } };
}

export async function openWebGlDevice(opts: WebGlOpenOptions = {}): Promise<WebGlDevice> {
  const canvas = opts.canvas ?? newCanvas();
  const probe = probeWebGl(canvas);
  if (typeof probe === 'string') throw new WebGlUnavailable(probe);
  const { GPU } = await loadGpuJs();
  const gpu = new GPU({ mode: 'webgl2', canvas, context: probe.gl });
  return new WebGlDevice(gpu, 'webgl2', { ...probe.limits, memoryBytes: opts.memoryBytes ?? 1 << 30 });
}
