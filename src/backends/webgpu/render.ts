/**
 * Kernel IR -> WGSL. The kernel is verified, checked against the target's limits and legalised by the named
 * rules of legalize.ts; the printer is then a one-to-one table per node kind. Buffers of 16- and 8-bit types are
 * packed u32 words (atomic words when written, see storage.ts); scalar params live in one uniform struct with the
 * logical grid. Every WGSL line of the body records the Kernel IR statement it came from, so a WGSL compiler
 * message can name the node.
 */
import { exprText } from '../../kernel/print.js';
import { type BufferDecl, isVector, type Kernel, type KNode, type KNodeOf, type KOp, type KType, type MemRef } from '../../kernel/ir.js';
import type { Target } from '../../kernel/target.js';
import { checkKernel, KernelError } from '../../kernel/verify.js';
import { vec4Buffers } from './alignment.js';
import { type HelperName, helperCode } from './helpers.js';
import { gidVar, legalizeForWgsl, ngroupsParam, UNIFORM_SLOTS, WgslError } from './legalize.js';
import { bufferStorage, type BufferStorage, storageAccessors } from './storage.js';
import { webgpuKernelProblems } from './target.js';

export interface WgslBinding {
  /** The kernel's own buffer name (before any renaming). */
  readonly name: string;
  readonly decl: BufferDecl;
  readonly storage: BufferStorage;
}

export interface RenderedWgsl {
  readonly name: string;
  readonly code: string;
  /** Storage bindings 0..n-1 in the kernel's buffer order; the params uniform is binding n. */
  readonly bindings: readonly WgslBinding[];
  /** Byte offset of each scalar param (kernel order) in the uniform struct; the logical grid comes first. */
  readonly paramOffsets: readonly number[];
  readonly uniformBytes: number;
  readonly threads: number;
  /** For WGSL line i + 1: the Kernel IR statement it renders ('node /range/store: c[i] = x'), if any. */
  readonly lineNodes: readonly (string | undefined)[];
  /** Rule name -> nodes the legalisation rules rewrote. */
  readonly applied: Readonly<Record<string, number>>;
}

/**
 * Bytes of the uniform struct's fixed fields: the logical grid (workgroups per axis, their product), the bits
 * of NaN, +inf and -inf (WGSL constant expressions cannot hold them) and a zero (for `opaque`); params follow.
 */
export const GRID_FIELDS_BYTES = 32;
/** The words at byte 16 of the uniform struct: NaN, +inf, -inf, 0. */
export const SPECIAL_WORDS = [0x7fc00000, 0x7f800000, 0xff800000, 0] as const;

const AXES = ['x', 'y', 'z'];
export const wgslType = (t: KType): string => {
  switch (t) {
    case 'f32x4':
      return 'vec4<f32>';
    case 'i32x4':
      return 'vec4<i32>';
    case 'f32':
    case 'i32':
    case 'u32':
    case 'bool':
      return t;
    default:
      throw new WgslError(`type ${t} has no WGSL form`);
  }
};

/** A constant as a WGSL literal of its exact type (NaN and infinities by their bits; no abstract numbers). */
export function wgslConst(x: number, t: KType): string {
  switch (t) {
    case 'bool':
      return x ? 'true' : 'false';
    case 'u32':
      return `${x >>> 0}u`;
    case 'i32': {
      const v = x | 0;
      if (v === -2147483648) return 'i32(-2147483648)';
      return v < 0 ? `(${v}i)` : `${v}i`;
    }
    case 'f32': {
      const v = Math.fround(x);
      // WGSL constant expressions cannot hold NaN or infinities: their bits come from the params uniform.
      if (Number.isNaN(v)) return 'bitcast<f32>(mdc_p.mdc_nan)';
      if (!Number.isFinite(v)) return v > 0 ? 'bitcast<f32>(mdc_p.mdc_inf)' : 'bitcast<f32>(mdc_p.mdc_ninf)';
      if (Object.is(v, -0)) return '(-0.0f)';
      return v < 0 ? `(${String(v)}f)` : `${String(v)}f`;
    }
    default:
      throw new WgslError(`constant of type ${t} has no WGSL form`);
  }
}

class Printer {
  readonly lines: string[] = [];
  readonly lineNodes: (string | undefined)[] = [];
  readonly helpers = new Set<HelperName>();
  readonly accessorsUsed = new Set<string>();
  private ends = 0;

