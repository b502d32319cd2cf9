/**
 * The PTX renderer: golden PTX for a route-style kernel (the canonical router score) and a matmul, the shape of
 * what it emits (.rn on every f32 add/mul, ld.global.nc only for read-only buffers, v4 accesses, .reqntid,
 * barriers), bit-exact router scores on the interpreter, the sm_75 legalisation paths run on the interpreter,
 * and the legalisation rules it records.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PtxEmuDevice } from '../../../src/backends/cuda-ptx/emu-device.js';
import { choosePtxTarget } from '../../../src/backends/cuda-ptx/isa.js';
import { renderPtx } from '../../../src/backends/cuda-ptx/render.js';
import { KernelRunner } from '../../../src/backends/wasm/kernel-runner.js';
import { routerScore } from '../../../src/ir/numerics.js';
import { k, type Kernel } from '../../../src/kernel/index.js';
import { Rng } from '../../../src/runtime/random.js';
import { expectedOutputs, outputMismatch, runOnDevice } from '../../kernel/device-harness.js';
import { kernelCases } from '../../kernel/kernel-cases.js';
import { routerScoreKernel } from './router-kernel.js';

const here = dirname(fileURLToPath(import.meta.url));
const caseKernel = (name: string): Kernel => {
  const c = kernelCases().find((x) => x.name === name);
  if (c === undefined) throw new Error(`no kernel case '${name}'`);
  return c.kernel;
};

/** Compares with test/backends/cuda-ptx/golden/<name>.ptx; MODC_UPDATE_GOLDEN=1 rewrites it. */
function golden(name: string, text: string): void {
  const file = join(here, 'golden', `${name}.ptx`);
  if (process.env.MODC_UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('golden PTX', () => {
  it('route-style kernel: the canonical router score', () => golden('router_score_64', renderPtx(routerScoreKernel(64)).ptx));
  it('packed matmul with bias and unary epilogue', () => golden('mm', renderPtx(caseKernel('builder: packed matmul with bias and unary epilogue')).ptx));
});

describe('what the renderer emits', () => {
  const router = renderPtx(routerScoreKernel(64));
  const mm = renderPtx(caseKernel('builder: packed matmul with bias and unary epilogue'));
  const instrs = (ptx: string): string[] => ptx.split('\n').map((l) => l.trim()).filter((l) => /^(@!?%p\d+ )?[a-z]/.test(l));

  it('every f32 add, sub and mul carries .rn, so ptxas may not contract them into fma', () => {
    const arith = instrs(router.ptx).filter((l) => /^(add|sub|mul)\.(rn\.)?f32/.test(l));
    expect(arith.length).toBeGreaterThan(32 * 14);
    expect(arith.filter((l) => !/\.rn\.f32/.test(l))).toEqual([]);
    expect(instrs(router.ptx).filter((l) => l.startsWith('fma'))).toEqual([]);
  });

  it('read-only buffers load through ld.global.nc, written ones through ld.global', () => {
    expect(router.ptx).toMatch(/ld\.global\.nc\.f32/);
    const k2 = caseKernel('builder: packed matmul with bias and unary epilogue');
    expect(k2.buffers.find((b) => b.name === 'c')?.access).toBe('write');
    expect(mm.ptx).not.toMatch(/ld\.global\.f32/);
  });

  it('aligned f32x4 accesses become v4 loads; the workgroup size is .reqntid; parameters are listed', () => {
    expect(mm.ptx).toMatch(/ld\.global\.nc\.v4\.f32 \{%f\d+, %f\d+, %f\d+, %f\d+\}, \[%rd\d+(\+\d+)?\]/);
    expect(mm.ptx).toMatch(/ld\.shared\.v4\.f32|st\.shared\.v4\.f32/);
    expect(router.ptx).toContain('.reqntid 32, 1, 1');
    expect(router.params.map((p) => `${p.name}:${p.kind}:${p.bytes}`)).toEqual(['x:buffer:8', 'w:buffer:8', 'b:buffer:8', 'scores:buffer:8', 'S:i32:4']);
    expect(router.ptx).toContain(".param .s32 router_score_64_param_4");
  });

  it('a barrier is bar.sync 0; a 16-bit store rounds through cvt.rn.f16.f32', () => {
    const kb: Kernel = {
      name: 'stage', buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'y', elem: 'f16', access: 'write' }], params: [],
      shared: [{ name: 'tile', elem: 'f32', length: 64 }], privates: [], threads: 64,
      body: k.block(k.store(k.shared('tile'), k.lid(0), k.load(k.global('x'), k.lid(0))), k.barrier(), k.store(k.global('y'), k.lid(0), k.load(k.shared('tile'), k.sub(63, k.lid(0))))),
    };
    const r = renderPtx(kb);
    expect(r.ptx.match(/bar\.sync 0;/g)).toHaveLength(1);
    expect(r.ptx).toMatch(/cvt\.rn\.f16\.f32 (%rs\d+), %f\d+;[\s\S]*st\.global\.b16 \[%rd\d+\], \1;/);
    expect(r.sharedBytes).toBe(256);
  });

  it('legalisation is recorded per rule', () => {
    expect(renderPtx(caseKernel('numerics: i32 div')).rewrites).toMatchObject({ 'int-div-rem-policy': 1 });
    expect(renderPtx(caseKernel('numerics: i32 shl')).rewrites).toMatchObject({ 'shift-amount-mod-32': 1 });
    const f64cast: Kernel = {
      name: 'f64cast', buffers: [{ name: 'x', elem: 'f32', access: 'read' }, { name: 'y', elem: 'i32', access: 'write' }], params: [], shared: [], privates: [], threads: 1,
      body: k.store(k.global('y'), 0, k.cast(k.cast(k.load(k.global('x'), 0), 'f64'), 'i32')),
    };
    const r = renderPtx(f64cast);
    expect(r.rewrites).toMatchObject({ 'f64-to-int-nan-zero': 1 });
    expect(r.ptx).toMatch(/\/\/ legalisation: f64-to-int-nan-zero x1/);
  });
});

