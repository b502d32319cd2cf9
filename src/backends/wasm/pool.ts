/**
 * A persistent pool of worker threads sharing the Wasm memory. A dispatch hands out the workgroups of a kernel
 * in contiguous chunks claimed from an atomic counter (the calling thread takes part), so a core slowed by
 * other processes does not stall the others. Every workgroup computes its own disjoint outputs in a fixed
 * order, so results are bit-identical whatever the thread count or the claiming order. Commands go through a
 * control block in shared memory. A thread that finds nothing to do spins on it for a short while before it
 * sleeps in Atomics.wait, as llama.cpp's thread pool does: waking a sleeping thread costs about 50 us (a futex
 * wake and a reschedule; 51-60 us per dispatch of a tiny kernel on 2 threads, 1.3-2.3 us with the spin), and a
 * decode step is some 250 dispatches a few hundred microseconds long with about 15 us of host work between them.
 * The workers start at the first dispatch (or at start()), and the calling thread runs every dispatch alone
 * until all of them have started and instantiated the kernels loaded before.
 */
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { WasmHeap } from './memory.js';
import { erf64, type MathImport, mathImportObject } from './math.js';
import { WA, type WasmModule } from './wasm-api.js';

/** Control block words. */
const GEN = 0;
const CMD = 1;
const KERNEL = 2;
const ARGS = 3;
const GROUPS = 4;
const DONE = 5;
const PARTICIPANTS = 6;
const NEXT = 7;
const CHUNK = 8;
/** Nonzero once a worker has stopped outside a kernel (it can no longer take part). */
const DEAD = 9;
/** Workers that have started and instantiated the kernels posted before they started. */
const READY = 10;
const CMD_EXIT = 0;
const CMD_LOAD = 1;
const CMD_RUN = 2;

/** How long an idle thread spins before it sleeps, microseconds (MODC_WASM_SPIN_US; 0 sleeps at once). */
export const SPIN_US = spinMicros(typeof process === 'object' ? process.env.MODC_WASM_SPIN_US : undefined);

function spinMicros(env: string | undefined): number {
  if (env === undefined || env === '') return 200;
  const us = Number(env);
  if (!Number.isFinite(us) || us < 0) throw new Error(`MODC_WASM_SPIN_US must be a number of microseconds >= 0, got '${env}'`);
  return us;
}

/**
 * Spins until \`ready()\` or \`us\` microseconds have passed, reading the clock once per 64 polls (a poll is an
 * atomic load, nanoseconds; the clock costs more). Returns whether it became ready.
 */
