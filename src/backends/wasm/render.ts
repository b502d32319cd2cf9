/**
 * Kernel IR -> WebAssembly (SIMD128), encoded directly (encoder.ts). A kernel becomes one exported function
 * `run(args, wgStart, wgEnd, scratch)` that executes workgroups [wgStart, wgEnd) of the grid one after another;
 * a workgroup of several threads becomes a loop over its threads, split at barriers into phases (variables that
 * live across a barrier move to per-thread scratch memory). Buffer base pointers, the grid size and scalar
 * params come from the argument block at `args`; shared arrays live in the calling worker's scratch area.
 */
import { type Expr, f32, f64, i32, ModuleBuilder, none, v128, type ValType } from './encoder.js';
import {
  type ArrayDecl,
  elemBytes,
  type ElemType,
  isVector,
  type Kernel,
  type KNode,
  type KNodeOf,
  type KOp,
  type KType,
  type MemRef,
} from '../../kernel/ir.js';
import { checkKernel } from '../../kernel/verify.js';
import { type KernelRenderer, limitProblems } from '../../kernel/renderer.js';
import { MATH_IMPORTS, type MathImport } from './math.js';
import { argBlockLayout, WASM_LIMITS } from './abi.js';
import { binaryRule, castRule, cmpRule, unaryRule } from './render-ops.js';
import { loadNarrow, storeNarrow, storeNarrowVector } from './storage.js';


/** Device limits the lowering respects, and code generation choices. */
export interface WasmRendererOptions {
  /** f32x4.relaxed_madd for fma (needs the runtime's relaxed-SIMD support); else mul then add. */
  readonly relaxedFma: boolean;
}

// The limits and the argument block are what the renderer and every device agree on (abi.ts, binaryen-free).
export { argBlockLayout, WASM_LIMITS } from './abi.js';

const wasmType = (t: KType): ValType =>
  t === 'f32' ? f32 : t === 'f64' ? f64 : t === 'f32x4' || t === 'i32x4' ? v128 : t === 'void' ? none : i32;

function containsBarrier(n: KNode): boolean {
  return n.op === 'barrier' || (n.op !== 'if' && n.src.some((s) => STMT.has(s.op) && containsBarrier(s)));
}
const STMT = new Set<KOp>(['block', 'decl', 'assign', 'store', 'range', 'if', 'barrier']);

interface VarSlot {
  readonly type: KType;
  /** A Wasm local, or a per-thread scratch slot (byte offset of lane 0 of thread 0). */
  readonly local?: number;
  readonly spill?: number;
}

class FunctionRenderer {
  private readonly locals: ValType[] = [];
  private readonly scopes: Map<string, VarSlot>[] = [new Map()];
  private readonly bufLocal = new Map<string, number>();
  private readonly paramLocal = new Map<string, number>();
  private readonly privateLocals = new Map<string, number[]>();
  private readonly sharedOffset = new Map<string, number>();
  private readonly gidLocal: number[] = [];
  private readonly ngLocal: number[] = [];
  private lidLocal = -1;
  private scratchLocal = 2;
  private spillTop = 0;
  private labels = 0;
  private readonly spilling: boolean;
  readonly usedImports = new Set<MathImport>();

  constructor(private readonly m: ModuleBuilder, private readonly k: Kernel, private readonly opts: WasmRendererOptions) {
    // Params: 0 args, 1 wgStart, 2 wgEnd, 3 scratch.
    this.scratchLocal = 3;
    this.spilling = k.threads > 1 && containsBarrier(k.body);
  }

  private newLocal(t: ValType): number {
    this.locals.push(t);
    return 4 + this.locals.length - 1;
  }