describe('router score on the interpreter', () => {
  it('is bit-identical to src/ir/numerics.ts routerScore', async () => {
    const rng = new Rng(9);
    const [d, s] = [64, 37];
    const x = Float32Array.from({ length: s * d }, () => rng.normal() * 3);
    const w = Float32Array.from({ length: d }, () => rng.normal() * 0.1);
    const b = Float32Array.from([0.25]);
    const dev = new PtxEmuDevice();
    const out = await runOnDevice(dev, {
      name: 'router', kernel: routerScoreKernel(d), buffers: { x, w, b, scores: new Float32Array(s) }, params: { S: s }, grid: [Math.ceil(s / 32), 1, 1], compare: 'exact',
    });
    const got = out.scores as Float32Array;
    for (let t = 0; t < s; t++) expect(Object.is(got[t], routerScore(x, t * d, w, d, 0.25))).toBe(true);
  });
});

describe('sm_75: NaN-propagating min/max and bf16 rounding without min.NaN / cvt.bf16', () => {
  const target = choosePtxTarget({ sm: 75 });
  const cases = kernelCases().filter((c) => c.name.includes('propagates NaN') || c.name.includes('-> bf16'));
  it('renders neither min.NaN nor cvt.rn.bf16', () => {
    expect(cases.length).toBe(4);
    for (const c of cases) expect(renderPtx(c.kernel, { target }).ptx).not.toMatch(/\.NaN|cvt\.rn\.bf16/);
  });
  it('computes the policy on the interpreter', async () => {
    const dev = new PtxEmuDevice({ choice: target });
    const runner = new KernelRunner(1);
    try {
      for (const c of cases) {
        const got = await runOnDevice(dev, c);
        for (const [buf, want] of Object.entries(expectedOutputs(c, runner))) expect(`${c.name} ${buf}: ${outputMismatch(got[buf], want, c.compare) ?? 'ok'}`).toBe(`${c.name} ${buf}: ok`);
      }
    } finally {
      await runner.dispose();
    }
  });
});
