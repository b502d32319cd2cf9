/**
 * Kernel IR -> PTX text. One kernel becomes one module with one `.entry`: buffers are `.u64` parameters
 * (global pointers, converted with cvta once), scalar params `.s32` / `.f32` parameters, workgroup arrays
 * `.shared` arrays, private arrays registers; loops and ifs become labels and predicated branches, barriers
 * `bar.sync 0`. Legalisation (legalize.ts) runs first, instruction selection is the tables of isel.ts.
 * Read-only buffers load through the non-coherent path (`ld.global.nc`), so a dispatch must not bind one buffer
 * both as a read-only and as a written argument (the PTX Target says so with `aliasedBindings: false`).
 */
import { elemBytes, type ElemType, isVector, type Kernel, type KNode, type KNodeOf, type KType, laneType, type MemRef, nodeKey, type ScalarType } from '../../kernel/ir.js';
import { checkKernel } from '../../kernel/verify.js';
import { alignmentOf, type AlignEnv, variableAlignments } from './align.js';
import { Asm, f32Imm, f64Imm, isImmediate, s32Imm, u32Imm } from './asm.js';
import { choosePtxTarget, type PtxTargetChoice } from './isa.js';
import { BINARY, bf16ToF32, compare, convert, type IselContext, movType, regClass, roundBf16Bits, UNARY } from './isel.js';
import { legalizeForPtx } from './legalize.js';

export interface PtxRenderOptions {
  /** .version / .target (default: choosePtxTarget() offline, ISA 7.8 for sm_80). */
  readonly target?: PtxTargetChoice;
  /** f32 exp / log / sin / cos / tanh through the hardware's .approx instructions. */
  readonly approx?: boolean;
}

/** One kernel parameter as the launcher must pass it. */
export interface PtxParam {
  readonly name: string;
  readonly kind: 'buffer' | 'i32' | 'f32';
  /** Byte size in the parameter buffer (8 for a device pointer, 4 for a scalar). */
  readonly bytes: 4 | 8;
}

export interface RenderedPtx {
  readonly kernel: string;
  /** The `.entry` name. */
  readonly entry: string;
  readonly ptx: string;
  readonly target: PtxTargetChoice;
  /** Buffers in declaration order, then scalar params. */
  readonly params: readonly PtxParam[];
  readonly threads: number;
  readonly sharedBytes: number;
  /** Legalisation rule -> nodes it rewrote. */
  readonly rewrites: Readonly<Record<string, number>>;
}

type Value = string | readonly string[];

const sanitize = (s: string): string => {
  const t = s.replace(/[^A-Za-z0-9_$]/g, '_');
  return /^[A-Za-z_$]/.test(t) ? t : `_${t}`;
};
const scalarOf = (t: KType): ScalarType => (isVector(t) ? laneType(t) : (t as ScalarType));
const SPECIAL = { gid: '%ctaid', lid: '%tid', ngroups: '%nctaid' } as const;
const AXES = ['x', 'y', 'z'];

class KernelRenderer {
  readonly asm: Asm;
  private readonly preamble: string[] = [];
  private readonly scopes: Map<string, Value>[] = [new Map()];
  /** Registers that hold variables, params or entry values: a declaration never adopts one of them. */
  private readonly pinned = new Set<string>();
  private readonly entryValues = new Map<string, string>();
  private readonly privateRegs = new Map<string, string[]>();
  private readonly align: AlignEnv;
  /** Expression results within one statement (every node is pure while a statement's expressions evaluate). */
  private memo = new Map<KNode, Value>();
  /** Address bases reused across statements of one straight-line region: key -> register and the variables read. */
  private readonly addrCache = new Map<string, { reg: string; reads: ReadonlySet<string> }>();
  readonly isel: IselContext;
  private where = '';

  constructor(private readonly k: Kernel, target: PtxTargetChoice, approx: boolean) {
    this.asm = new Asm(sanitize(k.name));
    this.align = variableAlignments(k);
    const self = this;
    this.isel = {
      asm: this.asm,
      features: target.features,
      approx,
      zero16: () => this.entryValue('zero16', 'b16', 'mov.b16', '0'),
      get where() {
        return `kernel '${self.k.name}' at ${self.where}`;
      },
    };
  }