  render(): { body: Expr; vars: ValType[] } {
    const m = this.m;
    const k = this.k;
    const args = (off: number): Expr => m.i32.load(off, 4, m.local.get(0, i32));
    const setup: Expr[] = [];
    for (let a = 0; a < 3; a++) {
      const l = this.newLocal(i32);
      this.ngLocal.push(l);
      setup.push(m.local.set(l, args(4 * a)));
      this.gidLocal.push(this.newLocal(i32));
    }
    const layout = argBlockLayout(k);
    k.buffers.forEach((b, i) => {
      const l = this.newLocal(i32);
      this.bufLocal.set(b.name, l);
      setup.push(m.local.set(l, args(layout.bufferOffset(i))));
    });
    k.params.forEach((p, i) => {
      const l = this.newLocal(wasmType(p.type));
      this.paramLocal.set(p.name, l);
      setup.push(m.local.set(l, p.type === 'f32' ? m.f32.load(layout.paramOffset(i), 4, m.local.get(0, i32)) : args(layout.paramOffset(i))));
    });
    let off = 0;
    for (const s of k.shared) {
      this.sharedOffset.set(s.name, off);
      off += s.length * 4;
    }
    this.spillTop = off;
    for (const p of k.privates) this.allocPrivate(p);
    this.lidLocal = this.newLocal(i32);

    // Workgroup loop: wg in [wgStart, wgEnd), decomposed into gid.x, gid.y, gid.z.
    const wg = this.newLocal(i32);
    const [gx, gy, gz] = this.gidLocal as [number, number, number];
    const [nx, ny] = this.ngLocal as [number, number];
    const get = (l: number): Expr => m.local.get(l, i32);
    const decompose = [
      m.local.set(gx, m.i32.rem_u(get(wg), get(nx))),
      m.local.set(gy, m.i32.rem_u(m.i32.div_u(get(wg), get(nx)), get(ny))),
      m.local.set(gz, m.i32.div_u(get(wg), m.i32.mul(get(nx), get(ny)))),
    ];
    const body = k.threads === 1 ? [m.local.set(this.lidLocal, m.i32.const(0)), this.stmt(k.body)] : this.threaded(k.body);
    const loop = this.countedLoop(wg, m.local.get(1, i32), m.local.get(2, i32), 1, [...decompose, ...body]);
    if (this.spillTop > WASM_LIMITS.scratchBytes)
      throw new Error(`kernel '${k.name}': needs ${this.spillTop} bytes of shared/spill scratch, the wasm limit is ${WASM_LIMITS.scratchBytes}`);
    return { body: m.block(null, [...setup, loop]), vars: this.locals };
  }

  private allocPrivate(p: ArrayDecl): void {
    const t = p.elem === 'f32' ? f32 : i32;
    if (this.spilling) {
      // Private arrays of a barrier kernel live in scratch: one copy per thread.
      this.privateLocals.set(p.name, [-1 - this.spillTop]);
      this.spillTop += p.length * 4 * this.k.threads;
      return;
    }
    this.privateLocals.set(p.name, Array.from({ length: p.length }, () => this.newLocal(t)));
  }

  private countedLoop(counter: number, start: Expr, end: Expr, step: number, body: readonly Expr[]): Expr {
    const m = this.m;
    const id = this.labels++;
    const [brk, cont] = [`b${id}`, `l${id}`];
    const get = (): Expr => m.local.get(counter, i32);
    return m.block(brk, [
      m.local.set(counter, start),
      m.loop(
        cont,
        m.block(null, [
          m.br(brk, m.i32.ge_s(get(), end)),
          ...body,
          m.local.set(counter, m.i32.add(get(), m.i32.const(step))),
          m.br(cont),
        ]),
      ),
    ]);
  }

  /** Renders a statement of a multi-thread workgroup: barrier-free parts run inside a loop over threads. */
  private threaded(n: KNode): Expr[] {
    const m = this.m;
    if (!containsBarrier(n)) {
      // Children of a phase render in the enclosing scope: their (spilled) declarations outlive the phase.
      const body = n.op === 'block' ? n.src.map((s) => this.stmt(s)) : [this.stmt(n)];
      return [this.countedLoop(this.lidLocal, m.i32.const(0), m.i32.const(this.k.threads), 1, body)];
    }
    if (n.op === 'barrier') return []; // phases are already sequential: every thread finished the previous one
    if (n.op === 'block') {
      this.scopes.push(new Map());
      const out: Expr[] = [];
      let run: KNode[] = [];
      const flush = (): void => {
        if (run.length) out.push(...this.threaded({ op: 'block', type: 'void', src: run, arg: undefined }));
        run = [];
      };
      for (const s of n.src) {
        if (containsBarrier(s)) {
          flush();
          out.push(...this.threaded(s));
        } else run.push(s);
      }
      flush();
      this.scopes.pop();
      return out;
    }
    if (n.op === 'range') {
      // A uniform loop containing barriers: the loop runs once per workgroup, its body phase by phase.
      const [start, end, body] = n.src as [KNode, KNode, KNode];
      const counter = this.newLocal(i32);
      const s = this.expr(start);
      const e = this.expr(end);
      this.scopes.push(new Map([[n.arg.var, { type: 'i32', local: counter }]]));
      const inner = this.threaded(body);
      this.scopes.pop();
      return [this.countedLoop(counter, s, e, n.arg.step, inner)];
    }
    throw new Error(`kernel '${this.k.name}': barrier under ${n.op} cannot be split into phases`);
  }