  constructor(readonly k: Kernel, readonly storage: ReadonlyMap<string, BufferStorage>) {}

  emit(indent: string, text: string, node?: string): void {
    this.lines.push(indent + text);
    this.lineNodes.push(node);
  }

  helper(h: HelperName): string {
    this.helpers.add(h);
    return h;
  }

  accessor(name: string): string {
    this.accessorsUsed.add(name);
    return name;
  }

  expr(n: KNode): string {
    const rule = EXPR[n.op] as (n: KNode, p: Printer) => string;
    return rule(n, this);
  }

  arrayElem(ref: MemRef): string {
    if (ref.space === 'global') {
      const s = this.storage.get(ref.name);
      if (s === undefined) throw new WgslError(`kernel '${this.k.name}': unknown buffer '${ref.name}'`);
      return s.elem;
    }
    const arr = (ref.space === 'shared' ? this.k.shared : this.k.privates).find((a) => a.name === ref.name);
    if (arr === undefined) throw new WgslError(`kernel '${this.k.name}': unknown ${ref.space} array '${ref.name}'`);
    return arr.elem;
  }

  load(n: KNodeOf<'load'>): string {
    const idx = this.expr(n.src[0] as KNode);
    const ref = n.arg;
    if (ref.space === 'shared' && ref.name === UNIFORM_SLOTS) return `workgroupUniformLoad(&${ref.name}[${idx}])`;
    const elem = this.arrayElem(ref);
    const vec = isVector(n.type);
    if (ref.space === 'global') {
      const s = this.storage.get(ref.name) as BufferStorage;
      if (s.kind !== 'word' || vec) {
        const call = `${this.accessor(`${vec ? 'mdc_ld4_' : 'mdc_ld_'}${ref.name}`)}(${idx})`;
        // Packed u8 accessors return u32; a kernel may read them as i32.
        return s.elem === 'u8' && n.type === 'i32' ? `bitcast<i32>(${call})` : call;
      }
      return elem === n.type ? `${ref.name}[${idx}]` : `bitcast<${wgslType(n.type)}>(${ref.name}[${idx}])`;
    }
    if (vec) {
      if (ref.space === 'shared') return `${this.accessor(`mdc_ld4_${ref.name}`)}(${idx})`;
      const c = (n.src[0] as KNodeOf<'const'>).arg;
      return `${wgslType(n.type)}(${[0, 1, 2, 3].map((i) => `${ref.name}[${c + i}]`).join(', ')})`;
    }
    return elem === n.type ? `${ref.name}[${idx}]` : `bitcast<${wgslType(n.type)}>(${ref.name}[${idx}])`;
  }

  store(n: KNodeOf<'store'>, indent: string, where: string): void {
    const [i, val] = n.src as [KNode, KNode];
    const idx = this.expr(i);
    const value = this.expr(val);
    const ref = n.arg;
    const vec = isVector(val.type);
    const elem = this.arrayElem(ref);
    if (ref.space === 'global') {
      const s = this.storage.get(ref.name) as BufferStorage;
      if (s.kind !== 'word' || vec) {
        // Packed u8 accessors take u32; a kernel may store i32 values.
        const v = s.kind === 'packed8' && val.type === 'i32' ? `bitcast<u32>(${value})` : value;
        return this.emit(indent, `${this.accessor(`${vec ? 'mdc_st4_' : 'mdc_st_'}${ref.name}`)}(${idx}, ${v});`, where);
      }
    } else if (vec) {
      if (ref.space === 'shared') return this.emit(indent, `${this.accessor(`mdc_st4_${ref.name}`)}(${idx}, ${value});`, where);
      const c = (i as KNodeOf<'const'>).arg;
      const lanes = [0, 1, 2, 3].map((l) => `${ref.name}[${c + l}] = mdc_t[${l}];`).join(' ');
      return this.emit(indent, `{ let mdc_t = ${value}; ${lanes} }`, where);
    }
    const v = elem === val.type ? value : `bitcast<${elem}>(${value})`;
    this.emit(indent, `${ref.name}[${idx}] = ${v};`, where);
  }