  private entryValue(key: string, cls: Parameters<Asm['reg']>[0], op: string, src: string): string {
    let r = this.entryValues.get(key);
    if (r === undefined) {
      r = this.asm.reg(cls);
      this.preamble.push(`\t${op} ${r}, ${src};`);
      this.entryValues.set(key, r);
      this.pinned.add(r);
    }
    return r;
  }

  render(): { body: string[]; preamble: string[] } {
    const k = this.k;
    const entry = sanitize(k.name);
    k.buffers.forEach((b, i) => {
      const raw = this.asm.reg('b64');
      this.preamble.push(`\tld.param.u64 ${raw}, [${entry}_param_${i}];`);
      this.entryValue(`buf:${b.name}`, 'b64', 'cvta.to.global.u64', raw);
    });
    k.params.forEach((p, i) => {
      const idx = k.buffers.length + i;
      this.entryValue(`param:${p.name}`, p.type === 'f32' ? 'f32' : 'b32', p.type === 'f32' ? 'ld.param.f32' : 'ld.param.s32', `[${entry}_param_${idx}]`);
    });
    for (const p of k.privates) {
      const cls = p.elem === 'f32' ? 'f32' : 'b32';
      this.privateRegs.set(p.name, Array.from({ length: p.length }, (_, i) => this.entryValue(`priv:${p.name}:${i}`, cls, cls === 'f32' ? 'mov.f32' : 'mov.b32', cls === 'f32' ? f32Imm(0) : '0')));
    }
    this.stmt(k.body);
    return { body: [...this.asm.lines], preamble: this.preamble };
  }

  // ---- scopes and variables ----