  private lookup(name: string): VarSlot {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const s = this.scopes[i]?.get(name);
      if (s) return s;
    }
    throw new Error(`kernel '${this.k.name}': variable '${name}' not in scope`);
  }

  private spillAddr(slot: VarSlot): Expr {
    const m = this.m;
    const width = isVector(slot.type) ? 16 : slot.type === 'f64' ? 8 : 4;
    return m.i32.add(m.local.get(this.scratchLocal, i32), m.i32.add(m.i32.const(slot.spill ?? 0), m.i32.mul(m.local.get(this.lidLocal, i32), m.i32.const(width))));
  }

  private readVar(slot: VarSlot): Expr {
    if (slot.local !== undefined) return this.m.local.get(slot.local, wasmType(slot.type));
    return this.loadTyped(slot.type, this.spillAddr(slot), 0);
  }

  private writeVar(slot: VarSlot, value: Expr): Expr {
    if (slot.local !== undefined) return this.m.local.set(slot.local, value);
    return this.storeTyped(slot.type, this.spillAddr(slot), 0, value);
  }

  private loadTyped(t: KType, ptr: Expr, offset: number): Expr {
    const m = this.m;
    switch (t) {
      case 'f32':
        return m.f32.load(offset, 4, ptr);
      case 'f64':
        return m.f64.load(offset, 8, ptr);
      case 'f32x4':
      case 'i32x4':
        return m.v128.load(offset, 4, ptr);
      default:
        return m.i32.load(offset, 4, ptr);
    }
  }

  private storeTyped(t: KType, ptr: Expr, offset: number, value: Expr): Expr {
    const m = this.m;
    switch (t) {
      case 'f32':
        return m.f32.store(offset, 4, ptr, value);
      case 'f64':
        return m.f64.store(offset, 8, ptr, value);
      case 'f32x4':
      case 'i32x4':
        return m.v128.store(offset, 4, ptr, value);
      default:
        return m.i32.store(offset, 4, ptr, value);
    }
  }

  /** Storage type of a buffer (shared and private arrays hold 4-byte types). */
  private elemOf(ref: MemRef): ElemType {
    if (ref.space !== 'global') return 'f32';
    return this.k.buffers.find((b) => b.name === ref.name)?.elem ?? 'f32';
  }

  /** Address of element `index` of a memory ref; a constant addend of the index folds into the memarg offset. */
  private address(ref: MemRef, index: KNode): { ptr: Expr; offset: number } {
    const m = this.m;
    const bytes = elemBytes(this.elemOf(ref));
    const shift = bytes === 4 ? 2 : bytes === 2 ? 1 : 0;
    let base = index;
    let c = 0;
    if (index.op === 'binary' && index.arg === 'add' && index.src[1]?.op === 'const' && (index.src[1].arg as number) >= 0) {
      base = index.src[0] as KNode;
      c = index.src[1].arg as number;
    } else if (index.op === 'const' && index.arg >= 0) {
      c = index.arg;
      base = { op: 'const', type: 'i32', src: [], arg: 0 };
    }
    const scaled = base.op === 'const' && base.arg === 0 ? m.i32.const(0) : shift === 0 ? this.expr(base) : m.i32.shl(this.expr(base), m.i32.const(shift));
    if (ref.space === 'global') {
      const l = this.bufLocal.get(ref.name);
      if (l === undefined) throw new Error(`kernel '${this.k.name}': unknown buffer '${ref.name}'`);
      return { ptr: m.i32.add(m.local.get(l, i32), scaled), offset: c * bytes };
    }
    if (ref.space === 'shared') {
      const off = this.sharedOffset.get(ref.name) ?? 0;
      return { ptr: m.i32.add(m.local.get(this.scratchLocal, i32), scaled), offset: off + c * 4 };
    }
    // Spilled private array (multi-thread barrier kernel): per-thread copy in scratch.
    const slot = this.privateLocals.get(ref.name)?.[0] ?? 0;
    const arrLen = this.k.privates.find((p) => p.name === ref.name)?.length ?? 0;
    const threadBase = m.i32.add(m.local.get(this.scratchLocal, i32), m.i32.mul(m.local.get(this.lidLocal, i32), m.i32.const(arrLen * 4)));
    return { ptr: m.i32.add(threadBase, scaled), offset: -1 - slot + c * 4 };
  }

  private privateAccess(ref: MemRef, index: KNode): number[] | undefined {
    if (ref.space !== 'private' || this.spilling) return undefined;
    const ls = this.privateLocals.get(ref.name);
    if (ls === undefined || index.op !== 'const') throw new Error(`kernel '${this.k.name}': private '${ref.name}' needs a constant index`);
    return ls.slice(index.arg as number);
  }

  stmt(n: KNode): Expr {
    const m = this.m;
    switch (n.op) {
      case 'block': {
        this.scopes.push(new Map());
        const out = n.src.map((s) => this.stmt(s));
        this.scopes.pop();
        return out.length === 1 ? (out[0] as Expr) : m.block(null, out);
      }
      case 'decl': {
        const init = this.expr(n.src[0] as KNode);
        let slot: VarSlot;
        if (this.spilling) {
          const width = isVector(n.type) ? 16 : n.type === 'f64' ? 8 : 4;
          slot = { type: n.type, spill: this.spillTop };
          this.spillTop += width * this.k.threads;
        } else slot = { type: n.type, local: this.newLocal(wasmType(n.type)) };
        this.scopes[this.scopes.length - 1]?.set(n.arg, slot);
        return this.writeVar(slot, init);
      }
      case 'assign':
        return this.writeVar(this.lookup(n.arg), this.expr(n.src[0] as KNode));
      case 'store': {
        const [idx, val] = n.src as [KNode, KNode];
        const locals = this.privateAccess(n.arg, idx);
        if (locals) {
          if (isVector(val.type)) {
            const v = this.newLocal(v128);
            const lanes = [0, 1, 2, 3].map((i) =>
              m.local.set(locals[i] ?? 0, val.type === 'f32x4' ? m.f32x4.extract_lane(m.local.get(v, v128), i) : m.i32x4.extract_lane(m.local.get(v, v128), i)),
            );
            return m.block(null, [m.local.set(v, this.expr(val)), ...lanes]);
          }
          return m.local.set(locals[0] ?? 0, this.expr(val));
        }
        const { ptr, offset } = this.address(n.arg, idx);
        const elem = this.elemOf(n.arg);
        if (elemBytes(elem) < 4)
          return isVector(val.type) ? storeNarrowVector(this, elem, val.type, ptr, offset, this.expr(val)) : storeNarrow(this, elem, ptr, offset, this.expr(val));
        return this.storeTyped(val.type, ptr, offset, this.expr(val));
      }
      case 'range': {
        const [start, end, body] = n.src as [KNode, KNode, KNode];
        const counter = this.newLocal(i32);
        const s = this.expr(start);
        const e = this.expr(end);
        // Hoist the bound into a local so it is evaluated once.
        const endLocal = this.newLocal(i32);
        this.scopes.push(new Map([[n.arg.var, { type: 'i32', local: counter }]]));
        const inner = this.stmt(body);
        this.scopes.pop();
        return m.block(null, [m.local.set(endLocal, e), this.countedLoop(counter, s, m.local.get(endLocal, i32), n.arg.step, [inner])]);
      }
      case 'if': {
        const [c, t, e] = n.src;
        return m.if(this.expr(c as KNode), this.stmt(t as KNode), e ? this.stmt(e) : undefined);
      }
      case 'barrier':
        // Only reachable in a one-thread workgroup: nothing to wait for.
        return m.nop();
      default:
        throw new Error(`kernel '${this.k.name}': ${n.op} is not a statement`);
    }
  }

  expr(n: KNode): Expr {
    const rule = EXPR_RULES[n.op] as (n: KNode, r: FunctionRenderer) => Expr;
    return rule(n, this);
  }

  // ---- accessors for the rule table ----
  get mod(): ModuleBuilder {
    return this.m;
  }
  get fmaMode(): boolean {
    return this.opts.relaxedFma;
  }
  specialLocal(op: 'gid' | 'lid' | 'ngroups', axis: number): Expr {
    const l = op === 'gid' ? this.gidLocal[axis] : op === 'ngroups' ? this.ngLocal[axis] : axis === 0 ? this.lidLocal : undefined;
    if (l === undefined) return this.m.i32.const(0);
    return this.m.local.get(l, i32);
  }
  paramGet(name: string, t: KType): Expr {
    const l = this.paramLocal.get(name);
    if (l === undefined) throw new Error(`kernel '${this.k.name}': unknown param '${name}'`);
    return this.m.local.get(l, wasmType(t));
  }
  varGet(name: string): Expr {
    return this.readVar(this.lookup(name));
  }
  loadExpr(n: KNodeOf<'load'>): Expr {
    const idx = n.src[0] as KNode;
    const locals = this.privateAccess(n.arg, idx);
    const m = this.m;
    if (locals) {
      if (n.type === 'f32x4') {
        let v = m.f32x4.splat(m.local.get(locals[0] ?? 0, f32));
        for (let i = 1; i < 4; i++) v = m.f32x4.replace_lane(v, i, m.local.get(locals[i] ?? 0, f32));
        return v;
      }
      return m.local.get(locals[0] ?? 0, wasmType(n.type));
    }
    const { ptr, offset } = this.address(n.arg, idx);
    const elem = this.elemOf(n.arg);
    if (elemBytes(elem) < 4) return loadNarrow(this, elem, n.type, ptr, offset);
    return this.loadTyped(n.type, ptr, offset);
  }
  /** splat(load x) as one v128.load32_splat. */
  loadSplat(n: KNodeOf<'load'>): Expr {
    const elem = this.elemOf(n.arg);
    if (elemBytes(elem) < 4) return n.type === 'f32' ? this.m.f32x4.splat(this.loadExpr(n)) : this.m.i32x4.splat(this.loadExpr(n));
    const { ptr, offset } = this.address(n.arg, n.src[0] as KNode);
    return this.m.v128.load32_splat(offset, 4, ptr);
  }
  callMath(name: MathImport, x: Expr): Expr {
    this.usedImports.add(name);
    return this.m.call(name, [x], f64);
  }
  callPow(a: Expr, b: Expr): Expr {
    this.usedImports.add('pow');
    return this.m.call('pow', [a, b], f64);
  }
  tempLocal(t: ValType): number {
    return this.newLocal(t);
  }
}