  stmt(n: KNode, indent: string, path: string): void {
    const where = `${path}/${n.op}`;
    const node = `node ${where}: ${describe(n)}`;
    switch (n.op) {
      case 'block':
        this.emit(indent, '{', node);
        n.src.forEach((s, i) => this.stmt(s, `${indent}  `, `${where}[${i}]`));
        this.emit(indent, '}');
        return;
      case 'decl':
        this.emit(indent, `var ${n.arg}: ${wgslType(n.type)} = ${this.expr(n.src[0] as KNode)};`, node);
        return;
      case 'assign':
        this.emit(indent, `${n.arg} = ${this.expr(n.src[0] as KNode)};`, node);
        return;
      case 'store':
        this.store(n, indent, node);
        return;
      case 'range': {
        const [s, e, body] = n.src as [KNode, KNode, KNode];
        // The bound is evaluated once (Kernel IR semantics), into a let that stays uniform when it is.
        const end = `mdc_end${this.ends++}`;
        this.emit(indent, `{ let ${end} = ${this.expr(e)};`, node);
        this.emit(indent, `for (var ${n.arg.var}: i32 = ${this.expr(s)}; ${n.arg.var} < ${end}; ${n.arg.var} += ${n.arg.step}i) {`, node);
        this.body(body, `${indent}  `, where);
        this.emit(indent, '} }');
        return;
      }
      case 'if': {
        const [c, t, f] = n.src as [KNode, KNode, KNode | undefined];
        this.emit(indent, `if (${this.expr(c)}) {`, node);
        this.body(t, `${indent}  `, `${where}.then`);
        if (f !== undefined) {
          this.emit(indent, '} else {');
          this.body(f, `${indent}  `, `${where}.else`);
        }
        this.emit(indent, '}');
        return;
      }
      case 'barrier':
        this.emit(indent, 'workgroupBarrier();', node);
        return;
      default:
        throw new WgslError(`kernel '${this.k.name}': ${where} is an expression used as a statement`);
    }
  }

  body(n: KNode, indent: string, path: string): void {
    if (n.op === 'block') n.src.forEach((s, i) => this.stmt(s, indent, `${path}/block[${i}]`));
    else this.stmt(n, indent, path);
  }
}

/** One line of Kernel IR for a statement (its head only for compound ones). */
function describe(n: KNode): string {
  const e = (i: number): string => (n.src[i] ? exprText(n.src[i] as KNode) : '?');
  switch (n.op) {
    case 'decl':
      return `let ${n.arg}: ${n.type} = ${e(0)}`;
    case 'assign':
      return `${n.arg} = ${e(0)}`;
    case 'store':
      return `${n.arg.space === 'global' ? '' : `${n.arg.space}.`}${n.arg.name}[${e(0)}] = ${e(1)}`;
    case 'range':
      return `for ${n.arg.var} in [${e(0)}, ${e(1)})`;
    case 'if':
      return `if ${e(0)}`;
    default:
      return n.op;
  }
}

type Rule<O extends KOp> = (n: KNodeOf<O>, p: Printer) => string;
const src = (n: KNode, i: number, p: Printer): string => p.expr(n.src[i] as KNode);
const INFIX: Readonly<Record<string, string>> = {
  add: '+', sub: '-', mul: '*', div: '/', rem: '%', and: '&', or: '|', xor: '^',
  lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=',
};

function unary(n: KNodeOf<'unary'>, p: Printer): string {
  const x = src(n, 0, p);
  const v4 = n.type === 'f32x4';
  const one = v4 ? 'vec4<f32>(1.0f)' : '1.0f';
  switch (n.arg) {
    case 'neg':
      return `(-${x})`;
    case 'not':
      return n.type === 'bool' ? `(!${x})` : `(~${x})`;
    case 'recip':
      return `(${one} / ${x})`;
    case 'abs':
    case 'floor':
      return `${n.arg}(${x})`;
    case 'sqrt':
    case 'exp':
    case 'log':
    case 'sin':
    case 'cos':
      return `${p.helper(`mdc_${n.arg}${v4 ? '4' : ''}`)}(${x})`;
    case 'tanh':
      return `${p.helper(v4 ? 'mdc_tanh4' : 'mdc_tanh')}(${x})`;
    case 'erf':
      return `${p.helper(v4 ? 'mdc_erf4' : 'mdc_erf')}(${x})`;
    case 'round_f16':
      return `${p.helper(v4 ? 'mdc_round_f16_4' : 'mdc_round_f16')}(${x})`;
    case 'round_bf16':
      return `${p.helper(v4 ? 'mdc_round_bf16_4' : 'mdc_round_bf16')}(${x})`;
    case 'opaque':
      // x ^ 0 with the 0 read from the params uniform: no compiler can prove it is the identity, so it cannot
      // fold through it ((a + b) - a stays as written in compensated sums).
      return opaque(n.type, x);
  }
}

