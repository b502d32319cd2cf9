/**
 * The PTX interpreter's speed, measured on emitted PTX: a register-blocked matmul (one thread per workgroup) and
 * a 256-thread shared-memory kernel (lockstep phases between barriers). The lead will run small models on it, so
 * the rate is asserted to stay above a floor; MODC_EMU_SPEED=1 prints the measured instructions per second.
 */
import { describe, expect, it } from '@jest/globals';
import { PtxEmuDevice } from '../../../src/backends/cuda-ptx/emu-device.js';
import { matmulGrid, matmulKernel, packedLength } from '../../../src/kernel/builders/matmul.js';
import { k, type Kernel } from '../../../src/kernel/index.js';
import { runOnDevice } from '../../kernel/device-harness.js';

async function rate(dev: PtxEmuDevice, run: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 4; i++) await run(); // warm up the interpreter's JIT
  const [i0, t0] = [dev.machine.instructions, dev.dispatchMs];
  await run();
  return (dev.machine.instructions - i0) / ((dev.dispatchMs - t0) / 1000);
}

/** Tree sum of 256 values per workgroup through shared memory. */
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

describe('ptx-emu speed', () => {
  it('runs emitted PTX at more than 10 million instructions per second', async () => {
    const dev = new PtxEmuDevice();
    const spec = { name: 'mm_speed', k: 128, n: 64, tiling: { mr: 4, nrVec: 2, kc: 64, mc: 8, panels: 2, unroll: 4 }, epilogue: [] };
    const m = 32;
    const mm = await rate(dev, () =>
      runOnDevice(dev, {
        name: 'mm', kernel: matmulKernel(spec), buffers: { a: new Float32Array(m * 128).fill(0.5), b: new Float32Array(packedLength({ k: 128, n: 64, nr: 8 })).fill(0.25), c: new Float32Array(m * 64) },
        params: { M: m }, grid: matmulGrid(spec, m), compare: 'exact',
      }),
    );
    const groups = 16;
    const sum = await rate(dev, () =>
      runOnDevice(dev, { name: 'sum', kernel: blockSum, buffers: { x: new Float32Array(256 * groups).fill(1), out: new Float32Array(groups) }, params: {}, grid: [groups, 1, 1], compare: 'exact' }),
    );
    if (process.env.MODC_EMU_SPEED === '1') process.stdout.write(`ptx-emu: matmul ${(mm / 1e6).toFixed(1)} M instructions/s, 256-thread block sum ${(sum / 1e6).toFixed(1)} M instructions/s\n`);
    expect(mm).toBeGreaterThan(1e7);
    expect(sum).toBeGreaterThan(1e7);
  });
});
