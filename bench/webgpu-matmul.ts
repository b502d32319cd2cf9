/**
 * f32 matmul on WebGPU in Node (Dawn; Mesa llvmpipe without a GPU): modc's GPU matmul schedule against jax-js's
 * WebGPU backend on the same adapter, runs alternating so load changes hit both, medians and spread of the
 * repeats, GFLOP/s and the ratio, and `uptime` for the machine's load. Each run's CPU time is reported too:
 * llvmpipe's worker threads are in-process, so GFLOP per CPU-second is what the code costs when other
 * processes share the cores (wall-clock GFLOP/s with all cores free approaches it times the core count). Both results are checked against a host
 * dot product on sampled entries before anything is timed.
 *
 *   npm run bench:webgpu -- [--size 1024] [--repeat 7] [--schedule 64x32x8/16] [--json]
 *   npm run bench:webgpu -- --sweep 64x32x8/16,128x16x8/8   (modc only: compile time, wall and CPU per schedule)
 */
import { execFileSync } from 'node:child_process';
import { openAdapterDevice } from '../src/backends/webgpu/adapter.js';
import { gpuMatmulGrid, gpuMatmulKernel, type GpuTiledSchedule } from '../src/kernel/builders/gpu/matmul.js';
import { median } from '../src/cli/bench-util.js';

interface Timing {
  readonly engine: string;
  readonly ms: number[];
  /** CPU time of this process during each run (llvmpipe's threads run in-process): robust to other load. */
  readonly cpuMs: number[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** "64x32x8/16" or "64x64x16/256s" (s: shared-memory tiles). */
function parseSchedule(s: string): GpuTiledSchedule {
  const m = /^(\d+)x(\d+)x(\d+)\/(\d+)(s?)$/.exec(s);
  if (!m) throw new Error(`--schedule ${s}: expected tileMxtileNxtileK/threads[s]`);
  return { kind: 'gpu-tiled', tileM: Number(m[1]), tileN: Number(m[2]), tileK: Number(m[3]), threads: Number(m[4]), sharedTiles: m[5] === 's' };
}

function random(n: number, seed: number): Float32Array {
  let x = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32 - 0.5;
  });
}

/** Checks sampled entries of C = A @ B (B given [K, N] when `bKN`, else W [N, K]). */
function checkSample(engine: string, c: Float32Array, a: Float32Array, b: Float32Array, n: number, bKN: boolean): void {
  for (let s = 0; s < 64; s++) {
    const r = (s * 131) % n;
    const col = (s * 977 + 5) % n;
    let want = 0;
    for (let i = 0; i < n; i++) want += (a[r * n + i] ?? 0) * (bKN ? (b[i * n + col] ?? 0) : (b[col * n + i] ?? 0));
    const got = c[r * n + col] ?? Number.NaN;
    if (!(Math.abs(got - want) <= 1e-3 + 1e-4 * Math.abs(want))) throw new Error(`${engine}: C[${r}, ${col}] = ${got}, expected ${want}`);
  }
}

interface JaxArray {
  readonly ref: JaxArray;
  data(): Promise<unknown>;
  dispose(): void;
}
interface JaxModule {
  init(...devices: string[]): Promise<string[]>;
  defaultDevice(d: string): void;
  numpy: { array(data: Float32Array, opts: { shape: number[] }): JaxArray; matmul(a: JaxArray, b: JaxArray): JaxArray };
  blockUntilReady(x: JaxArray): Promise<JaxArray>;
}

