/**
 * `npm run bench:ptx-emu`: the PTX interpreter's rate on emitted PTX, in instructions per second: a
 * register-blocked matmul (one thread per workgroup) and a 256-thread shared-memory tree sum (lockstep phases
 * between barriers). Medians of repeats, with the load average.
 */
import { loadavg } from 'node:os';
import { PtxEmuDevice } from '../src/backends/cuda-ptx/emu-device.js';
import { matmulGrid, matmulKernel, packedLength } from '../src/kernel/builders/matmul.js';
import { k, type Kernel } from '../src/kernel/index.js';

const blockSum: Kernel = {
  name: 'block_sum_256',
  buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'out', elem: 'f32', access: 'write' }],
  params: [],
  shared: [{ name: 's', elem: 'f32', length: 256 }],
  privates: [],
  threads: 256,
  body: k.block(
    k.store(k.shared('s'), k.lid(0), k.load(k.global('x'), k.add(k.mul(k.gid(0), 256), k.lid(0)))),
    k.barrier(),
    ...[128, 64, 32, 16, 8, 4, 2, 1].flatMap((w) => [
      k.iff(k.lt(k.lid(0), w), k.store(k.shared('s'), k.lid(0), k.add(k.load(k.shared('s'), k.lid(0)), k.load(k.shared('s'), k.add(k.lid(0), w))))),
      k.barrier(),
    ]),
    k.iff(k.cmp('eq', k.lid(0), 0), k.store(k.global('out'), k.gid(0), k.load(k.shared('s'), 0))),
  ),
};

async function rate(dev: PtxEmuDevice, kernel: Kernel, data: readonly Float32Array[], params: readonly number[], grid: [number, number, number], repeat: number): Promise<number[]> {
  const compiled = await dev.compile(kernel);
  const bufs = data.map((d, i) => {
    const b = dev.alloc(d.byteLength, `${kernel.name}.${i}`);
    dev.write(b, d);
    return b;
  });
  const rates: number[] = [];
  for (let r = 0; r < repeat + 3; r++) {
    const [i0, t0] = [dev.machine.instructions, dev.dispatchMs];
    dev.dispatch(compiled, bufs, params, grid);
    // The first runs warm up V8's compilation of the interpreter loop.
    if (r >= 3) rates.push((dev.machine.instructions - i0) / ((dev.dispatchMs - t0) / 1000));
  }
  for (const b of bufs) dev.free(b);
  return rates.sort((a, b) => a - b);
}

const median = (xs: readonly number[]): number => xs[Math.floor(xs.length / 2)] ?? Number.NaN;
const dev = new PtxEmuDevice();
const spec = { name: 'mm_speed', k: 128, n: 64, tiling: { mr: 4, nrVec: 2, kc: 64, mc: 8, panels: 2, unroll: 4 }, epilogue: [] };
const m = 32;
const mm = await rate(dev, matmulKernel(spec), [new Float32Array(m * 128).fill(0.5), new Float32Array(packedLength({ k: 128, n: 64, nr: 8 })).fill(0.25), new Float32Array(m * 64)], [m], matmulGrid(spec, m), 7);
const sum = await rate(dev, blockSum, [new Float32Array(256 * 16).fill(1), new Float32Array(16)], [], [16, 1, 1], 7);
const fmt = (xs: readonly number[]): string => `${(median(xs) / 1e6).toFixed(1)} M instructions/s (${((xs[0] ?? 0) / 1e6).toFixed(1)}-${((xs[xs.length - 1] ?? 0) / 1e6).toFixed(1)})`;
process.stdout.write(`ptx-emu (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})\n  matmul 32x128x64: ${fmt(mm)}\n  256-thread block sum: ${fmt(sum)}\n`);
await dev.dispose();
