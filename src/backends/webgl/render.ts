/**
 * Kernel IR in gather form (src/kernel/builders/gather/form.ts) -> the source of a gpu.js kernel: a JavaScript
 * function of the read buffers, the output's previous contents and the scalar params that returns the output
 * element of invocation `this.thread.x`. Every operation is a call of a typed helper (./helpers.ts), so the one
 * source means the same in gpu.js's webgl2 mode (GLSL) and its cpu mode (JavaScript). A store sets the result;
 * an invocation that stores nothing returns the output's previous element.
 *
 * Integers travel as float texel values (exact up to 2^24; the device refuses larger ones): a load of an i32 /
 * u32 buffer converts the texel to an integer, a store converts back. Refused (naming the kernel and the node):
 * kernels not in gather form, f64, 4-lane vectors, 16-bit or byte buffers, grids beyond the x axis.
 */
import type { BufferDecl, Kernel, KNode, KType } from '../../kernel/ir.js';
import { gatherOutput } from '../../kernel/builders/gather/form.js';
import { helperType } from './helpers.js';

/** One argument of the rendered function, in order. */
export type KernelArg =
  | { readonly kind: 'buffer'; readonly name: string }
  | { readonly kind: 'old' }
  | { readonly kind: 'param'; readonly name: string; readonly type: 'i32' | 'f32' }
  /** The workgroup count of the dispatch (ngroups.x), when the kernel reads it. */
  | { readonly kind: 'ngroups' }
  /** A runtime 1.0 (the `opaque` fence and the sin / cos reduction multiply by it). */
  | { readonly kind: 'one' };

export interface RenderedKernel {
  readonly name: string;
  /** `function (a0, a1, ...) { ... }` for gpu.js's createKernel. */
  readonly source: string;
  readonly args: readonly KernelArg[];
  readonly argNames: readonly string[];
  readonly output: BufferDecl;
  /** The output's previous contents are an argument (an invocation may store nothing, or it reads them). */
  readonly readsOld: boolean;
  readonly helpers: ReadonlySet<string>;
  readonly threads: number;
  /** The kernel's buffer and param declarations (dispatch binds them in this order). */
  readonly buffers: readonly BufferDecl[];
  readonly params: readonly string[];
}

export class WebGlRenderError extends Error {
  override name = 'WebGlRenderError';
}