async function main(): Promise<void> {
  const n = Number(arg('size') ?? 1024);
  const repeat = Number(arg('repeat') ?? 7);
  process.env.EGL_PLATFORM ??= 'surfaceless';
  const dawn = await import('webgpu');
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(['backend=opengles']);
  const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
  if (adapter === null) throw new Error('no Dawn adapter (install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri; EGL_PLATFORM=surfaceless)');
  const device = await openAdapterDevice(adapter, 'Dawn, backend=opengles', { keepAlive: gpu });
  const sweep = arg('sweep');
  if (sweep !== undefined) {
    await runSweep(device, sweep.split(',').map(parseSchedule), n, repeat);
    await device.dispose();
    process.exit(0);
  }
  const schedArg = arg('schedule');
  const schedule = schedArg ? parseSchedule(schedArg) : device.target.schedules.matmul;
  if (schedule.kind !== 'gpu-tiled') throw new Error('the target has no gpu-tiled matmul schedule');
  const a = random(n * n, 1);
  const w = random(n * n, 2);
  const spec = { name: `bench_mm_${n}`, k: n, n, wElem: 'f32' as const, schedule, epilogue: [] };
  const compiled = await device.compile(gpuMatmulKernel(spec));
  const bufs = [device.alloc(4 * n * n, 'a'), device.alloc(4 * n * n, 'w'), device.alloc(4 * n * n, 'c')] as const;
  device.write(bufs[0], a);
  device.write(bufs[1], w);
  const grid = gpuMatmulGrid(spec, n);
  const modcRun = async (): Promise<void> => {
    device.dispatch(compiled, bufs, [n], grid);
    await device.flush();
  };
  await modcRun();
  checkSample('modc', new Float32Array((await device.read(bufs[2])).buffer), a, w, n, false);

  // jax-js on the same adapter: its navigator.gpu is Dawn's, asked for a compatibility-level adapter.
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  const nav = { userAgent: 'Node.js (Dawn)', gpu: { requestAdapter: (o?: GPURequestAdapterOptions) => gpu.requestAdapter({ ...o, featureLevel: 'compatibility' }), getPreferredCanvasFormat: () => 'rgba8unorm', wgslLanguageFeatures: new Set() } };
  if (g.navigator === undefined) g.navigator = nav;
  else Object.assign(g.navigator, nav);
  let jaxRun: (() => Promise<void>) | undefined;
  let jaxMissing: string | undefined;
  try {
    const jax = (await import('@jax-js/jax')) as unknown as JaxModule;
    const devices = await jax.init('webgpu');
    if (!devices.includes('webgpu')) throw new Error(`jax-js initialised no webgpu device (got ${devices.join(', ') || 'none'})`);
    jax.defaultDevice('webgpu');
    // jax-js multiplies A [n, k] by B [k, n]: give it W^T so both compute the same C.
    const wt = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) wt[j * n + i] = w[i * n + j] ?? 0;
    const ja = jax.numpy.array(a, { shape: [n, n] });
    const jb = jax.numpy.array(wt, { shape: [n, n] });
    const first = jax.numpy.matmul(ja.ref, jb.ref);
    checkSample('jax-js', (await first.data()) as Float32Array, a, wt, n, true);
    jaxRun = async (): Promise<void> => {
      const c = await jax.blockUntilReady(jax.numpy.matmul(ja.ref, jb.ref));
      c.dispose();
    };
    await jaxRun();
  } catch (e) {
    jaxMissing = e instanceof Error ? e.message : String(e);
  }

  const timings: Timing[] = [{ engine: 'modc', ms: [], cpuMs: [] }, { engine: 'jax-js', ms: [], cpuMs: [] }];
  for (let r = 0; r < repeat; r++) {
    for (const [t, run] of [[timings[0], modcRun], [timings[1], jaxRun]] as const) {
      if (t === undefined || run === undefined) continue;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await run();
      t.ms.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      t.cpuMs.push((c.user + c.system) / 1000);
    }
  }
  const flops = 2 * n * n * n;
  const rows = timings.filter((t) => t.ms.length).map((t) => {
    const med = median(t.ms);
    const cpu = median(t.cpuMs);
    return {
      engine: t.engine, medianMs: med, minMs: Math.min(...t.ms), maxMs: Math.max(...t.ms), gflops: flops / med / 1e6, runs: t.ms.map((x) => Math.round(x * 10) / 10),
      medianCpuMs: cpu, gflopsPerCpuSecond: flops / cpu / 1e6,
    };
  });
  const modc = rows.find((r) => r.engine === 'modc');
  const jaxRow = rows.find((r) => r.engine === 'jax-js');
  const result = {
    shape: `${n}x${n}x${n}`,
    adapter: device.target.device,
    schedule,
    rows,
    ratio: modc && jaxRow ? jaxRow.medianMs / modc.medianMs : undefined,
    ...(jaxMissing !== undefined ? { jaxMissing } : {}),
    uptime: execFileSync('uptime', { encoding: 'utf8' }).trim(),
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`f32 matmul ${result.shape} on ${result.adapter}; modc schedule ${JSON.stringify(schedule)}`);
    for (const r of rows)
      console.log(`  ${r.engine.padEnd(7)} median ${r.medianMs.toFixed(1)} ms (min ${r.minMs.toFixed(1)}, max ${r.maxMs.toFixed(1)}, ${repeat} runs)  ${r.gflops.toFixed(2)} GFLOP/s;  CPU ${r.medianCpuMs.toFixed(0)} ms: ${r.gflopsPerCpuSecond.toFixed(2)} GFLOP per CPU-second`);
    if (jaxMissing !== undefined) console.log(`  jax-js: not run: ${jaxMissing}`);
    if (result.ratio !== undefined) console.log(`  modc / jax-js speed: ${result.ratio.toFixed(2)}x`);
    console.log(`  uptime: ${result.uptime}`);
  }
  for (const b of bufs) device.free(b);
  await device.dispose();
  // jax-js keeps its own device and workers alive.
  process.exit(0);
}