function opaque(t: KType, x: string): string {
  switch (t) {
    case 'f32':
      return `bitcast<f32>(bitcast<u32>(${x}) ^ mdc_p.mdc_zero)`;
    case 'f32x4':
      return `bitcast<vec4<f32>>(bitcast<vec4<u32>>(${x}) ^ vec4<u32>(mdc_p.mdc_zero))`;
    case 'i32':
      return `(${x} ^ bitcast<i32>(mdc_p.mdc_zero))`;
    case 'i32x4':
      return `(${x} ^ vec4<i32>(bitcast<i32>(mdc_p.mdc_zero)))`;
    case 'u32':
      return `(${x} ^ mdc_p.mdc_zero)`;
    case 'bool':
      return `(${x} != (mdc_p.mdc_zero != 0u))`;
    default:
      throw new WgslError(`opaque on ${t}`);
  }
}

function binary(n: KNodeOf<'binary'>, p: Printer): string {
  const [a, b] = [src(n, 0, p), src(n, 1, p)];
  switch (n.arg) {
    case 'min':
    case 'max':
      return `${n.arg}(${a}, ${b})`;
    case 'shl':
    case 'shr':
      // WGSL shift amounts are u32 (shift-amount-mod-32 already took them modulo 32).
      return `(${a} ${n.arg === 'shl' ? '<<' : '>>'} ${n.src[1]?.type === 'u32' ? b : `u32(${b})`})`;
    case 'pow':
      if (n.type === 'f32') return `${p.helper('mdc_pow')}(${a}, ${b})`;
      if (n.type === 'f32x4') return `${p.helper('mdc_pow4')}(${a}, ${b})`;
      return `${n.type}(${p.helper('mdc_pow')}(f32(${a}), f32(${b})))`;
    default:
      return `(${a} ${INFIX[n.arg]} ${b})`;
  }
}

/** One rule per node kind: a new Kernel IR op fails tsc here until WGSL prints it. */
const EXPR: { readonly [O in KOp]: Rule<O> } = {
  const: (n) => wgslConst(n.arg, n.type),
  param: (n) => `mdc_p.${n.arg}`,
  gid: () => {
    throw new WgslError('gid must be legalised by fold-grid');
  },
  ngroups: () => {
    throw new WgslError('ngroups must be legalised by fold-grid');
  },
  lid: (n) => (n.arg === 0 ? 'mdc_lid' : '0i'),
  var: (n) => n.arg,
  load: (n, p) => p.load(n),
  unary,
  binary,
  cmp: (n, p) => `(${src(n, 0, p)} ${INFIX[n.arg]} ${src(n, 1, p)})`,
  select: (n, p) => `select(${src(n, 2, p)}, ${src(n, 1, p)}, ${src(n, 0, p)})`,
  cast: (n, p) => `${wgslType(n.type)}(${src(n, 0, p)})`,
  bitcast: (n, p) => `bitcast<${wgslType(n.type)}>(${src(n, 0, p)})`,
  splat: (n, p) => `${wgslType(n.type)}(${src(n, 0, p)})`,
  lane: (n, p) => `(${src(n, 0, p)})[${n.arg}]`,
  fma: (n, p) => `fma(${src(n, 0, p)}, ${src(n, 1, p)}, ${src(n, 2, p)})`,
  block: statementAsValue,
  decl: statementAsValue,
  assign: statementAsValue,
  store: statementAsValue,
  range: statementAsValue,
  if: statementAsValue,
  barrier: statementAsValue,
};
function statementAsValue(n: KNode): string {
  throw new WgslError(`a ${n.op} statement used as a value`);
}

