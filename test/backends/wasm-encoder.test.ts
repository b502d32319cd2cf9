/**
 * The Wasm encoder against binaryen: every instruction the renderer can emit, built through the same
 * expression-builder calls on both, gives the same function body bytes; a module of each validates in V8.
 */
import binaryen from 'binaryen';
import { type Expr, f32, f64, i32, ModuleBuilder, v128, type ValType } from '../../src/backends/wasm/encoder.js';
import { relaxedSimdAvailable } from '../../src/backends/wasm/features.js';
import { WA } from '../../src/backends/wasm/wasm-api.js';

/** The builder surface both implementations share, over their own expression and type representations. */
// The encoder mirrors binaryen's builder: one case function runs on both through this loose view.
type Api = Record<string, Record<string, unknown>> & { local: { get(i: number, t: unknown): unknown; set(i: number, v: unknown): unknown } };
interface Types {
  i32: unknown;
  f32: unknown;
  f64: unknown;
  v128: unknown;
}
type Case = readonly [name: string, result: keyof Types | 'none', build: (m: Api, t: Types, p: (i: number) => unknown) => unknown];

/** Params of every case function: i32 i32 f32 f32 f64 f64 v128 v128 v128. */
const PARAMS: (keyof Types)[] = ['i32', 'i32', 'f32', 'f32', 'f64', 'f64', 'v128', 'v128', 'v128'];
const call = (m: Api, path: string, ...args: unknown[]): unknown => {
  const [ns = '', fn = '', sub] = path.split('.');
  const space = m[ns] as Record<string, unknown>;
  const f = (sub ? (space[fn] as Record<string, unknown>)[sub] : space[fn]) as (...a: unknown[]) => unknown;
  return f(...args);
};

const unary = (path: string, result: keyof Types, param: number): Case => [path, result, (m, _t, p) => call(m, path, p(param))];
const binaryOp = (path: string, result: keyof Types, a: number, b: number): Case => [path, result, (m, _t, p) => call(m, path, p(a), p(b))];