/** Each schedule: compile time, best wall time and best CPU time of `repeat` runs (modc only). */
async function runSweep(device: Awaited<ReturnType<typeof openAdapterDevice>>, schedules: readonly GpuTiledSchedule[], n: number, repeat: number): Promise<void> {
  const a = random(n * n, 1);
  const w = random(n * n, 2);
  const bufs = [device.alloc(4 * n * n, 'a'), device.alloc(4 * n * n, 'w'), device.alloc(4 * n * n, 'c')] as const;
  device.write(bufs[0], a);
  device.write(bufs[1], w);
  const flops = 2 * n * n * n;
  console.log(`f32 matmul ${n}^3 on ${device.target.device}; uptime: ${execFileSync('uptime', { encoding: 'utf8' }).trim()}`);
  for (const schedule of schedules) {
    const spec = { name: `sweep_${n}`, k: n, n, wElem: 'f32' as const, schedule, epilogue: [] };
    const t0 = performance.now();
    const compiled = await device.compile(gpuMatmulKernel(spec));
    const grid = gpuMatmulGrid(spec, n);
    device.dispatch(compiled, bufs, [n], grid);
    await device.flush();
    const compileMs = performance.now() - t0;
    checkSample('modc', new Float32Array((await device.read(bufs[2])).buffer), a, w, n, false);
    let [wall, cpu] = [Infinity, Infinity];
    for (let r = 0; r < repeat; r++) {
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      device.dispatch(compiled, bufs, [n], grid);
      await device.flush();
      wall = Math.min(wall, performance.now() - w0);
      const c = process.cpuUsage(c0);
      cpu = Math.min(cpu, (c.user + c.system) / 1000);
    }
    const name = `${schedule.tileM}x${schedule.tileN}x${schedule.tileK}/${schedule.threads}${schedule.sharedTiles ? 's' : ''}`;
    console.log(`  ${name.padEnd(14)} first dispatch (compile) ${compileMs.toFixed(0)} ms; best wall ${wall.toFixed(1)} ms (${(flops / wall / 1e6).toFixed(2)} GFLOP/s); best CPU ${cpu.toFixed(0)} ms (${(flops / cpu / 1e6).toFixed(2)} GFLOP per CPU-second)`);
  }
  for (const b of bufs) device.free(b);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
