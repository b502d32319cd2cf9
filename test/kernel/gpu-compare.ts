/**
 * Runs a GPU-shaped builder's kernel and its CPU counterpart (or a host formula) on the Wasm KernelRunner and
 * returns their outputs side by side. Shared by the unit tests (fixed ragged shapes) and the property tests
 * (random shapes) of src/kernel/builders/gpu.
 */
import type { HostArray, KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { bf16BitsToNumber, f16BitsToNumber, numberToBf16Bits, numberToF16Bits } from '../../src/ir/index.js';
import { checkKernel, type Kernel } from '../../src/kernel/index.js';
import { Rng } from '../../src/runtime/random.js';
import { type KernelCase, outputMismatch } from './device-harness.js';

export interface Comparison {
  readonly what: string;
  readonly got: HostArray;
  readonly want: HostArray;
  readonly compare: KernelCase['compare'];
}

/** 'ok', or the first mismatch prefixed by what was compared. */
export const mismatch = (c: Comparison): string => {
  const m = outputMismatch(c.got, c.want, c.compare);
  return m === undefined ? 'ok' : `${c.what}: ${m}`;
};

/** Runs `kernel` on copies of `buffers` (the kernel is verified first); returns every buffer after the run. */
export function runCopy(runner: KernelRunner, kernel: Kernel, buffers: Readonly<Record<string, HostArray>>, params: Readonly<Record<string, number>>, grid: readonly [number, number, number]): Record<string, HostArray> {
  checkKernel(kernel);
  const bufs: Record<string, HostArray> = {};
  for (const [name, a] of Object.entries(buffers)) bufs[name] = a.slice() as HostArray;
  runner.run(kernel, bufs, params, grid);
  return bufs;
}

export const out = (bufs: Record<string, HostArray>, name = 'out'): HostArray => {
  const b = bufs[name];
  if (b === undefined) throw new Error(`no buffer '${name}'`);
  return b;
};

export class Data {
  readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  normal(n: number, scale = 1, shift = 0): Float32Array {
    return Float32Array.from({ length: n }, () => shift + scale * this.rng.normal());
  }
  ints(n: number, lo: number, hi: number): Int32Array {
    return Int32Array.from({ length: n }, () => lo + this.rng.int(hi - lo + 1));
  }
  /** A permutation-free random choice of `n` values in [0, range). */
  rows(n: number, range: number): Int32Array {
    return Int32Array.from({ length: n }, () => this.rng.int(range));
  }
}

export type WeightElem = 'f32' | 'f16' | 'bf16';

/** A weight in storage type `elem` (host bits for 16-bit types) and the f32 values a load of it gives. */
export function storedWeight(values: Float32Array, elem: WeightElem): { readonly stored: HostArray; readonly widened: Float32Array } {
  if (elem === 'f32') return { stored: values, widened: values };
  const bits = Uint16Array.from(values, elem === 'f16' ? numberToF16Bits : numberToBf16Bits);
  return { stored: bits, widened: Float32Array.from(bits, elem === 'f16' ? f16BitsToNumber : bf16BitsToNumber) };
}