const CASES: Case[] = [
  ['i32.const', 'i32', (m) => call(m, 'i32.const', -123456789)],
  ['i32.const 0x7fffffff', 'i32', (m) => call(m, 'i32.const', 0x7fffffff)],
  // LEB128 boundaries of the signed immediate (one byte holds -64..63).
  ...[-65, -64, 63, 64, -2147483648].map((v): Case => [`i32.const ${v}`, 'i32', (m) => call(m, 'i32.const', v)]),
  ['f32.const', 'f32', (m) => call(m, 'f32.const', -1.5e-7)],
  ['f32.const -0', 'f32', (m) => call(m, 'f32.const', -0)],
  ['f32.const -inf', 'f32', (m) => call(m, 'f32.const', -Infinity)],
  ['f64.const', 'f64', (m) => call(m, 'f64.const', Math.PI)],
  ['f64.const -0', 'f64', (m) => call(m, 'f64.const', -0)],
  // A memarg offset that needs two and three LEB128 bytes.
  ['f32.load offset 127', 'f32', (m, _t, p) => call(m, 'f32.load', 127, 4, p(0))],
  ['v128.load offset 20000', 'v128', (m, _t, p) => call(m, 'v128.load', 20000, 4, p(0))],
  ...['eqz'].map((f) => unary(`i32.${f}`, 'i32', 0)),
  ...['eq', 'ne', 'lt_s', 'lt_u', 'gt_s', 'gt_u', 'le_s', 'le_u', 'ge_s', 'ge_u', 'add', 'sub', 'mul', 'div_s', 'div_u', 'rem_s', 'rem_u', 'and', 'or', 'xor', 'shl', 'shr_s', 'shr_u'].map((f) => binaryOp(`i32.${f}`, 'i32', 0, 1)),
  unary('i32.reinterpret', 'i32', 2),
  unary('i32.trunc_s_sat.f32', 'i32', 2),
  unary('i32.trunc_u_sat.f32', 'i32', 2),
  unary('i32.trunc_s_sat.f64', 'i32', 4),
  unary('i32.trunc_u_sat.f64', 'i32', 4),
  ...(['f32', 'f64'] as const).flatMap((t) => {
    const [a, b] = t === 'f32' ? [2, 3] : [4, 5];
    return [
      ...['abs', 'neg', 'floor', 'nearest', 'sqrt'].map((f) => unary(`${t}.${f}`, t, a)),
      ...['add', 'sub', 'mul', 'div', 'min', 'max'].map((f) => binaryOp(`${t}.${f}`, t, a, b)),
      ...['eq', 'ne', 'lt', 'gt', 'le', 'ge'].map((f) => binaryOp(`${t}.${f}`, 'i32', a, b)),
      unary(`${t}.convert_s.i32`, t, 0),
      unary(`${t}.convert_u.i32`, t, 0),
    ];
  }),
  unary('f32.reinterpret', 'f32', 0),
  unary('f32.demote', 'f32', 4),
  unary('f64.promote', 'f64', 2),
  ...(
    [
      ['i32.load', 'i32', 4],
      ['i32.load8_u', 'i32', 1],
      ['i32.load16_u', 'i32', 2],
      ['f32.load', 'f32', 4],
      ['f64.load', 'f64', 8],
      ['v128.load', 'v128', 4],
      ['v128.load8x8_u', 'v128', 1],
      ['v128.load16x4_u', 'v128', 2],
      ['v128.load32_splat', 'v128', 4],
    ] as const
  ).map(([path, t, align]): Case => [path, t, (m, _t, p) => call(m, path, 1000, align, p(0))]),
  ...(
    [
      ['i32.store', 0, 4],
      ['i32.store8', 0, 1],
      ['i32.store16', 0, 2],
      ['f32.store', 2, 4],
      ['f64.store', 4, 8],
      ['v128.store', 6, 4],
    ] as const
  ).map(([path, value, align]): Case => [path, 'none', (m, _t, p) => call(m, path, 64, align, p(1), p(value))]),
  unary('v128.not', 'v128', 6),
  ...['and', 'or', 'xor'].map((f) => binaryOp(`v128.${f}`, 'v128', 6, 7)),
  ['v128.bitselect', 'v128', (m, _t, p) => call(m, 'v128.bitselect', p(6), p(7), p(8))],
  ['i8x16.shuffle', 'v128', (m, _t, p) => call(m, 'i8x16.shuffle', p(6), p(7), [4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 20, 21, 22, 23])],
  unary('i32x4.splat', 'v128', 0),
  ['i32x4.extract_lane', 'i32', (m, _t, p) => call(m, 'i32x4.extract_lane', p(6), 3)],
  ...['abs', 'neg', 'extend_low_i16x8_u', 'trunc_sat_f32x4_s'].map((f) => unary(`i32x4.${f}`, 'v128', 6)),
  ...['gt_s', 'add', 'sub', 'mul', 'min_s', 'max_s'].map((f) => binaryOp(`i32x4.${f}`, 'v128', 6, 7)),
  ...['shl', 'shr_u'].map((f) => binaryOp(`i32x4.${f}`, 'v128', 6, 0)),
  unary('f32x4.splat', 'v128', 2),
  ['f32x4.extract_lane', 'f32', (m, _t, p) => call(m, 'f32x4.extract_lane', p(6), 2)],
  ['f32x4.replace_lane', 'v128', (m, _t, p) => call(m, 'f32x4.replace_lane', p(6), 1, p(2))],
  ...['floor', 'nearest', 'abs', 'neg', 'sqrt'].map((f) => unary(`f32x4.${f}`, 'v128', 6)),
  ...['lt', 'gt', 'ne', 'add', 'sub', 'mul', 'div', 'min', 'max', 'pmin', 'pmax'].map((f) => binaryOp(`f32x4.${f}`, 'v128', 6, 7)),
  ['select', 'f32', (m, _t, p) => (m as unknown as { select(c: unknown, a: unknown, b: unknown): unknown }).select(p(0), p(2), p(3))],
];

/** The body of the (only) function of a module: its code section entry after the size. */
function codeBody(bin: Uint8Array): Uint8Array {
  let at = 8;
  const leb = (): number => {
    let v = 0;
    let s = 0;
    for (;;) {
      const b = bin[at++] ?? 0;
      v |= (b & 0x7f) << s;
      s += 7;
      if (!(b & 0x80)) return v >>> 0;
    }
  };
  while (at < bin.length) {
    const id = bin[at++];
    const size = leb();
    const end = at + size;
    if (id === 10) {
      leb(); // one body
      const n = leb();
      return bin.subarray(at, at + n);
    }
    at = end;
  }
  throw new Error('no code section');
}