/** Renders a kernel for a WebGPU target: WGSL text, its binding layout and its source map. */
export function renderWgsl(kernel: Kernel, target: Target): RenderedWgsl {
  try {
    checkKernel(kernel);
  } catch (e) {
    if (e instanceof KernelError) throw new WgslError(`webgpu: ${e.message}`);
    throw e;
  }
  const problems = webgpuKernelProblems(kernel, target);
  if (problems.length) throw new WgslError(`webgpu: ${problems.join('; ')}`);
  const { kernel: k, applied } = legalizeForWgsl(kernel, target.caps);
  const vec4 = vec4Buffers(k);
  const storage = new Map(k.buffers.map((b) => [b.name, bufferStorage(b, target.caps, vec4.has(b.name))]));
  const p = new Printer(k, storage);
  const indent = '  ';
  p.emit('', `@compute @workgroup_size(${k.threads})`);
  p.emit('', 'fn mdc_main(@builtin(workgroup_id) mdc_wid: vec3<u32>, @builtin(num_workgroups) mdc_nwg: vec3<u32>, @builtin(local_invocation_index) mdc_lidx: u32) {');
  p.emit(indent, 'let mdc_lid = i32(mdc_lidx);');
  // A grid folded into 2-D / 3-D at dispatch: the linear workgroup index, the logical id from the logical
  // grid; workgroups past the logical grid return at once (uniformly: the whole workgroup shares the index).
  p.emit(indent, 'let mdc_linear = mdc_wid.x + mdc_nwg.x * (mdc_wid.y + mdc_nwg.y * mdc_wid.z);');
  p.emit(indent, 'if (mdc_linear >= u32(mdc_p.mdc_total)) { return; }');
  p.emit(indent, `let mdc_nx = u32(mdc_p.${ngroupsParam(0)});`);
  p.emit(indent, `let mdc_nxy = mdc_nx * u32(mdc_p.${ngroupsParam(1)});`);
  p.emit(indent, `let ${gidVar(0)} = i32(mdc_linear % mdc_nx);`);
  p.emit(indent, `let ${gidVar(1)} = i32((mdc_linear % mdc_nxy) / mdc_nx);`);
  p.emit(indent, `let ${gidVar(2)} = i32(mdc_linear / mdc_nxy);`);
  for (const a of k.privates) p.emit(indent, `var ${a.name}: array<${a.elem}, ${a.length}>;`);
  p.body(k.body, indent, '');
  p.emit('', '}');

  const head: string[] = [];
  const native16 = [...storage.values()].some((s) => s.kind === 'native16');
  if (native16) head.push('enable f16;');
  head.push('struct MdcParams {');
  head.push(`  ${AXES.map((a) => `mdc_ngroups_${a}: i32`).join(', ')}, mdc_total: i32,`);
  head.push('  mdc_nan: u32, mdc_inf: u32, mdc_ninf: u32, mdc_zero: u32,');
  for (const prm of k.params) head.push(`  ${prm.name}: ${prm.type},`);
  head.push('}');
  k.buffers.forEach((b, i) => {
    const s = storage.get(b.name) as BufferStorage;
    head.push(`@group(0) @binding(${i}) var<storage, ${b.access === 'read' ? 'read' : 'read_write'}> ${b.name}: ${s.wgslArray};`);
  });
  head.push(`@group(0) @binding(${k.buffers.length}) var<uniform> mdc_p: MdcParams;`);
  for (const s of k.shared) head.push(`var<workgroup> ${s.name}: array<${s.elem}, ${s.length}>;`);
  const acc = storageAccessors(k, storage, p.accessorsUsed, (h) => p.helper(h));
  const pre = [...head, ...helperCode(p.helpers), ...acc].join('\n').split('\n');
  const paramOffsets = k.params.map((_, i) => GRID_FIELDS_BYTES + 4 * i);
  return {
    name: kernel.name,
    code: [...pre, ...p.lines].join('\n') + '\n',
    bindings: kernel.buffers.map((b, i) => ({ name: b.name, decl: b, storage: storage.get(k.buffers[i]?.name ?? b.name) as BufferStorage })),
    paramOffsets,
    uniformBytes: Math.ceil((GRID_FIELDS_BYTES + 4 * k.params.length) / 16) * 16,
    threads: k.threads,
    lineNodes: [...pre.map(() => undefined), ...p.lineNodes],
    applied,
  };
}
