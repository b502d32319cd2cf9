/**
 * Every kernel of the shared kernel suite (and the route kernels) assembles with ptxas for sm_80 and sm_90 with
 * no spills; ptxas's resource lines and errors parse into structured results.
 */
import { describe, expect, it } from '@jest/globals';
import { choosePtxTarget } from '../../../src/backends/cuda-ptx/isa.js';
import { formatPtxasReport, parsePtxasOutput, ptxasReport, runPtxas } from '../../../src/backends/cuda-ptx/ptxas.js';
import { renderPtx } from '../../../src/backends/cuda-ptx/render.js';
import { compactKernel, routeRankKernel, routeScoreKernel, stringCombineKernel } from '../../../src/kernel/builders/route.js';
import { ptxSchedules } from '../../../src/backends/registry.js';
import { buildDecodeStep, buildLanguageModel, decodeDynamicSymbols, TINY_PMOD } from '../../../models/index.js';
import { PtxEmuDevice } from '../../../src/backends/cuda-ptx/emu-device.js';
import { compile } from '../../../src/runtime/compile.js';
import { kernelCases } from '../../kernel/kernel-cases.js';
import { missingTool } from './toolkit.js';

const missing = missingTool('ptxas', 'ptxas tests');
const maybe = missing === undefined ? it : it.skip;

const routeKernels = [routeScoreKernel(64, 0.5, 0.1), routeRankKernel(48, true, true), compactKernel(48, true), stringCombineKernel(64)];

describe('ptxas output parsing', () => {
  it('reads resources per entry and errors with their lines', () => {
    const text = [
      "ptxas info    : Compiling entry function 'mm' for 'sm_80'",
      'ptxas info    : Function properties for mm',
      '    16 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads',
      'ptxas info    : Used 72 registers, used 1 barriers, 512 bytes smem, 388 bytes cmem[0]',
      'ptxas k.ptx, line 29; error   : Modifier \'.NaN\' requires .target sm_80 or higher',
      'ptxas fatal   : Ptx assembly aborted due to errors',
    ].join('\n');
    const { resources, diagnostics } = parsePtxasOutput(text, 'sm_80');
    expect(resources).toEqual([{ entry: 'mm', arch: 'sm_80', registers: 72, barriers: 1, sharedBytes: 512, stackFrameBytes: 16, spillStoreBytes: 8, spillLoadBytes: 12 }]);
    expect(diagnostics).toEqual([
      { severity: 'error', line: 29, message: "Modifier '.NaN' requires .target sm_80 or higher" },
      { severity: 'fatal', message: 'Ptx assembly aborted due to errors' },
    ]);
  });
});

describe('ptxas on emitted PTX', () => {
  const kernels = [...kernelCases().map((c) => c.kernel), ...routeKernels];
  for (const arch of ['sm_80', 'sm_90']) {
    maybe(`every suite kernel assembles for ${arch} without spills`, () => {
      const rows = ptxasReport(kernels, [arch]);
      const bad = rows.filter((r) => !r.ok || (r.spillBytes ?? 1) !== 0);
      expect(formatPtxasReport(bad)).toBe('');
      expect(rows).toHaveLength(kernels.length);
      // Shared arrays show up as ptxas's smem (the matmul stages a tile of partial sums).
      const mm = rows.find((r) => r.kernel === 'mm');
      expect(mm?.sharedBytes).toBe(512);
    });
  }

  maybe('every kernel of the tiny p-MoD program (prefill and decode) assembles for sm_80 and sm_90 without spills', () => {
    // The Target ptx-emu runs whole models with (the registry's PTX schedules).
    const target = new PtxEmuDevice({ schedules: ptxSchedules() }).target;
    const caps = Object.fromEntries(Array.from({ length: TINY_PMOD.llm.numLayers }, (_, l) => [`C${l}`, 64]));
    const prefill = compile(buildLanguageModel(TINY_PMOD, { kvState: true, lastLogits: true }), target, { T: 40, N_v: 20, ...caps });
    const decode = compile(buildDecodeStep(TINY_PMOD), target, { N: 1, ...caps }, { dynamic: decodeDynamicSymbols(TINY_PMOD.llm.numLayers) });
    const unique = new Map([...prefill.kernels, ...decode.kernels].map((k) => [k.name, k]));
    expect(unique.size).toBeGreaterThan(8);
    const rows = ptxasReport([...unique.values()], ['sm_80', 'sm_90']);
    expect(formatPtxasReport(rows.filter((r) => !r.ok || r.spillBytes !== 0))).toBe('');
  });

  maybe('a bad module reports exit 255 and the PTX line of the error', () => {
    const r = renderPtx(routeScoreKernel(64, 0.5, 0.1), { target: choosePtxTarget() });
    const lines = r.ptx.split('\n');
    const at = lines.findIndex((l) => l.includes('cvta.to.global.u64'));
    lines[at] = '\tbogus.instruction %rd1;';
    const res = runPtxas(lines.join('\n'), 'sm_80', 'bad');
    expect(res.ok).toBe(false);
    expect(res.exitCode).toBe(255);
    expect(res.diagnostics.find((d) => d.severity === 'error')?.line).toBe(at + 1);
  });

  maybe('ISA features below sm_80 are legalised: min/max and bf16 rounding assemble for sm_75', () => {
    const target = choosePtxTarget({ sm: 75 });
    const storage = kernelCases().filter((c) => c.name.includes('bf16') || c.name.includes('propagates NaN'));
    expect(storage.length).toBeGreaterThan(3);
    const rows = ptxasReport(storage.map((c) => c.kernel), ['sm_75'], () => target);
    expect(formatPtxasReport(rows.filter((r) => !r.ok))).toBe('');
  });
});