describe('wasm encoder', () => {
  const B = binaryen;
  const bt: Types = { i32: B.i32, f32: B.f32, f64: B.f64, v128: B.v128 };
  const et: Types = { i32, f32, f64, v128 };
  const resultType = (t: Types, r: keyof Types | 'none'): unknown => (r === 'none' ? undefined : t[r]);

  it.each(CASES.map((c) => [c[0], c] as const))('%s encodes as binaryen does', (_name, [, result, build]) => {
    // binaryen: the expression stored into local 9 (of the result's type), or the statement itself.
    const bm = new B.Module();
    try {
      bm.setFeatures(B.Features.All);
      bm.addMemoryImport('0', 'env', 'memory', true);
      const bp = (i: number): unknown => bm.local.get(i, bt[PARAMS[i] ?? 'i32'] as number);
      const bExpr = build(bm as unknown as Api, bt, bp) as number;
      const bBody = result === 'none' ? bExpr : bm.local.set(9, bExpr);
      bm.addFunction('run', B.createType(PARAMS.map((t) => bt[t] as number)), B.none, result === 'none' ? [B.i32] : [resultType(bt, result) as number], bBody);
      const mine = new ModuleBuilder();
      const ep = (i: number): Expr => mine.local.get(i, et[PARAMS[i] ?? 'i32'] as ValType);
      const eExpr = build(mine as unknown as Api, et, ep) as Expr;
      const eBody = result === 'none' ? eExpr : mine.local.set(9, eExpr);
      mine.setFunction('run', PARAMS.map((t) => et[t] as ValType), result === 'none' ? [i32] : [resultType(et, result) as ValType], eBody);
      const ours = mine.emit(65536);
      expect(Array.from(codeBody(ours))).toEqual(Array.from(codeBody(bm.emitBinary())));
      expect(WA.validate(ours)).toBe(true);
    } finally {
      bm.dispose();
    }
  });

  it('relaxed madd is 0xfd 0x105 and validates where relaxed SIMD is on', () => {
    const m = new ModuleBuilder();
    const p = (i: number): Expr => m.local.get(i, v128);
    m.setFunction('run', [v128, v128, v128], [v128], m.local.set(3, m.f32x4.relaxed_madd(p(0), p(1), p(2))));
    const bin = m.emit(65536);
    expect(Array.from(codeBody(bin)).slice(-6)).toEqual([0xfd, 0x85, 0x02, 0x21, 3, 0x0b]);
    if (relaxedSimdAvailable()) expect(WA.validate(bin)).toBe(true);
  });

  it('branches to labels by depth: a loop with br_if, if / else and br runs as written', () => {
    // run(n, _, _, out): for (i = 0, s = 0; i != n; i++) s += (i & 1) ? i : 100; mem[out] = s.
    const m = new ModuleBuilder();
    const g = (i: number): Expr => m.local.get(i, i32);
    const body = m.block(null, [
      m.br('done', m.i32.eq(g(4), g(0))),
      m.if(m.i32.and(g(4), m.i32.const(1)), m.local.set(5, m.i32.add(g(5), g(4))), m.local.set(5, m.i32.add(g(5), m.i32.const(100)))),
      m.local.set(4, m.i32.add(g(4), m.i32.const(1))),
      m.br('again'),
    ]);
    m.setFunction('run', [i32, i32, i32, i32], [i32, i32], m.block(null, [m.block('done', [m.loop('again', body)]), m.i32.store(0, 4, g(3), g(5))]));
    const memory = new (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => { buffer: SharedArrayBuffer } } }).WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    const run = new WA.Instance(new WA.Module(m.emit(65536)), { env: { memory } }).exports.run as (...a: number[]) => void;
    run(7, 0, 0, 16);
    expect(new Int32Array(memory.buffer)[4]).toBe(100 * 4 + (1 + 3 + 5));
  });

  it('names a branch to an unknown label', () => {
    const m = new ModuleBuilder();
    m.setFunction('run', [], [], m.block(null, [m.br('nowhere')]));
    expect(() => m.emit(1)).toThrow("branch to unknown label 'nowhere'");
  });
});
