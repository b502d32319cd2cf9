/**
 * Flash attention (src/kernel/builders/gpu/attention.ts) against the CPU attention builder on the Wasm
 * KernelRunner. The CPU builder runs on the first kvLen keys cut out on the host (its own kvLen: all of them).
 */
import type { KernelRunner } from '../../src/backends/wasm/kernel-runner.js';
import { attentionGrid, attentionKernel } from '../../src/kernel/builders/attention.js';
import { flashAttentionGrid, flashAttentionKernel, type FlashAttentionSpec, type FlashSchedule } from '../../src/kernel/builders/gpu/attention.js';
import { type Comparison, Data, out, runCopy } from './gpu-compare.js';

/** The attention spec (its scale is 1/sqrt(headDim)) with the keys visited, a schedule and the data. */
export interface AttentionCase extends Omit<FlashAttentionSpec, 'scale' | 'rope'> {
  readonly kvLen: number;
  readonly schedule: FlashSchedule;
  /** Positions; random increasing ones when absent. */
  readonly qPos?: readonly number[];
  readonly kPos?: readonly number[];
  /** Keys whose k and v rows are NaN: only a kernel that skips (or masks) them gives finite outputs. */
  readonly nanKeys?: readonly number[];
  readonly seed: number;
}

/** Increasing positions with gaps (gathered rows of a longer sequence). */
function gappedPositions(data: Data, n: number): number[] {
  const out: number[] = [];
  let p = data.rng.int(3);
  for (let i = 0; i < n; i++) out.push((p += 1 + data.rng.int(3)));
  return out;
}

export function compareAttention(runner: KernelRunner, c: AttentionCase): Comparison[] {
  const data = new Data(c.seed);
  const { sq, sk, heads: h, kvHeads: hkv, headDim: d, valueDim: dv, kvLen } = c;
  const q = data.normal(sq * h * d);
  const k = data.normal(sk * hkv * d);
  const v = data.normal(sk * hkv * dv);
  for (const j of c.nanKeys ?? []) {
    k.fill(Number.NaN, j * hkv * d, (j + 1) * hkv * d);
    v.fill(Number.NaN, j * hkv * dv, (j + 1) * hkv * dv);
  }
  const kPos = Int32Array.from(c.kPos ?? gappedPositions(data, sk));
  const qPos = Int32Array.from(c.qPos ?? Array.from({ length: sq }, () => kPos[data.rng.int(sk)] ?? 0));
  const scale = 1 / Math.sqrt(d);
  const spec = { sq, sk, heads: h, kvHeads: hkv, headDim: d, valueDim: dv, scale, causal: c.causal };
  const sentinel = new Float32Array(sq * h * dv).fill(7);
  const got = runCopy(runner, flashAttentionKernel(spec, c.schedule), { q, k, v, qPos, kPos, out: sentinel }, { kvLen }, flashAttentionGrid(spec, c.schedule));
  const cut = { ...spec, sk: kvLen, queryBlock: 3 };
  const want = runCopy(runner, attentionKernel(cut), {
    q, k: k.slice(0, kvLen * hkv * d), v: v.slice(0, kvLen * hkv * dv), qPos, kPos: kPos.slice(0, kvLen), out: sentinel,
  }, { kvLen }, attentionGrid(cut));
  const { queryBlock, keyBlock, threads } = c.schedule;
  return [{
    what: `attention ${sq}x${sk} (kvLen ${kvLen}) heads ${h}/${hkv} dims ${d}/${dv} ${c.causal ? 'causal' : 'full'} rows ${queryBlock} keys ${keyBlock} threads ${threads}`,
    got: out(got), want: out(want), compare: { abs: 2e-6, rel: 1e-5 },
  }];
}