  private lookup(name: string): Value {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const v = this.scopes[i]?.get(name);
      if (v !== undefined) return v;
    }
    throw new Error(`kernel '${this.k.name}': variable '${name}' is not in scope at ${this.where}`);
  }

  /** Registers of a new variable of type t, adopting `init`'s registers when they are temporaries. */
  private bind(name: string, t: KType, init: Value): Value {
    const lanes = typeof init === 'string' ? [init] : init;
    const cls = regClass(scalarOf(t));
    const regs = lanes.map((x) => {
      if (!isImmediate(x) && !this.pinned.has(x)) return x;
      const r = this.asm.reg(cls);
      this.asm.to(r, `mov.${movType(cls)}`, x);
      return r;
    });
    regs.forEach((r) => this.pinned.add(r));
    const v: Value = isVector(t) ? regs : (regs[0] as string);
    this.scopes[this.scopes.length - 1]?.set(name, v);
    this.invalidate(name);
    return v;
  }

  private invalidate(name: string): void {
    for (const [key, e] of this.addrCache) if (e.reads.has(name)) this.addrCache.delete(key);
  }

  /** A control-flow boundary: cached address bases no longer dominate what follows. */
  private boundary(): void {
    this.addrCache.clear();
  }

  // ---- statements ----

  private stmt(n: KNode): void {
    this.memo = new Map();
    this.where = n.op;
    const a = this.asm;
    switch (n.op) {
      case 'block':
        this.scopes.push(new Map());
        for (const s of n.src) this.stmt(s);
        this.scopes.pop();
        return;
      case 'decl':
        this.bind(n.arg, n.type, this.ex(n.src[0] as KNode));
        return;
      case 'assign': {
        const val = this.ex(n.src[0] as KNode);
        const dst = this.lookup(n.arg);
        const cls = regClass(scalarOf((n.src[0] as KNode).type));
        const ds = typeof dst === 'string' ? [dst] : dst;
        const vs = typeof val === 'string' ? [val] : val;
        ds.forEach((d, i) => {
          const s = vs[i] ?? vs[0] ?? '0';
          if (s !== d) a.to(d, `mov.${movType(cls)}`, s);
        });
        this.invalidate(n.arg);
        return;
      }
      case 'store':
        this.store(n);
        return;
      case 'range': {
        const [start, end, body] = n.src as [KNode, KNode, KNode];
        const s = this.ex(start) as string;
        let e = this.ex(end) as string;
        if (!isImmediate(e) && this.pinned.has(e)) e = a.t('mov.b32', 'b32', e); // the bound is evaluated once
        const i = a.reg('b32');
        a.to(i, 'mov.b32', s);
        const [head, exit] = [a.newLabel('loop'), a.newLabel('loop_end')];
        a.emit(`@${a.t('setp.ge.s32', 'pred', i, e)} bra ${exit}`);
        this.boundary();
        a.place(head);
        this.scopes.push(new Map());
        this.pinned.add(i);
        this.scopes[this.scopes.length - 1]?.set(n.arg.var, i);
        this.invalidate(n.arg.var);
        this.stmt(body);
        this.scopes.pop();
        this.where = 'range';
        a.to(i, 'add.s32', i, `${n.arg.step}`);
        a.emit(`@${a.t('setp.lt.s32', 'pred', i, e)} bra ${head}`);
        a.place(exit);
        this.boundary();
        return;
      }
      case 'if': {
        const [cond, then, els] = n.src as [KNode, KNode, KNode | undefined];
        const p = this.ex(cond) as string;
        const [elseL, endL] = [a.newLabel('else'), a.newLabel('endif')];
        a.emit(`@!${p} bra ${els ? elseL : endL}`);
        this.boundary();
        this.stmt(then);
        if (els) {
          a.emit(`bra ${endL}`);
          a.place(elseL);
          this.boundary();
          this.stmt(els);
        }
        a.place(endL);
        this.boundary();
        return;
      }
      case 'barrier':
        a.emit('bar.sync 0');
        return;
      default:
        throw new Error(`kernel '${this.k.name}': ${n.op} is not a statement`);
    }
  }

  // ---- expressions ----

  ex(n: KNode): Value {
    const hit = this.memo.get(n);
    if (hit !== undefined) return hit;
    const v = this.compute(n);
    this.memo.set(n, v);
    return v;
  }

  private lanes(n: KNode): readonly string[] {
    const v = this.ex(n);
    return typeof v === 'string' ? [v, v, v, v] : v;
  }

  /** Applies a scalar rule to each lane of vector operands (or once for scalars). */
  private laneWise(n: KNode, f: (...xs: string[]) => string): Value {
    if (!isVector(n.type)) return f(...n.src.map((s) => this.ex(s) as string));
    const srcs = n.src.map((s) => (isVector(s.type) ? this.lanes(s) : [this.ex(s) as string]));
    return [0, 1, 2, 3].map((i) => f(...srcs.map((l) => l[i] ?? l[0] ?? '0')));
  }

  private compute(n: KNode): Value {
    const a = this.asm;
    const t = scalarOf(n.type);
    switch (n.op) {
      case 'const':
        if (n.type === 'f32') return f32Imm(n.arg);
        if (n.type === 'f64') return f64Imm(n.arg);
        if (n.type === 'u32') return u32Imm(n.arg);
        if (n.type === 'bool') return a.t('setp.ne.s32', 'pred', n.arg ? '1' : '0', '0');
        return s32Imm(n.arg);
      case 'param':
        return this.entryValues.get(`param:${n.arg}`) ?? this.fail(`unknown param '${n.arg}'`);
      case 'gid':
      case 'lid':
      case 'ngroups': {
        if (n.op === 'lid' && n.arg > 0) return '0'; // workgroups are 1-D
        return this.entryValue(`${n.op}${n.arg}`, 'b32', 'mov.u32', `${SPECIAL[n.op]}.${AXES[n.arg] ?? 'x'}`);
      }
      case 'var':
        return this.lookup(n.arg);
      case 'load':
        return this.load(n);
      case 'unary':
        return this.laneWise(n, (x) => UNARY[n.arg](this.isel, t, x));
      case 'binary':
        return this.laneWise(n, (x, y) => BINARY[n.arg](this.isel, t, x, y));
      case 'cmp': {
        const st = scalarOf((n.src[0] as KNode).type);
        const [x, y] = n.src.map((s) => this.ex(s) as string) as [string, string];
        return compare(this.isel, n.arg, st, x, y);
      }
      case 'select': {
        const p = this.ex(n.src[0] as KNode) as string;
        const pick = (x: string, y: string): string => {
          if (t !== 'bool') return a.t(`selp.${t === 'i32' || t === 'u32' ? 'b32' : t}`, regClass(t), x, y, p);
          const np = a.t('not.pred', 'pred', p);
          return a.t('or.pred', 'pred', a.t('and.pred', 'pred', p, x), a.t('and.pred', 'pred', np, y));
        };
        if (!isVector(n.type)) return pick(this.ex(n.src[1] as KNode) as string, this.ex(n.src[2] as KNode) as string);
        const [xs, ys] = [this.lanes(n.src[1] as KNode), this.lanes(n.src[2] as KNode)];
        return [0, 1, 2, 3].map((i) => pick(xs[i] ?? '0', ys[i] ?? '0'));
      }
      case 'cast': {
        const from = scalarOf((n.src[0] as KNode).type);
        return convert(this.isel, from, t, this.ex(n.src[0] as KNode) as string);
      }
      case 'bitcast': {
        const from = scalarOf((n.src[0] as KNode).type);
        const toF = t === 'f32';
        if ((from === 'f32') === toF) return this.ex(n.src[0] as KNode); // i32 <-> u32 share registers
        return this.laneWise(n, (x) => a.t('mov.b32', toF ? 'f32' : 'b32', x));
      }
      case 'splat':
        return this.lanes(n.src[0] as KNode);
      case 'lane':
        return this.lanes(n.src[0] as KNode)[n.arg] ?? this.fail(`lane ${n.arg}`);
      case 'fma':
        if (t !== 'f32' && t !== 'f64') return this.fail(`fma on ${n.type}`);
        return this.laneWise(n, (x, y, z) => a.t(`fma.rn.${t}`, t, x, y, z));
      default:
        return this.fail(`${n.op} is not an expression`);
    }
  }

  private fail(msg: string): never {
    throw new Error(`kernel '${this.k.name}' at ${this.where}: ${msg}`);
  }

  // ---- memory ----

  private elemOf(ref: MemRef): ElemType {
    if (ref.space === 'global') return this.k.buffers.find((b) => b.name === ref.name)?.elem ?? this.fail(`no buffer '${ref.name}'`);
    const arr = (ref.space === 'shared' ? this.k.shared : this.k.privates).find((s) => s.name === ref.name);
    return arr?.elem ?? this.fail(`no ${ref.space} array '${ref.name}'`);
  }

  /** `[base+offset]` for element `index` (a non-negative constant addend folds into the offset). */
  private address(ref: MemRef, index: KNode, bytes: number): string {
    let base: KNode | undefined = index;
    let c = 0;
    if (index.op === 'const') {
      base = undefined;
      c = index.arg;
    } else if (index.op === 'binary' && index.arg === 'add' && index.src[1]?.op === 'const' && index.src[1].arg >= 0) {
      base = index.src[0] as KNode;
      c = index.src[1].arg;
    }
    const sym = ref.space === 'shared' ? `sh_${sanitize(ref.name)}` : undefined;
    if (base === undefined) {
      if (sym !== undefined) return `[${sym}+${c * bytes}]`;
      if (c >= 0) return `[${this.entryValues.get(`buf:${ref.name}`)}+${c * bytes}]`;
      base = index;
      c = 0;
    }
    const key = `${ref.space}:${ref.name}:${bytes}:${nodeKey(base)}`;
    let reg = this.addrCache.get(key)?.reg;
    if (reg === undefined) {
      const idx = this.ex(base) as string;
      const a = this.asm;
      if (sym !== undefined) reg = a.t('mad.lo.s32', 'b32', a.inReg(idx, 'b32', 'b32'), `${bytes}`, this.entryValue(`shared:${ref.name}`, 'b32', 'mov.u32', sym));
      else reg = a.t('add.s64', 'b64', this.entryValues.get(`buf:${ref.name}`) ?? this.fail(`no buffer '${ref.name}'`), a.t('mul.wide.s32', 'b64', a.inReg(idx, 'b32', 'b32'), `${bytes}`));
      this.addrCache.set(key, { reg, reads: varsRead(base) });
    }
    return c === 0 ? `[${reg}]` : `[${reg}+${c * bytes}]`;
  }

  private space(ref: MemRef): string {
    if (ref.space === 'shared') return 'shared';
    return this.k.buffers.find((b) => b.name === ref.name)?.access === 'read' ? 'global.nc' : 'global';
  }

  private load(n: KNodeOf<'load'>): Value {
    const a = this.asm;
    const idx = n.src[0] as KNode;
    const vec = isVector(n.type);
    if (n.arg.space === 'private') {
      const regs = this.privateRegs.get(n.arg.name) ?? this.fail(`no private '${n.arg.name}'`);
      const i = idx.op === 'const' ? idx.arg : this.fail(`private '${n.arg.name}' needs a constant index`);
      return vec ? regs.slice(i, i + 4) : (regs[i] ?? this.fail(`private index ${i}`));
    }
    const elem = this.elemOf(n.arg);
    const bytes = elemBytes(elem);
    const space = this.space(n.arg);
    const t = scalarOf(n.type);
    // The register class and the ld type of one element, and how it widens to the node's type.
    const [cls, ldType] = elem === 'f32' ? (['f32', 'f32'] as const) : elem === 'f16' || elem === 'bf16' ? (['b16', 'b16'] as const) : elem === 'u8' ? (['b32', 'u8'] as const) : (['b32', 'b32'] as const);
    const widen = (r: string): string => (elem === 'f16' ? a.t('cvt.f32.f16', 'f32', r) : elem === 'bf16' ? bf16ToF32(this.isel, r) : t === 'f32' && cls === 'b32' ? a.t('mov.b32', 'f32', r) : r);
    if (!vec) return widen(a.t(`ld.${space}.${ldType}`, cls, this.address(n.arg, idx, bytes)));
    if (alignmentOf(idx, this.align) % 4 === 0) {
      const regs = [0, 1, 2, 3].map(() => a.reg(cls));
      a.emit(`ld.${space}.v4.${ldType} {${regs.join(', ')}}, ${this.address(n.arg, idx, bytes)}`);
      return regs.map(widen);
    }
    return [0, 1, 2, 3].map((i) => widen(a.t(`ld.${space}.${ldType}`, cls, this.address(n.arg, addConst(idx, i), bytes))));
  }

  private store(n: KNodeOf<'store'>): void {
    const a = this.asm;
    const [idx, val] = n.src as [KNode, KNode];
    const vec = isVector(val.type);
    const vs = vec ? this.lanes(val) : [this.ex(val) as string];
    const vt = scalarOf(val.type);
    if (n.arg.space === 'private') {
      const regs = this.privateRegs.get(n.arg.name) ?? this.fail(`no private '${n.arg.name}'`);
      const i = idx.op === 'const' ? idx.arg : this.fail(`private '${n.arg.name}' needs a constant index`);
      vs.forEach((v, j) => a.to(regs[i + j] ?? this.fail(`private index ${i + j}`), `mov.${movType(regClass(vt))}`, v));
      return;
    }
    const elem = this.elemOf(n.arg);
    const bytes = elemBytes(elem);
    const stType = elem === 'f32' ? 'f32' : elem === 'f16' || elem === 'bf16' ? 'b16' : elem === 'u8' ? 'u8' : 'b32';
    const narrow = (v: string): string => {
      if (elem === 'f16') return a.t('cvt.rn.f16.f32', 'b16', a.inReg(v, 'f32', 'f32'));
      if (elem === 'bf16') return roundBf16Bits(this.isel, a.inReg(v, 'f32', 'f32'));
      const cls = regClass(vt);
      if (elem === 'f32' && cls === 'b32') return a.t('mov.b32', 'f32', v);
      if (elem !== 'f32' && cls === 'f32') return a.t('mov.b32', 'b32', v);
      return a.inReg(v, cls, movType(cls));
    };
    const regs = vs.map(narrow);
    const space = n.arg.space === 'shared' ? 'shared' : 'global';
    if (!vec) {
      a.emit(`st.${space}.${stType} ${this.address(n.arg, idx, bytes)}, ${regs[0]}`);
      return;
    }
    if (alignmentOf(idx, this.align) % 4 === 0) {
      a.emit(`st.${space}.v4.${stType} ${this.address(n.arg, idx, bytes)}, {${regs.join(', ')}}`);
      return;
    }
    regs.forEach((r, i) => a.emit(`st.${space}.${stType} ${this.address(n.arg, addConst(idx, i), bytes)}, ${r}`));
  }
}