const ident = (prefix: string, name: string): string => `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;

/** A float constant as gpu.js prints it exactly (decimal when short and plain, else its bits). */
function floatLiteral(x: number, call: (h: string, ...a: string[]) => string, intConst: (v: number) => string): string {
  if (!Number.isFinite(x) || Object.is(x, -0) || String(Math.abs(x)).includes('e')) {
    const bits = new Int32Array(new Float32Array([x]).buffer)[0] ?? 0;
    return call('mdc_fbits', intConst(bits));
  }
  return x < 0 ? call('mdc_fneg', call('mdc_fc', String(-x))) : call('mdc_fc', String(x));
}

const containsLoad = (n: KNode): boolean => n.op === 'load' || n.src.some(containsLoad);

export function renderGpuJs(k: Kernel): RenderedKernel {
  const where = (n: KNode): string => `kernel '${k.name}': ${n.op}${n.arg !== undefined && typeof n.arg !== 'object' ? ` ${String(n.arg)}` : ''}`;
  let output: BufferDecl;
  try {
    output = gatherOutput(k);
  } catch (e) {
    throw new WebGlRenderError(`webgl: ${(e as Error).message} (the WebGL backend runs gather schedules only)`);
  }
  for (const b of k.buffers)
    if (b.elem !== 'f32' && b.elem !== 'i32' && b.elem !== 'u32') throw new WebGlRenderError(`webgl: kernel '${k.name}': buffer '${b.name}' is ${b.elem}; WebGL textures hold f32 / i32 / u32 here (lowering widens 16-bit weights)`);
  const helpers = new Set<string>();
  const call = (h: string, ...a: string[]): string => {
    helpers.add(h);
    return `${h}(${a.join(', ')})`;
  };
  const intConst = (v0: number): string => {
    const v = v0 | 0;
    if (v >= 0 && v < 1 << 24) return call('mdc_ic', String(v));
    if (v < 0 && v > -(1 << 24)) return call('mdc_ineg', call('mdc_ic', String(-v)));
    return call('mdc_icat', String(v >>> 16), String(v & 0xffff));
  };
  const T = k.threads;
  const usesNgroups = { value: false };
  const usesOne = { value: false };
  const one = (): string => {
    usesOne.value = true;
    return 'mdc_one';
  };
  const pre: string[] = [];
  let temps = 0;
  const reads = new Set(k.buffers.filter((b) => b !== output).map((b) => b.name));
  let readsOld = false;

  const kindOf = (t: KType, n: KNode): 'f' | 'i' | 'u' | 'b' => {
    if (t === 'f32') return 'f';
    if (t === 'i32') return 'i';
    if (t === 'u32') return 'u';
    if (t === 'bool') return 'b';
    throw new WebGlRenderError(`webgl: ${where(n)} has type ${t}, which WebGL kernels do not have (f64 and vectors are refused)`);
  };
  const UNARY: Record<string, Partial<Record<'f' | 'i' | 'u' | 'b', string>>> = {
    neg: { f: 'mdc_fneg', i: 'mdc_ineg', u: 'mdc_ineg' }, abs: { f: 'mdc_fabs', i: 'mdc_iabs', u: 'mdc_ic' }, sqrt: { f: 'mdc_fsqrt' }, recip: { f: 'mdc_frecip' },
    exp: { f: 'mdc_fexp' }, log: { f: 'mdc_flog' }, tanh: { f: 'mdc_ftanh' }, erf: { f: 'mdc_ferf' }, floor: { f: 'mdc_ffloor', i: 'mdc_ic', u: 'mdc_ic' },
    not: { b: 'mdc_bnot', i: 'mdc_inot', u: 'mdc_inot' }, round_f16: { f: 'mdc_round_f16' }, round_bf16: { f: 'mdc_round_bf16' },
  };
  const BINARY: Record<string, Partial<Record<'f' | 'i' | 'u' | 'b', string>>> = {
    add: { f: 'mdc_fadd', i: 'mdc_iadd', u: 'mdc_iadd' }, sub: { f: 'mdc_fsub', i: 'mdc_isub', u: 'mdc_isub' }, mul: { f: 'mdc_fmul', i: 'mdc_imul', u: 'mdc_imul' },
    div: { f: 'mdc_fdiv', i: 'mdc_idiv', u: 'mdc_udiv' }, rem: { f: 'mdc_frem', i: 'mdc_irem', u: 'mdc_urem' }, max: { f: 'mdc_fmax', i: 'mdc_imax', u: 'mdc_umax', b: 'mdc_bor' },
    min: { f: 'mdc_fmin', i: 'mdc_imin', u: 'mdc_umin', b: 'mdc_band' }, pow: { f: 'mdc_fpow' }, and: { i: 'mdc_iand', u: 'mdc_iand', b: 'mdc_band' },
    or: { i: 'mdc_ior', u: 'mdc_ior', b: 'mdc_bor' }, xor: { i: 'mdc_ixor', u: 'mdc_ixor', b: 'mdc_bxor' }, shl: { i: 'mdc_ishl', u: 'mdc_ishl' }, shr: { i: 'mdc_ishr', u: 'mdc_ushr' },
  };
  const CMP: Record<string, Partial<Record<'f' | 'i' | 'u' | 'b', string>>> = {
    lt: { f: 'mdc_flt', i: 'mdc_ilt', u: 'mdc_ult' }, le: { f: 'mdc_fle', i: 'mdc_ile', u: 'mdc_ule' }, gt: { f: 'mdc_fgt', i: 'mdc_igt', u: 'mdc_ugt' },
    ge: { f: 'mdc_fge', i: 'mdc_ige', u: 'mdc_uge' }, eq: { f: 'mdc_feq', i: 'mdc_ieq', u: 'mdc_ieq', b: 'mdc_beq' }, ne: { f: 'mdc_fne', i: 'mdc_ine', u: 'mdc_ine', b: 'mdc_bne' },
  };
  const pick = (table: Record<string, Partial<Record<'f' | 'i' | 'u' | 'b', string>>>, fn: string, kind: 'f' | 'i' | 'u' | 'b', n: KNode): string => {
    const h = table[fn]?.[kind];
    if (h === undefined) throw new WebGlRenderError(`webgl: ${where(n)} on ${kind === 'f' ? 'f32' : kind === 'b' ? 'bool' : kind === 'i' ? 'i32' : 'u32'} has no WebGL form`);
    return h;
  };

  const expr = (n: KNode): string => {
    switch (n.op) {
      case 'const': {
        const kind = kindOf(n.type, n);
        if (kind === 'f') return floatLiteral(n.arg, call, intConst);
        if (kind === 'b') return call(n.arg !== 0 ? 'mdc_ieq' : 'mdc_ine', intConst(0), intConst(0));
        return intConst(n.arg);
      }
      case 'param': {
        const p = k.params.find((q) => q.name === n.arg);
        if (p === undefined) throw new WebGlRenderError(`webgl: ${where(n)}: no such param`);
        return p.type === 'i32' ? call('mdc_param_i', ident('p', p.name)) : ident('p', p.name);
      }
      case 'gid':
        if (n.arg !== 0) throw new WebGlRenderError(`webgl: ${where(n)}: WebGL grids are one-dimensional`);
        return T === 1 ? 'this.thread.x' : call('mdc_idiv', 'this.thread.x', intConst(T));
      case 'lid':
        if (n.arg !== 0) throw new WebGlRenderError(`webgl: ${where(n)}: workgroups are one-dimensional`);
        return T === 1 ? intConst(0) : call('mdc_irem', 'this.thread.x', intConst(T));
      case 'ngroups':
        if (n.arg !== 0) return intConst(1);
        usesNgroups.value = true;
        return call('mdc_param_i', 'mdc_ngroups');
      case 'var':
        return ident('v', n.arg);
      case 'load': {
        if (n.arg.space !== 'global') throw new WebGlRenderError(`webgl: ${where(n)}: ${n.arg.space} memory`);
        const decl = k.buffers.find((b) => b.name === n.arg.name);
        if (decl === undefined) throw new WebGlRenderError(`webgl: ${where(n)}: no buffer '${n.arg.name}'`);
        const index = n.src[0] as KNode;
        let idx = expr(index);
        // gpu.js mistranslates a texture read inside another read's index: the inner index goes to a temporary.
        if (containsLoad(index)) {
          const t = `mdc_i${temps++}`;
          pre.push(`let ${t} = ${idx};`);
          idx = t;
        }
        let texel: string;
        if (decl === output) {
          readsOld = true;
          texel = `mdc_old[${idx}]`;
        } else texel = `${ident('b', decl.name)}[${idx}]`;
        const kind = kindOf(n.type, n);
        return kind === 'f' ? texel : call('mdc_ld_i', texel);
      }
      case 'unary': {
        const kind = kindOf(n.type, n);
        const x = expr(n.src[0] as KNode);
        if (n.arg === 'opaque') return kind === 'f' ? call('mdc_fopaque', x, one()) : x;
        if (n.arg === 'sin' || n.arg === 'cos') {
          if (kind !== 'f') throw new WebGlRenderError(`webgl: ${where(n)} on a non-float`);
          return call('mdc_fsincos', x, one(), intConst(n.arg === 'sin' ? 0 : 1));
        }
        if (n.arg === 'abs' && kind === 'u') return x;
        if (n.arg === 'floor' && kind !== 'f') return x;
        return call(pick(UNARY, n.arg, kind, n), x);
      }
      case 'binary': {
        const kind = kindOf((n.src[0] as KNode).type, n);
        return call(pick(BINARY, n.arg, kind, n), expr(n.src[0] as KNode), expr(n.src[1] as KNode));
      }
      case 'cmp': {
        const kind = kindOf((n.src[0] as KNode).type, n);
        return call(pick(CMP, n.arg, kind, n), expr(n.src[0] as KNode), expr(n.src[1] as KNode));
      }
      case 'select': {
        const kind = kindOf(n.type, n);
        return call(kind === 'f' ? 'mdc_self' : kind === 'b' ? 'mdc_selb' : 'mdc_seli', expr(n.src[0] as KNode), expr(n.src[1] as KNode), expr(n.src[2] as KNode));
      }
      case 'cast': {
        const x = n.src[0] as KNode;
        const [from, to] = [kindOf(x.type, n), kindOf(n.type, n)];
        const e = expr(x);
        if (from === to || (from !== 'f' && from !== 'b' && to !== 'f' && to !== 'b')) return e;
        const table: Record<string, string> = { if: 'mdc_cast_if', uf: 'mdc_cast_uf', fi: 'mdc_cast_fi', fu: 'mdc_cast_fu', bi: 'mdc_cast_bi', bu: 'mdc_cast_bi', bf: 'mdc_cast_bf', ib: 'mdc_cast_ib', ub: 'mdc_cast_ib', fb: 'mdc_cast_fb' };
        const h = table[`${from}${to}`];
        if (h === undefined) throw new WebGlRenderError(`webgl: ${where(n)} from ${x.type} to ${n.type}`);
        return call(h, e);
      }
      case 'bitcast': {
        const x = n.src[0] as KNode;
        const [from, to] = [kindOf(x.type, n), kindOf(n.type, n)];
        const e = expr(x);
        if (from === to || (from !== 'f' && to !== 'f')) return e;
        return call(from === 'f' ? 'mdc_bitsf' : 'mdc_fbits', e);
      }
      case 'fma': {
        kindOf(n.type, n);
        // May round twice (the numerics policy).
        return call('mdc_fadd', call('mdc_fmul', expr(n.src[0] as KNode), expr(n.src[1] as KNode)), expr(n.src[2] as KNode));
      }
      default:
        throw new WebGlRenderError(`webgl: ${where(n)} is not an expression WebGL kernels have`);
    }
  };

  const storeValue = (value: KNode): string => {
    const kind = kindOf(value.type, value);
    const e = expr(value);
    if (kind === 'b') return call('mdc_st_b', e);
    if (output.elem === 'f32') return kind === 'f' ? e : call('mdc_cast_if', e);
    if (kind === 'f') throw new WebGlRenderError(`webgl: kernel '${k.name}': an f32 value stored into ${output.elem} buffer '${output.name}'`);
    return call(output.elem === 'u32' ? 'mdc_st_u' : 'mdc_st_i', e);
  };

  // The result stays the previous element unless a store at the top level of the body always runs.
  const top = k.body.op === 'block' ? k.body.src : [k.body];
  const unconditional = top.some((s) => s.op === 'store');
  /** The statement's hoisted temporaries, then its line(s). */
  const withPre = (pad: string, lines: string[]): string[] => [...pre.splice(0).map((l) => `${pad}${l}`), ...lines];
  const stmt = (n: KNode, depth: number): string[] => {
    const pad = '  '.repeat(depth);
    switch (n.op) {
      case 'block':
        return n.src.flatMap((s) => stmt(s, depth));
      case 'decl': {
        const e = expr(n.src[0] as KNode);
        return withPre(pad, [`${pad}let ${ident('v', n.arg)} = ${e};`]);
      }
      case 'assign': {
        const e = expr(n.src[0] as KNode);
        return withPre(pad, [`${pad}${ident('v', n.arg)} = ${e};`]);
      }
      case 'store': {
        const e = storeValue(n.src[1] as KNode);
        return withPre(pad, [`${pad}mdc_res = ${e};`]);
      }
      case 'range': {
        const v = ident('v', n.arg.var);
        const [start, end, body] = n.src as [KNode, KNode, KNode];
        if (n.arg.step <= 0) throw new WebGlRenderError(`webgl: ${where(n)}: a loop step of ${n.arg.step}`);
        if (containsLoad(end)) throw new WebGlRenderError(`webgl: ${where(n)}: a loop bound read from a buffer (bind it to a variable first)`);
        // A literal start makes gpu.js emit GLSL's own loop (an int counter); otherwise it wraps the loop in a
        // LOOP_MAX-bounded one with the test inside.
        const literal = start.op === 'const' && start.arg >= 0 && start.arg < 1 << 24;
        const head = literal
          ? `${pad}for (let ${v} = ${start.arg}; ${v} < ${expr(end)}; ${v} ${n.arg.step === 1 ? '++' : `+= ${n.arg.step}`}) {`
          : `${pad}for (let ${v} = ${expr(start)}; ${call('mdc_ilt', v, expr(end))}; ${v} = ${call('mdc_iadd', v, intConst(n.arg.step))}) {`;
        return [...withPre(pad, [head]), ...stmt(body, depth + 1), `${pad}}`];
      }
      case 'if': {
        const [c, then, otherwise] = n.src as [KNode, KNode, KNode | undefined];
        const head = `${pad}if (${expr(c)}) {`;
        return [...withPre(pad, [head]), ...stmt(then, depth + 1), ...(otherwise ? [`${pad}} else {`, ...stmt(otherwise, depth + 1)] : []), `${pad}}`];
      }
      default:
        throw new WebGlRenderError(`webgl: ${where(n)} is not a statement WebGL kernels have`);
    }
  };
  const body = stmt(k.body, 1);
  if (!unconditional) readsOld = true;
  const init = unconditional ? floatLiteral(0, call, intConst) : 'mdc_old[this.thread.x]';
  const args: KernelArg[] = [
    ...k.buffers.filter((b) => reads.has(b.name)).map((b) => ({ kind: 'buffer' as const, name: b.name })),
    ...(readsOld ? [{ kind: 'old' as const }] : []),
    ...k.params.map((p) => ({ kind: 'param' as const, name: p.name, type: p.type })),
    ...(usesNgroups.value ? [{ kind: 'ngroups' as const }] : []),
    ...(usesOne.value ? [{ kind: 'one' as const }] : []),
  ];
  const argNames = args.map((a) => (a.kind === 'buffer' ? ident('b', a.name) : a.kind === 'old' ? 'mdc_old' : a.kind === 'param' ? ident('p', a.name) : a.kind === 'ngroups' ? 'mdc_ngroups' : 'mdc_one'));
  // gpu.js infers a variable's type from its initialiser: the result is a float from its first assignment on.
  const source = [`function (${argNames.join(', ')}) {`, `  let mdc_res = ${init};`, ...body, '  return mdc_res;', '}'].join('\n');
  for (const h of helpers) helperType(h);
  return { name: k.name, source, args, argNames, output, readsOld, helpers, threads: T, buffers: k.buffers, params: k.params.map((p) => p.name) };
}
