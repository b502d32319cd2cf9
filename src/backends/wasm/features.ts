/**
 * Runtime feature probe: relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add). Node 20 hides it behind the
 * V8 flag --experimental-wasm-relaxed-simd; setting the flag with v8.setFlagsFromString before the first module
 * that uses it is compiled enables it in this process (and its worker threads). Browsers ship it enabled.
 */
import v8 from 'node:v8';
import { WA } from './wasm-api.js';

/** A module with one function (v128, v128, v128) -> v128 = f32x4.relaxed_madd, hand-encoded. */
const RELAXED_MADD_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code section, one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // local.get 0 1 2
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 0x105)
  0x0b, // end
]);

let probed: boolean | undefined;
let tiered = false;

/**
 * Compile Wasm with the optimising tier up front (V8 flag --no-liftoff), once per process, before the first
 * kernel is compiled. V8 cannot switch a running function to optimised code, and its baseline tier runs these
 * SIMD loops 5-20x slower: a kernel called a few times would stay there (measured: 256^3 matmul 18 ms with
 * dynamic tiering, 1.0 ms with --no-liftoff). The flag is process-wide; set MODC_WASM_LIFTOFF=1 to keep it.
 */
export function useOptimizingTier(): void {
  if (tiered || process.env.MODC_WASM_LIFTOFF === '1') return;
  tiered = true;
  try {
    v8.setFlagsFromString('--no-liftoff');
  } catch {
    // Not a V8 runtime: nothing to configure.
  }
}

export interface FeatureOptions {
  /** Try to enable relaxed SIMD through the V8 flag when it is not on already (default true). */
  readonly enableFlag?: boolean;
}

/** Whether this runtime can compile relaxed-SIMD FMA; probed once per process. */
export function relaxedSimdAvailable(opts: FeatureOptions = {}): boolean {
  if (probed !== undefined) return probed;
  if (WA.validate(RELAXED_MADD_MODULE)) return (probed = true);
  if (opts.enableFlag === false || process.env.MODC_WASM_RELAXED_SIMD === '0') return (probed = false);
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return (probed = false);
  }
  return (probed = WA.validate(RELAXED_MADD_MODULE));
}

export const RELAXED_SIMD_PROBE_MODULE = RELAXED_MADD_MODULE;