/** index + i, keeping a constant addend in one constant (so it folds into the address offset). */
function addConst(index: KNode, i: number): KNode {
  if (i === 0) return index;
  if (index.op === 'const') return { ...index, arg: index.arg + i };
  if (index.op === 'binary' && index.arg === 'add' && index.src[1]?.op === 'const')
    return { ...index, src: [index.src[0] as KNode, { ...index.src[1], arg: index.src[1].arg + i }] };
  return { op: 'binary', type: 'i32', src: [index, { op: 'const', type: 'i32', src: [], arg: i }], arg: 'add' };
}

function varsRead(n: KNode, out = new Set<string>()): Set<string> {
  if (n.op === 'var') out.add(n.arg);
  n.src.forEach((s) => varsRead(s, out));
  return out;
}

/** Renders one kernel (verified, legalised) into a PTX module. */
export function renderPtx(k: Kernel, opts: PtxRenderOptions = {}): RenderedPtx {
  checkKernel(k);
  const target = opts.target ?? choosePtxTarget();
  const { kernel: legal, applied } = legalizeForPtx(k);
  const r = new KernelRenderer(legal, target, opts.approx ?? false);
  const { body, preamble } = r.render();
  const entry = sanitize(k.name);
  const params: PtxParam[] = [
    ...k.buffers.map((b) => ({ name: b.name, kind: 'buffer' as const, bytes: 8 as const })),
    ...k.params.map((p) => ({ name: p.name, kind: p.type, bytes: 4 as const })),
  ];
  const paramDecls = params.map((p, i) => `\t.param .${p.kind === 'buffer' ? 'u64' : p.kind === 'f32' ? 'f32' : 's32'} ${entry}_param_${i}`);
  const describe = [
    ...k.buffers.map((b, i) => `//   param ${i}: buffer '${b.name}' ${b.elem} ${b.access}`),
    ...k.params.map((p, i) => `//   param ${k.buffers.length + i}: ${p.type} '${p.name}'`),
  ];
  const shared = k.shared.map((s) => `\t.shared .align 16 .b8 sh_${sanitize(s.name)}[${4 * s.length}];`);
  const applied2 = Object.entries(applied).map(([name, count]) => `${name} x${count}`).join(', ');
  const text = [
    '//',
    `// Generated by modc from Kernel IR kernel '${k.name}' (${k.threads} threads per workgroup)`,
    ...describe,
    `// legalisation: ${applied2 || 'nothing to rewrite'}`,
    '//',
    '',
    `.version ${target.version}`,
    `.target ${target.target}`,
    '.address_size 64',
    '',
    `.visible .entry ${entry}(`,
    paramDecls.join(',\n'),
    ')',
    `.reqntid ${k.threads}, 1, 1`,
    '{',
    ...r.asm.declarations(),
    ...shared,
    '',
    ...preamble,
    ...body,
    '\tret;',
    '}',
    '',
  ].join('\n');
  return {
    kernel: k.name,
    entry,
    ptx: text,
    target,
    params,
    threads: k.threads,
    sharedBytes: k.shared.reduce((s, x) => s + 4 * x.length, 0),
    rewrites: applied,
  };
}
