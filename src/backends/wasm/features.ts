/**
 * Runtime feature probe: relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add). Node 20 hides it behind the
 * V8 flag --experimental-wasm-relaxed-simd; setting the flag with v8.setFlagsFromString before the first module
 * that uses it is compiled enables it in this process (and its worker threads). Browsers ship it enabled.
 */
import v8 from 'node:v8';
import { WA, type WasmModule } from './wasm-api.js';

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

/** A custom section naming the tier: V8 caches modules by their bytes, so the optimised copy must differ. */
const OPTIMIZED_TAG = new Uint8Array([0x00, 0x06, 0x05, 0x6d, 0x6f, 0x64, 0x63, 0x4f]); // custom section "modcO", empty

/**
 * Compiles a module with V8's optimising tier, eagerly, now. Kernels start in V8's baseline tier (Liftoff, about
 * 10x cheaper to compile: tiny-pmod's 30 kernels take 8-16 ms of CPU instead of 65-85 ms) and V8 tiers hot
 * functions up by itself; the device calls this for a kernel that stays hot anyway (V8 cannot switch a running
 * call, and its tier-up did not trigger for binaryen-optimised kernels: 256^3 matmul stayed at 18 ms instead of
 * 1 ms). The tier flags are process-wide, so they are set only around this synchronous compile and restored.
 */
export function compileOptimized(binary: Uint8Array): WasmModule {
  const tagged = new Uint8Array(binary.length + OPTIMIZED_TAG.length);
  tagged.set(binary);
  tagged.set(OPTIMIZED_TAG, binary.length);
  try {
    v8.setFlagsFromString('--no-liftoff');
    v8.setFlagsFromString('--no-wasm-lazy-compilation');
    return new WA.Module(tagged);
  } finally {
    v8.setFlagsFromString('--liftoff');
    v8.setFlagsFromString('--wasm-lazy-compilation');
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