function spinUntil(ready: () => boolean, us: number): boolean {
  if (us <= 0) return ready();
  const end = performance.now() + us / 1000;
  for (;;) {
    for (let i = 0; i < 64; i++) if (ready()) return true;
    if (performance.now() >= end) return ready();
  }
}

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, port, index, scratch, control } = workerData;
const ctrl = new Int32Array(memory.buffer, control, 16);
// A worker that cannot go on says so through the control block: the main thread waits there synchronously and
// would never see an error event.
try {
  // Function sources are bound to fixed names: a bundler may rename the functions they were written as.
  const erf = ${erf64.toString()};
  const MATH = { exp: Math.exp, log: Math.log, tanh: Math.tanh, sin: Math.sin, cos: Math.cos, erf, pow: Math.pow };
  const kernels = [];
  const spinUntil = ${spinUntil.toString()};
  const instantiate = () => {
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      const math = {};
      for (const n of m.message.imports) math[n] = MATH[n];
      kernels[m.message.id] = new WebAssembly.Instance(m.message.module, { env: { memory }, math }).exports.run;
    }
  };
  // The calling thread issues no command until every worker is ready, so the generation read here is current.
  instantiate();
  let seen = Atomics.load(ctrl, ${GEN});
  Atomics.add(ctrl, ${READY}, 1);
  Atomics.notify(ctrl, ${READY});
  const fresh = () => Atomics.load(ctrl, ${GEN}) !== seen;
  for (;;) {
    if (!spinUntil(fresh, ${SPIN_US})) Atomics.wait(ctrl, ${GEN}, seen);
    const gen = Atomics.load(ctrl, ${GEN});
    if (gen === seen) continue;
    seen = gen;
    const cmd = ctrl[${CMD}];
    if (cmd === ${CMD_EXIT}) break;
    let error = 0;
    try {
      if (cmd === ${CMD_LOAD}) instantiate();
      else if (cmd === ${CMD_RUN} && index < ctrl[${PARTICIPANTS}]) {
        const n = ctrl[${GROUPS}], chunk = ctrl[${CHUNK}], run = kernels[ctrl[${KERNEL}]], args = ctrl[${ARGS}];
        for (let s = Atomics.add(ctrl, ${NEXT}, chunk); s < n; s = Atomics.add(ctrl, ${NEXT}, chunk)) run(args, s, Math.min(n, s + chunk), scratch);
      }
    } catch (e) {
      error = 1;
      port.postMessage(String(e && e.stack || e));
    }
    Atomics.add(ctrl, ${DONE}, error ? 1 << 16 : 1);
    Atomics.notify(ctrl, ${DONE});
  }
} catch (e) {
  port.postMessage('worker ' + index + ' stopped: ' + String(e && e.stack || e));
  Atomics.store(ctrl, ${DEAD}, 1);
  Atomics.notify(ctrl, ${DONE});
}
`;

type RunFn = (args: number, start: number, end: number, scratch: number) => void;

export class WorkerPool {
  private readonly workers: { worker: Worker; port: MessagePort }[] = [];
  private readonly ctrl: Int32Array;
  private readonly kernels: RunFn[] = [];
  /** Every kernel loaded so far, for workers started after it. */
  private readonly modules: { id: number; module: WasmModule; imports: readonly MathImport[] }[] = [];
  private closed = false;
  /** Why a worker stopped outside a kernel: every later command fails with it. */
  private dead: string | undefined;
  /** Kernels posted to the workers that they may not have instantiated yet. */
  private unloaded = false;
  /** Whether every worker has started (until then the calling thread runs every dispatch alone). */
  private started = false;
  /** Threads the last dispatch ran on (1 until the workers have started). */
  lastThreads = 0;

  constructor(private readonly heap: WasmHeap, readonly threads: number) {
    this.ctrl = new Int32Array(heap.memory.buffer as ArrayBuffer, heap.controlOffset, 16);
    Atomics.store(this.ctrl, READY, 0);
  }

  /**
   * Starts the workers now and waits until they take part (benchmarks and tests of the threaded path; a
   * program's first dispatch starts them otherwise, without waiting). Throws if one stops or none answers in
   * `timeoutMs`.
   */
  start(timeoutMs = 60_000): void {
    this.spawn();
    const end = performance.now() + timeoutMs;
    for (let r = Atomics.load(this.ctrl, READY); r < this.workers.length; r = Atomics.load(this.ctrl, READY)) {
      this.checkWorkers();
      if (performance.now() > end) throw new Error(`wasm pool: ${this.workers.length - r} of ${this.workers.length} worker thread(s) did not start within ${timeoutMs} ms`);
      Atomics.wait(this.ctrl, READY, r, 10);
    }
    this.checkWorkers();
  }

  private spawn(): void {
    if (this.workers.length || this.threads < 2 || this.closed) return;
    const heap = this.heap;
    for (let i = 1; i < this.threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { memory: heap.memory, port: port2, index: i, scratch: heap.scratch(i), control: heap.controlOffset },
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      for (const m of this.modules) port1.postMessage(m);
      this.workers.push({ worker, port: port1 });
    }
  }

  /**
   * Instantiates a compiled kernel on every thread; returns its id. The workers instantiate the kernels posted
   * to them at the next dispatch, all in one command: a program's kernels cost one round trip to each worker
   * instead of one each (tens of them at a cold start, each waiting for a worker to wake up).
   */
  load(module: WasmModule, imports: readonly MathImport[]): number {
    const id = this.kernels.length;
    const inst = new WA.Instance(module, { env: { memory: this.heap.memory }, math: mathImportObject(imports) });
    this.kernels.push(inst.exports.run as RunFn);
    const posted = { id, module, imports };
    this.modules.push(posted);
    if (this.workers.length) {
      for (const w of this.workers) w.port.postMessage(posted);
      this.unloaded = true;
    }
    return id;
  }

  /**
   * A worker takes part once it has started: Node needs tens of milliseconds of a core to start one, and a cold
   * run that waited for it (or shared the cores with its start) reached its first logits later than one thread
   * alone. Results do not depend on the number of threads, so switching mid-program changes nothing but time.
   */
  private workersStarted(): boolean {
    if (!this.started && Atomics.load(this.ctrl, READY) >= this.workers.length) this.started = true;
    return this.started;
  }

  private loadPending(): void {
    if (!this.unloaded) return;
    this.unloaded = false;
    this.command(CMD_LOAD, this.workers.length + 1);
  }

  /** Runs `groups` workgroups of kernel `id` with its argument block at `args`, on up to `threads` threads. */
  dispatch(id: number, args: number, groups: number, threads = this.threads): void {
    const run = this.kernels[id];
    if (run === undefined) throw new Error(`wasm pool: unknown kernel ${id}`);
    this.spawn();
    const t = this.workersStarted() ? Math.max(1, Math.min(threads, this.threads, groups)) : 1;
    this.lastThreads = t;
    // Small chunks keep the tail short when one core is slowed; one atomic add per chunk is negligible. Calls
    // of a chunk each also let V8 move a hot kernel to optimised code between chunks (it cannot switch a call).
    const chunk = Math.max(1, Math.floor(groups / (t * 64)));
    if (t === 1) {
      const scratch = this.heap.scratch(0);
      for (let s = 0; s < groups; s += chunk) run(args, s, Math.min(groups, s + chunk), scratch);
      return;
    }
    this.loadPending();
    const c = this.ctrl;
    c[KERNEL] = id;
    c[ARGS] = args;
    c[GROUPS] = groups;
    c[CHUNK] = chunk;
    Atomics.store(c, NEXT, 0);
    this.command(CMD_RUN, t, () => {
      const scratch = this.heap.scratch(0);
      for (let s = Atomics.add(c, NEXT, chunk); s < groups; s = Atomics.add(c, NEXT, chunk)) run(args, s, Math.min(groups, s + chunk), scratch);
    });
  }

  /** Throws once a worker has stopped outside a kernel (its message is kept for every later command). */
  private checkWorkers(): void {
    if (this.dead === undefined && Atomics.load(this.ctrl, DEAD) !== 0) {
      const reasons = this.workers.map((w) => receiveMessageOnPort(w.port)?.message).filter((m): m is string => typeof m === 'string');
      this.dead = reasons.join('; ') || 'a worker thread stopped';
    }
    if (this.dead !== undefined) throw new Error(`wasm pool: ${this.dead}`);
  }

  private command(cmd: number, participants: number, own?: () => void): void {
    if (this.closed) throw new Error('wasm pool: used after dispose');
    this.checkWorkers();
    const c = this.ctrl;
    c[CMD] = cmd;
    c[PARTICIPANTS] = participants;
    Atomics.store(c, DONE, 0);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    // The calling thread's share; even if it traps, wait for the workers so the next command starts clean.
    let ownError: unknown;
    try {
      own?.();
    } catch (e) {
      ownError = e;
    }
    const want = this.workers.length;
    // DONE counts finished workers in its low 16 bits and failed ones in its high 16.
    const answered = (d: number): boolean => (d & 0xffff) + (d >>> 16) >= want;
    spinUntil(() => answered(Atomics.load(c, DONE)), SPIN_US);
    for (let d = Atomics.load(c, DONE); !answered(d); d = Atomics.load(c, DONE)) {
      this.checkWorkers();
      Atomics.wait(c, DONE, d, 1000);
    }
    const failed = Atomics.load(c, DONE) >>> 16;
    if (ownError !== undefined) throw ownError;
    if (failed) {
      const reasons = this.workers.map((w) => receiveMessageOnPort(w.port)?.message).filter((m): m is string => typeof m === 'string');
      throw new Error(`wasm pool: ${failed} worker(s) failed while running a kernel: ${reasons.join('; ')}`);
    }
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.ctrl[CMD] = CMD_EXIT;
    Atomics.add(this.ctrl, GEN, 1);
    Atomics.notify(this.ctrl, GEN);
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
