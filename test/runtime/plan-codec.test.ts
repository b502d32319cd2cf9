/**
 * Plans as data: a compiled tiny p-MoD program survives JSON (every number, every dim, every kernel node), and a
 * damaged program or kernel is refused with an error naming the field, never accepted.
 */
import { buildDecodeStep, buildLanguageModel, decodeDynamicSymbols, TINY_PMOD } from '../../models/index.js';
import { wasmTarget } from '../../src/backends/wasm/target.js';
import type { Kernel } from '../../src/kernel/ir.js';
import type { KernelProgram } from '../../src/kernel/program.js';
import { compile } from '../../src/runtime/compile.js';
import { decodeKernel, decodeProgram, encodeKernel, encodeProgram } from '../../src/runtime/plan-codec.js';
import { Field, PlanFormatError, planParse, planStringify } from '../../src/runtime/plan-json.js';

const target = wasmTarget({ threads: 1 });
const caps = Object.fromEntries(Array.from({ length: TINY_PMOD.llm.numLayers }, (_, l) => [`C${l}`, 64]));
const prefill = compile(buildLanguageModel(TINY_PMOD, { kvState: true, exportRouting: true }), target, { T: 8, N_v: 16, ...caps });
const decode = compile(buildDecodeStep(TINY_PMOD), target, { N: 1, ...caps }, { dynamic: decodeDynamicSymbols(TINY_PMOD.llm.numLayers) });

/** The JSON a program becomes (kernels inline) and its reading back. */
function roundTrip(p: KernelProgram): { text: string; back: KernelProgram } {
  const table: Kernel[] = [];
  const data = encodeProgram(p, (k) => {
    const i = table.indexOf(k);
    return i >= 0 ? i : table.push(k) - 1;
  });
  const text = planStringify({ kernels: table.map(encodeKernel), program: data });
  const root = new Field(planParse(text, 'p.json'), 'p.json');
  const kernels = root.get('kernels').items().map((k) => decodeKernel(k));
  return { text, back: decodeProgram(root.get('program'), kernels) };
}

/** Parsed JSON of a program, to damage. */
function json(p: KernelProgram): { kernels: unknown[]; program: Record<string, unknown> } {
  return JSON.parse(roundTrip(p).text) as { kernels: unknown[]; program: Record<string, unknown> };
}

function decodeJson(j: { kernels: unknown[]; program: unknown }): KernelProgram {
  const root = new Field(j, 'p.json');
  return decodeProgram(root.get('program'), root.get('kernels').items().map((k) => decodeKernel(k)));
}

describe('program JSON', () => {
  it('gives back the same prefill and decode programs', () => {
    for (const p of [prefill, decode]) {
      const { back } = roundTrip(p);
      expect(back).toEqual(p);
    }
    // The decode program's cache lengths stay symbolic dims over its dynamic symbols.
    const symbolic = decode.steps.some((s) => s.op === 'dispatch' && Object.values(s.params).some((d) => typeof d !== 'number'));
    expect(symbolic).toBe(true);
    expect(roundTrip(decode).back.dynamic).toEqual(decodeDynamicSymbols(TINY_PMOD.llm.numLayers));
  });

  it('keeps the interleaved-pairs layout of packed bf16 weights', () => {
    const p16 = compile(buildLanguageModel(TINY_PMOD, { weightDtype: 'bf16' }), target, { T: 8, N_v: 16 });
    expect(p16.weights.some((w) => w.layout.kind === 'packed' && w.layout.pairs === true)).toBe(true);
    expect(roundTrip(p16).back).toEqual(p16);
  });

  it('keeps NaN, the infinities and -0, which JSON cannot hold', () => {
    const text = planStringify({ a: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1.5] });
    const f = new Field(planParse(text, 'x.json'), 'x.json').get('a').items().map((x) => x.num());
    expect(f[0]).toBeNaN();
    expect(f.slice(1, 3)).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect(Object.is(f[3], -0)).toBe(true);
    expect(Object.is(f[4], 0)).toBe(true);
    // A kernel constant of -Infinity (a max reduction's start) comes back as -Infinity.
    const k: Kernel = {
      name: 'neg_inf',
      buffers: [{ name: 'out', elem: 'f32', access: 'write' }],
      params: [],
      shared: [],
      privates: [],
      threads: 1,
      body: { op: 'store', type: 'void', arg: { space: 'global', name: 'out' }, src: [{ op: 'const', type: 'i32', arg: 0, src: [] }, { op: 'const', type: 'f32', arg: Number.NEGATIVE_INFINITY, src: [] }] },
    };
    const back = decodeKernel(new Field(planParse(planStringify(encodeKernel(k)), 'k.json'), 'k.json'));
    expect(back).toEqual(k);
  });
});

describe('damaged programs are refused, naming the field', () => {
  const expectError = (j: { kernels: unknown[]; program: unknown }, pattern: RegExp): void => {
    let err: unknown;
    try {
      decodeJson(j);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PlanFormatError);
    expect((err as Error).message).toMatch(pattern);
  };
  const firstDispatch = (j: { program: Record<string, unknown> }): Record<string, unknown> => {
    const steps = j.program.steps as Record<string, unknown>[];
    const s = steps.find((x) => x.op === 'dispatch');
    if (s === undefined) throw new Error('no dispatch');
    return s;
  };

  it('a kernel index out of range', () => {
    const j = json(prefill);
    firstDispatch(j).kernel = 999;
    expectError(j, /p\.json\.program\.steps\[\d+\]\.kernel: expected an integer in \[0, \d+\], found 999/);
  });

  it('a binding of a buffer of another storage type than the kernel declares', () => {
    const j = json(prefill);
    const s = firstDispatch(j);
    const buffers = s.buffers as Record<string, number>;
    const bufs = j.program.buffers as { elem: string }[];
    const name = Object.keys(buffers)[0] ?? '';
    const other = bufs.findIndex((b) => b.elem !== bufs[buffers[name] ?? 0]?.elem);
    buffers[name] = other;
    expectError(j, /declares '.*' as \w+, the bound buffer b\d+ holds \w+/);
  });

  it('a param over a symbol that is not dynamic', () => {
    const j = json(decode);
    const steps = j.program.steps as { op: string; params: Record<string, unknown> }[];
    const s = steps.find((x) => x.op === 'dispatch' && Object.values(x.params).some((d) => typeof d === 'object'));
    const key = Object.keys(s?.params ?? {}).find((k) => typeof s?.params[k] === 'object') ?? '';
    if (s) s.params[key] = { k: 'sym', name: 'T' };
    expectError(j, /symbol 'T' is not a dynamic symbol of the program/);
  });

  it('an unknown op deep in a kernel body, with the path to it', () => {
    const j = json(prefill);
    const body = (j.kernels[0] as { body: unknown[] }).body;
    let n: unknown[] = body;
    while (Array.isArray(n[3])) n = n[3] as unknown[];
    n[0] = 'launch_missiles';
    expectError(j, /p\.json\.kernels\[0\]\.body(\[\d+\])+: unknown op "launch_missiles"/);
  });

  it('a kernel that no longer verifies (a load of an undeclared buffer)', () => {
    const j = json(prefill);
    const k = j.kernels[0] as { buffers: { name: string }[] };
    k.buffers = k.buffers.map((b, i) => (i === 0 ? { ...b, name: 'renamed' } : b));
    expectError(j, /kernel '.*' does not verify/);
  });
});
