/**
 * The PTX backend: Kernel IR -> PTX text (render.ts, with legalize.ts and isel.ts), the PTX Target (target.ts),
 * `.version` / `.target` selection (isa.ts), and the PTX interpreter with its `ptx-emu` Device (emu/, emu-device.ts).
 * Everything here runs in a browser too; ptxas and the CUDA driver device are Node-only, exported from ./node.js.
 */
export { choosePtxTarget, DEFAULT_ISA, DEFAULT_SM, isaText, jitErrorMessage, maxIsaForDriver, MAX_ISA, MIN_ISA, type PtxTargetChoice, PtxTargetError, type PtxTargetRequest } from './isa.js';
export { PTX_LEGALIZE_RULES, legalizeForPtx } from './legalize.js';
export { type PtxParam, type PtxRenderOptions, renderPtx, type RenderedPtx } from './render.js';
export { type CudaDeviceLimits, ptxTarget, type PtxTargetOptions, SM80_DEFAULT_LIMITS } from './target.js';
export { type EmuBuffer, type EmuKernel, PtxEmuDevice, type PtxEmuOptions } from './emu-device.js';
export { type LoadedModule, PtxMachine } from './emu/machine.js';
export { PtxRuntimeError } from './emu/exec.js';
export { PtxDecodeError } from './emu/decode.js';
export { parsePtx, PtxSyntaxError } from './emu/parse.js';

import type { KernelRenderer } from '../../kernel/renderer.js';
import { type PtxRenderOptions, renderPtx, type RenderedPtx } from './render.js';
import { SM80_DEFAULT_LIMITS } from './target.js';

/** The PTX renderer as a value (name, device limits, render). */
export function ptxRenderer(opts: PtxRenderOptions = {}): KernelRenderer<RenderedPtx> {
  return {
    name: 'ptx',
    limits: { maxThreadsPerWorkgroup: SM80_DEFAULT_LIMITS.maxThreadsPerBlock, sharedBytes: SM80_DEFAULT_LIMITS.sharedBytesPerBlock, maxBuffersPerKernel: 256, maxGridSize: SM80_DEFAULT_LIMITS.maxGrid[0] },
    render: (k) => renderPtx(k, opts),
  };
}