type Rule<O extends KOp> = (n: KNodeOf<O>, r: FunctionRenderer) => Expr;

/** One rule per node kind: adding a kernel op fails tsc here until the Wasm renderer handles it. */
const EXPR_RULES: { readonly [O in KOp]: Rule<O> } = {
  const: (n, r) => {
    const m = r.mod;
    if (n.type === 'f32') return m.f32.const(n.arg);
    if (n.type === 'f64') return m.f64.const(n.arg);
    if (n.type === 'bool') return m.i32.const(n.arg ? 1 : 0);
    return m.i32.const(n.arg | 0);
  },
  param: (n, r) => r.paramGet(n.arg, n.type),
  gid: (n, r) => r.specialLocal('gid', n.arg),
  lid: (n, r) => r.specialLocal('lid', n.arg),
  ngroups: (n, r) => r.specialLocal('ngroups', n.arg),
  var: (n, r) => r.varGet(n.arg),
  load: (n, r) => r.loadExpr(n),
  unary: (n, r) => unaryRule(n, r.expr(n.src[0] as KNode), r),
  binary: (n, r) => binaryRule(n, r.expr(n.src[0] as KNode), r.expr(n.src[1] as KNode), r),
  cmp: (n, r) => cmpRule(n, r.expr(n.src[0] as KNode), r.expr(n.src[1] as KNode), r.mod),
  select: (n, r) => {
    const [c, a, b] = n.src as [KNode, KNode, KNode];
    return r.mod.select(r.expr(c), r.expr(a), r.expr(b));
  },
  cast: (n, r) => castRule((n.src[0] as KNode).type, n.type, r.expr(n.src[0] as KNode), r),
  bitcast: (n, r) => {
    const x = n.src[0] as KNode;
    const e = r.expr(x);
    if (x.type === 'f32' && n.type !== 'f32') return r.mod.i32.reinterpret(e);
    if (n.type === 'f32' && x.type !== 'f32') return r.mod.f32.reinterpret(e);
    return e; // i32 <-> u32 and f32x4 <-> i32x4 share one Wasm type
  },
  splat: (n, r) => {
    const x = n.src[0] as KNode;
    if (x.op === 'load' && x.arg.space !== 'private') return r.loadSplat(x);
    // splat(lane(v, i)) is one shuffle.
    const vec = x.op === 'lane' ? x.src[0] : undefined;
    if (x.op === 'lane' && vec !== undefined && vec.type === n.type) {
      const e = r.expr(vec);
      const tmp = r.tempLocal(v128);
      const bytes = [0, 1, 2, 3].flatMap(() => [0, 1, 2, 3].map((b) => x.arg * 4 + b));
      return r.mod.block(null, [r.mod.local.set(tmp, e), r.mod.i8x16.shuffle(r.mod.local.get(tmp, v128), r.mod.local.get(tmp, v128), bytes)], v128);
    }
    return n.type === 'f32x4' ? r.mod.f32x4.splat(r.expr(x)) : r.mod.i32x4.splat(r.expr(x));
  },
  lane: (n, r) => {
    const src = n.src[0] as KNode;
    return src.type === 'f32x4' ? r.mod.f32x4.extract_lane(r.expr(src), n.arg) : r.mod.i32x4.extract_lane(r.expr(src), n.arg);
  },
  fma: (n, r) => {
    const m = r.mod;
    const [a, b, c] = (n.src as KNode[]).map((s) => r.expr(s)) as [Expr, Expr, Expr];
    if (n.type === 'f32x4')
      return r.fmaMode ? m.f32x4.relaxed_madd(a, b, c) : m.f32x4.add(m.f32x4.mul(a, b), c);
    if (n.type === 'f64') return m.f64.add(m.f64.mul(a, b), c);
    return m.f32.add(m.f32.mul(a, b), c);
  },
  block: (n, r) => r.stmt(n),
  decl: (n, r) => r.stmt(n),
  assign: (n, r) => r.stmt(n),
  store: (n, r) => r.stmt(n),
  range: (n, r) => r.stmt(n),
  if: (n, r) => r.stmt(n),
  barrier: (n, r) => r.stmt(n),
};

