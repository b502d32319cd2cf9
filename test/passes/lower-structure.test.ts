/**
 * Lowering delivers what the graph claims, checked on the program's structure (for the Wasm Target): a MoD layer
 * lowers to at most 2 more dispatches than a dense layer (router + select; the kept rows are read in place and
 * the STRing combine is the down projection's epilogue, so no `u` buffer exists); one RMSNorm per normalised
 * tensor; weights stay in their checkpoint dtype; and the printed program of tiny p-MoD is a golden file.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDecodeStep, buildLanguageModel, decodeDynamicSymbols, layerRatios, TINY_PMOD } from '../../models/index.js';
import { wasmTarget } from '../../src/backends/wasm/index.js';
import { dispatchesPerLayer, programText } from '../../src/kernel/program.js';
import { kernelText } from '../../src/kernel/print.js';
import { compile } from '../../src/runtime/compile.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'lower');
const target = wasmTarget({ threads: 2 });
const spec = TINY_PMOD;
const ratios = layerRatios(spec.mod?.schedule ?? { kind: 'constant', layout: 'deep_all', ratio: 1 }, spec.llm.numLayers);

function golden(name: string, text: string): void {
  const file = join(dir, name);
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('lowered tiny p-MoD prefill', () => {
  const graph = buildLanguageModel(spec, { exportRouting: true });
  const program = compile(graph, target, { T: 16, N_v: 32 });
  const dispatches = program.steps.filter((s) => s.op === 'dispatch');
  const nodeOf = (s: (typeof dispatches)[number]): string => (s.op === 'dispatch' ? s.node : '');

  it('lowers a MoD layer to at most 2 more dispatches than a dense layer', () => {
    const per = dispatchesPerLayer(program);
    const dense = ratios.flatMap((r, l) => (r === null ? [per[l] ?? 0] : []));
    const mod = ratios.flatMap((r, l) => (r !== null ? [per[l] ?? 0] : []));
    expect(dense.length).toBeGreaterThan(0);
    expect(mod.length).toBeGreaterThan(0);
    expect(Math.max(...mod)).toBeLessThanOrEqual(Math.min(...dense) + 2);
  });

  it('routes in two dispatches per MoD layer and never copies the kept rows or writes u', () => {
    for (const [l, r] of ratios.entries()) {
      const route = dispatches.filter((s) => nodeOf(s).includes(`'layers.${l}.route'`));
      if (r === null) expect(route).toHaveLength(0);
      else expect(route.map((s) => (s.op === 'dispatch' ? program.kernels[s.kernel]?.name.replace(/_[0-9].*$/, '') : ''))).toEqual(['route_scores', 'route_select']);
    }
    expect(program.kernels.some((k) => k.name.startsWith('gather_rows') && dispatches.some((s) => s.op === 'dispatch' && s.kernel === program.kernels.indexOf(k) && nodeOf(s).includes('route')))).toBe(false);
    expect(program.buffers.some((b) => / u$/.test(b.label))).toBe(false);
    expect(program.kernels.some((k) => k.name.startsWith('string'))).toBe(false);
  });

  it('normalises each tensor once (q, k and v share their RMSNorm; gate and up theirs)', () => {
    // A dispatch may run several kernels side by side (horizontal fusion names them 'a+b'): count the parts.
    const norms = dispatches.flatMap((s) => (s.op === 'dispatch' ? (program.kernels[s.kernel]?.name.split('+') ?? []) : [])).filter((n) => n.startsWith('rmsnorm'));
    // Two per layer, and the final norm before lm_head.
    expect(norms).toHaveLength(2 * spec.llm.numLayers + 1);
  });

  it('keeps bf16 weights in bf16 buffers (packed ones as u32 words of interleaved pairs)', () => {
    const g16 = buildLanguageModel(spec, { weightDtype: 'bf16' });
    const p16 = compile(g16, target, { T: 16, N_v: 32 });
    expect(p16.weights.some((w) => w.layout.kind === 'packed')).toBe(true);
    for (const w of p16.weights) {
      const b = p16.buffers[w.buffer];
      const pairs = w.layout.kind === 'packed' && w.layout.pairs === true;
      expect(`${w.name}: ${b?.elem}`).toBe(`${w.name}: ${pairs ? 'u32' : 'bf16'}`);
      // Two bytes per value either way (a packed weight padded to whole panels).
      const values = w.layout.kind === 'packed' ? Math.ceil(w.layout.n / w.layout.nr) * w.layout.k * w.layout.nr : (b?.elems ?? 0);
      expect((b?.elems ?? 0) * (pairs ? 4 : 2)).toBe(values * 2);
    }
  });

  it('matches the golden program and kernels', () => {
    golden('tiny-pmod.program.txt', `${programText(program)}\n`);
    const route = program.kernels.find((k) => k.name.startsWith('route_select'));
    expect(route).toBeDefined();
    if (route) golden('route-select.kernel.txt', `${kernelText(route)}\n`);
  });
});

describe('lowered decode step', () => {
  it('is one program for every cache length: the lengths are kernel params', () => {
    const dyn = decodeDynamicSymbols(spec.llm.numLayers);
    const caps = Object.fromEntries(Array.from({ length: spec.llm.numLayers }, (_, l) => [`C${l}`, 128]));
    const p = compile(buildDecodeStep(spec), target, { N: 1, ...caps }, { dynamic: dyn });
    expect(p.dynamic).toEqual(dyn);
    const lens = p.steps.flatMap((s) => (s.op === 'dispatch' ? Object.values(s.params).filter((d) => typeof d !== 'number') : []));
    // Per layer: the cache writes' offsets (k, v, positions) and attention's key count depend on L{l}.
    expect(lens.length).toBe(4 * spec.llm.numLayers);
    expect(programText(p)).toMatch(/kvLen=L0 \+ 1/);
  });
});
