/**
 * The blocked CPU attention kernel alone (the bench model's prefill shape: 16 heads of 64, causal, K and V
 * head-major as lowering lays them out), for each tiling given, next to a 576x4096x4096 matmul and the machine's
 * FMA bound in the same run: GFLOP/s of the visible query-key pairs (4 * pairs * headDim * heads), medians and
 * ranges, the kernels' runs alternating.
 * Run: npm run build && node dist/bench/attention.js [--queries 640] [--repeats 9] [--tilings 2/16/4/4/0/1,2/64/4/4/0/1]
 * A tiling is qVec/keyBlock/kRows/vCols/vectorLoads(0|1)/cUnroll (BlockedAttentionTiling).
 */
import { blockedAttentionGrid, blockedAttentionKernel, BLOCKED_ATTENTION_TILING, type BlockedAttentionTiling } from '../src/kernel/builders/attention-blocked.js';
import type { AttentionSpec } from '../src/kernel/builders/attention.js';
import type { Kernel } from '../src/kernel/ir.js';
import { relaxedSimdAvailable } from '../src/backends/wasm/features.js';
import { WasmGemm } from '../src/backends/wasm/gemm.js';
import { WasmHeap } from '../src/backends/wasm/memory.js';
import { KernelCompiler } from '../src/backends/wasm/module.js';
import { WorkerPool } from '../src/backends/wasm/pool.js';
import { argBlockLayout } from '../src/backends/wasm/render.js';
import { formatBounds, meanBounds, measureBounds, pct } from '../src/cli/bench-bounds.js';
import { loadText } from '../src/cli/bench-load.js';
import { formatSpread, spread } from '../src/cli/bench-util.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const THREADS = 2;
const QUERIES = Number(arg('--queries', '640'));
const REPEATS = Number(arg('--repeats', '9'));
const tilingText = (t: BlockedAttentionTiling): string => [t.qVec, t.keyBlock, t.kRows, t.vCols, t.vectorLoads ? 1 : 0, t.cUnroll].join('/');
const TILINGS = arg('--tilings', tilingText(BLOCKED_ATTENTION_TILING)).split(',').map((s): BlockedAttentionTiling => {
  const [qVec, keyBlock, kRows, vCols, vectorLoads, cUnroll] = s.split('/').map(Number);
  return { qVec: qVec ?? 2, keyBlock: keyBlock ?? 16, kRows: kRows ?? 4, vCols: vCols ?? 4, vectorLoads: vectorLoads === 1, cUnroll: cUnroll ?? 1 };
});

const heads = 16;
const dim = 64;
const spec: AttentionSpec = { sq: QUERIES, sk: QUERIES, heads, kvHeads: heads, headDim: dim, valueDim: dim, scale: 1 / 8, causal: true, queryBlock: 8 };
const flops = 4 * ((QUERIES * (QUERIES + 1)) / 2) * dim * heads;

const heap = new WasmHeap(THREADS);
const pool = new WorkerPool(heap, THREADS);
pool.start();
const compiler = new KernelCompiler({ relaxedFma: relaxedSimdAvailable() });
const filled = (n: number, f: (i: number) => number): number => {
  const p = heap.alloc(n * 4, 'bench data');
  const a = heap.f32(p, n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return p;
};
const elems = QUERIES * heads * dim;
const ptrs: Record<string, number> = {
  q: filled(elems, (i) => Math.sin(i)),
  k: filled(elems, (i) => Math.cos(0.7 * i)),
  v: filled(elems, (i) => Math.sin(0.3 * i)),
  qPos: heap.alloc(QUERIES * 4, 'positions'),
  out: heap.alloc(elems * 4, 'out'),
};
heap.i32(ptrs.qPos ?? 0, QUERIES).set(Int32Array.from({ length: QUERIES }, (_, i) => i));
ptrs.kPos = ptrs.qPos ?? 0;

/** A dispatch of `kernel` on the optimising tier, its argument block filled. */
function prepared(kernel: Kernel, grid: readonly [number, number, number]): () => void {
  const c = compiler.compile(kernel);
  const id = pool.load(compiler.optimize(c), c.imports);
  const layout = argBlockLayout(kernel);
  const args = heap.alloc(layout.bytes, 'args');
  const words = heap.i32(args, layout.bytes / 4);
  words.set(grid, 0);
  kernel.buffers.forEach((b, i) => (words[layout.bufferOffset(i) / 4] = ptrs[b.name] ?? 0));
  // kvLen, sq and sk: every query and key of the prefill.
  kernel.params.forEach((_, i) => (words[layout.paramOffset(i) / 4] = QUERIES));
  return () => pool.dispatch(id, args, grid[0] * grid[1] * grid[2]);
}

const load0 = loadText();
const before = await measureBounds(THREADS);
const gemm = new WasmGemm({ threads: THREADS });
const mm = gemm.prepare(576, 4096, 4096, Float32Array.from({ length: 4096 * 4096 }, (_, i) => Math.sin(0.37 * i)));
mm.a.fill(0.5);
const runs = [
  { name: 'matmul 576x4096x4096', flops: 2 * 576 * 4096 * 4096, run: () => mm.run(), ms: [] as number[] },
  ...TILINGS.map((t) => ({ name: `attention ${tilingText(t)}`, flops, run: prepared(blockedAttentionKernel(spec, t), blockedAttentionGrid(spec, t)), ms: [] as number[] })),
];
for (const r of runs) r.run();
for (let i = 0; i < REPEATS; i++)
  for (const r of runs) {
    const t0 = performance.now();
    r.run();
    r.ms.push(performance.now() - t0);
  }
const after = await measureBounds(THREADS);
const fmaPeak = meanBounds(before, after).fmaGflops.median;
const mmRate = (runs[0]?.flops ?? 0) / (spread(runs[0]?.ms ?? []).median * 1e6);
process.stdout.write(`blocked attention, ${QUERIES} queries x ${heads} heads of ${dim}, causal, ${THREADS} threads, median [range] of ${REPEATS} (${load0}, after: ${loadText()})\n`);
process.stdout.write(`${formatBounds(before)}\n${formatBounds(after)}\n`);
for (const r of runs) {
  const s = spread(r.ms);
  const rate = r.flops / (s.median * 1e6);
  process.stdout.write(`  ${r.name.padEnd(28)} ${formatSpread(s, 2)} ms  ${rate.toFixed(1)} GFLOP/s = ${pct(rate, fmaPeak)} of the FMA bound, ${pct(rate, mmRate)} of the matmul\n`);
}
mm.dispose();
await gemm.dispose();
await pool.dispose();