export type { FunctionRenderer };

export interface RenderedKernel {
  readonly name: string;
  readonly binary: Uint8Array;
  readonly imports: readonly MathImport[];
}

/**
 * Renders one kernel into a standalone Wasm module importing `env.memory` (shared, up to 4 GiB). The engine
 * validates it when it is compiled (`new WebAssembly.Module`); there is no optimiser pass of our own: V8's
 * optimising tier does what binaryen's -O2 did for these kernels (no measurable difference, docs/wasm.md).
 */
export function renderKernel(k: Kernel, opts: WasmRendererOptions): RenderedKernel {
  checkKernel(k);
  const problems = limitProblems(k, WASM_LIMITS);
  if (problems.length) throw new Error(`wasm renderer: ${problems.join('; ')}`);
  const m = new ModuleBuilder();
  const fr = new FunctionRenderer(m, k, opts);
  const { body, vars } = fr.render();
  for (const name of fr.usedImports) m.addFunctionImport(name, 'math', name, MATH_IMPORTS[name].arity === 2 ? [f64, f64] : [f64], f64);
  m.setFunction('run', [i32, i32, i32, i32], vars, body);
  return { name: k.name, binary: m.emit(MAX_MEMORY_PAGES), imports: [...fr.usedImports] };
}

/** Pages of the wasm32 memory every kernel imports (4 GiB: the heap's maximum). */
const MAX_MEMORY_PAGES = 65536;

/** The Wasm renderer as a value: its device limits and its rendering function. */
export function wasmRenderer(opts: WasmRendererOptions): KernelRenderer<RenderedKernel> {
  return { name: 'wasm', limits: WASM_LIMITS, render: (k) => renderKernel(k, opts) };
}

/** The text form of a kernel's Wasm, for debugging: binaryen (loaded only here) disassembles the module. */
export async function renderKernelText(k: Kernel, opts: WasmRendererOptions): Promise<string> {
  const B = (await import('binaryen')).default;
  const mod = B.readBinary(renderKernel(k, opts).binary);
  mod.setFeatures(B.Features.All);
  try {
    return mod.emitText();
  } finally {
    mod.dispose();
  }
}
