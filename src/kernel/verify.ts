/**
 * The Kernel IR verifier: types of every node, declared buffers / arrays / params / variables in scope, writes
 * only to writable buffers, constant indices into private arrays, and barriers only in uniform control flow
 * (never under an `if`, only inside loops whose bounds every thread of the workgroup agrees on).
 */
import { type ElemType, isVector, type Kernel, type KNode, type KType, laneType, STATEMENT_OPS, WORD_TYPES } from './ir.js';

export class KernelError extends Error {
  override name = 'KernelError';
}

/**
 * Variables in scope: a scope's own declarations and its parent's (looked up along the chain; copying the visible
 * map at every block made verifying a large kernel quadratic in its declarations).
 */
class Scope {
  readonly vars = new Map<string, { type: KType; uniform: boolean }>();
  constructor(private readonly parent?: Scope) {}
  get(name: string): { type: KType; uniform: boolean } | undefined {
    for (let s: Scope | undefined = this; s !== undefined; s = s.parent) {
      const d = s.vars.get(name);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}

const INT_BINARY = new Set(['rem', 'and', 'or', 'xor', 'shl', 'shr']);

/** The register (lane) types a value of each storage type is loaded as and stored from. */
const ACCESS_TYPES: Readonly<Record<ElemType, readonly string[]>> = {
  f32: ['f32'],
  f16: ['f32'],
  bf16: ['f32'],
  i32: ['i32', 'u32'],
  u32: ['u32', 'i32'],
  u8: ['i32', 'u32'],
};
const BITCAST_PAIRS = new Set(['f32:i32', 'f32:u32', 'i32:f32', 'u32:f32', 'i32:u32', 'u32:i32', 'f32x4:i32x4', 'i32x4:f32x4']);

/** Returns every problem found (empty if the kernel is well formed). */
export function verifyKernel(k: Kernel): string[] {
  const errors: string[] = [];
  const err = (where: string, msg: string): void => {
    errors.push(`kernel '${k.name}': ${where}: ${msg}`);
  };
  if (!Number.isInteger(k.threads) || k.threads < 1) err('threads', `must be a positive integer, got ${k.threads}`);
  const names = new Set<string>();
  for (const d of [...k.buffers, ...k.params, ...k.shared, ...k.privates]) {
    if (names.has(d.name)) err('declarations', `'${d.name}' is declared twice`);
    names.add(d.name);
  }
  for (const a of [...k.shared, ...k.privates]) {
    if (!Number.isInteger(a.length) || a.length < 1) err(`array '${a.name}'`, `length ${a.length} is not positive`);
    if (!(WORD_TYPES as readonly string[]).includes(a.elem)) err(`array '${a.name}'`, `element type ${a.elem} is not a 4-byte type (only buffers hold 16- and 8-bit types)`);
  }
  const buffers = new Map(k.buffers.map((b) => [b.name, b]));
  const params = new Map(k.params.map((p) => [p.name, p]));
  const shared = new Map(k.shared.map((s) => [s.name, s]));
  const privates = new Map(k.privates.map((s) => [s.name, s]));

  /** Returns whether the expression is uniform across the threads of a workgroup. */
  const expr = (n: KNode, scope: Scope, path: string): boolean => {
    const where = `${path}/${n.op}`;
    if (STATEMENT_OPS.has(n.op)) {
      err(where, 'a statement used as a value');
      return false;
    }
    const srcUniform = n.src.map((s) => expr(s, scope, where));
    const allUniform = srcUniform.every(Boolean);
    const s0 = n.src[0];
    switch (n.op) {
      case 'const':
        if (!Number.isFinite(n.arg) && !Number.isNaN(n.arg) && n.type !== 'f32' && n.type !== 'f64') err(where, `non-finite ${n.type} constant`);
        if ((n.type === 'i32' || n.type === 'u32') && !Number.isInteger(n.arg)) err(where, `${n.type} constant ${n.arg} is not an integer`);
        return true;
      case 'param': {
        const p = params.get(n.arg);
        if (p === undefined) err(where, `unknown scalar param '${n.arg}'`);
        else if (p.type !== n.type) err(where, `param '${n.arg}' is ${p.type}, used as ${n.type}`);
        return true;
      }
      case 'gid':
      case 'lid':
      case 'ngroups':
        if (n.arg < 0 || n.arg > 2) err(where, `axis ${n.arg} out of range`);
        return n.op !== 'lid';
      case 'var': {
        const d = scope.get(n.arg);
        if (d === undefined) {
          err(where, `variable '${n.arg}' is not in scope`);
          return false;
        }
        if (d.type !== n.type) err(where, `variable '${n.arg}' is ${d.type}, read as ${n.type}`);
        return d.uniform;
      }
      case 'load': {
        checkIndex(n, where);
        const elem = memElem(n.arg.space, n.arg.name, where);
        if (elem !== undefined) {
          const want = isVector(n.type) ? laneType(n.type) : n.type;
          if (!ACCESS_TYPES[elem].includes(want)) err(where, `loads ${n.type} from ${n.arg.space} '${n.arg.name}' of ${elem}`);
        }
        return n.arg.space === 'global' && allUniform;
      }
      case 'unary':
        if (n.arg === 'not' ? n.type !== 'bool' && n.type !== 'i32' : n.type === 'bool') err(where, `${n.arg} on ${n.type}`);
        same(n, [0], where);
        return allUniform;
      case 'binary':
        same(n, [0, 1], where);
        if (INT_BINARY.has(n.arg) && n.type !== 'i32' && n.type !== 'u32' && !(n.type === 'bool' && n.arg !== 'rem' && n.arg !== 'shl' && n.arg !== 'shr') && !(n.type === 'i32x4' && (n.arg === 'and' || n.arg === 'or' || n.arg === 'xor')))
          err(where, `${n.arg} needs integer operands, got ${n.type}`);
        if (n.type === 'bool' && !INT_BINARY.has(n.arg)) err(where, `${n.arg} on bool`);
        return allUniform;
      case 'cmp':
        if (n.type !== 'bool') err(where, 'comparison must be bool');
        if (n.src[0]?.type !== n.src[1]?.type) err(where, `operand types differ: ${n.src[0]?.type} vs ${n.src[1]?.type}`);
        return allUniform;
      case 'select':
        if (s0?.type !== 'bool') err(where, `condition is ${s0?.type}, not bool`);
        if (n.src[1]?.type !== n.type || n.src[2]?.type !== n.type) err(where, 'branch types differ from the result type');
        return allUniform;
      case 'cast':
        if (n.src.length !== 1 || isVector(n.type) || (s0 !== undefined && isVector(s0.type))) err(where, 'cast takes one scalar to a scalar');
        return allUniform;
      case 'bitcast':
        if (s0 === undefined || !BITCAST_PAIRS.has(`${s0.type}:${n.type}`)) err(where, `bitcast from ${s0?.type} to ${n.type} (needs types of the same width)`);
        return allUniform;
      case 'splat':
        if (!isVector(n.type) || s0 === undefined || s0.type !== laneType(n.type)) err(where, `splat of ${s0?.type} to ${n.type}`);
        return allUniform;
      case 'lane':
        if (s0 === undefined || !isVector(s0.type) || n.arg < 0 || n.arg > 3) err(where, `lane ${n.arg} of ${s0?.type}`);
        return allUniform;
      case 'fma':
        same(n, [0, 1, 2], where);
        if (n.type !== 'f32' && n.type !== 'f32x4' && n.type !== 'f64') err(where, `fma on ${n.type}`);
        return allUniform;
      default:
        return false;
    }
  };

  const same = (n: KNode, idx: readonly number[], where: string): void => {
    for (const i of idx) if (n.src[i]?.type !== n.type) err(where, `operand ${i} is ${n.src[i]?.type}, result is ${n.type}`);
  };

  const memElem = (space: string, name: string, where: string): ElemType | undefined => {
    const d = space === 'global' ? buffers.get(name) : space === 'shared' ? shared.get(name) : privates.get(name);
    if (d === undefined) {
      err(where, `no ${space} memory named '${name}'`);
      return undefined;
    }
    return d.elem;
  };

  const checkIndex = (n: KNode, where: string): void => {
    const idx = n.src[0];
    if (idx === undefined || idx.type !== 'i32') err(where, `index must be i32, got ${idx?.type}`);
    if (n.op !== 'load' && n.op !== 'store') return;
    if (n.arg.space === 'private') {
      const arr = privates.get(n.arg.name);
      if (idx?.op !== 'const') err(where, `private array '${n.arg.name}' needs a constant index (it lives in registers)`);
      else if (arr !== undefined && (idx.arg < 0 || idx.arg + (isVector(n.type) || isVector(n.src[1]?.type ?? 'void') ? 4 : 1) > arr.length))
        err(where, `index ${idx.arg} out of bounds of private '${n.arg.name}' [${arr.length}]`);
    }
  };

  const stmt = (n: KNode, scope: Scope, path: string, uniformCtx: boolean): void => {
    const where = `${path}/${n.op}`;
    switch (n.op) {
      case 'block': {
        const inner = new Scope(scope);
        n.src.forEach((s, i) => stmt(s, inner, `${where}[${i}]`, uniformCtx));
        // Declarations stay visible to later siblings of the enclosing block only through `inner`.
        for (const [name, d] of inner.vars) if (!scope.has(name)) scope.vars.set(name, d);
        return;
      }
      case 'decl': {
        const init = n.src[0];
        if (init === undefined) return err(where, 'declaration without initial value');
        const u = expr(init, scope, where);
        if (init.type !== n.type) err(where, `'${n.arg}' is ${n.type}, initialised with ${init.type}`);
        if (scope.has(n.arg)) err(where, `variable '${n.arg}' redeclared`);
        scope.vars.set(n.arg, { type: n.type, uniform: u && uniformCtx });
        return;
      }
      case 'assign': {
        const d = scope.get(n.arg);
        const val = n.src[0];
        if (val === undefined) return err(where, 'assignment without value');
        const u = expr(val, scope, where);
        if (d === undefined) return err(where, `assignment to undeclared '${n.arg}'`);
        if (d.type !== val.type) err(where, `'${n.arg}' is ${d.type}, assigned ${val.type}`);
        if (!u || !uniformCtx) d.uniform = false;
        return;
      }
      case 'store': {
        checkIndex(n, where);
        const [idx, val] = [n.src[0], n.src[1]];
        if (idx !== undefined) expr(idx, scope, where);
        if (val === undefined) return err(where, 'store without value');
        expr(val, scope, where);
        const elem = memElem(n.arg.space, n.arg.name, where);
        const want = isVector(val.type) ? laneType(val.type) : val.type;
        if (elem !== undefined && !ACCESS_TYPES[elem].includes(want)) err(where, `stores ${val.type} into ${n.arg.space} '${n.arg.name}' of ${elem}`);
        if (n.arg.space === 'global' && buffers.get(n.arg.name)?.access === 'read') err(where, `buffer '${n.arg.name}' is read-only`);
        return;
      }
      case 'range': {
        const [start, end, body] = n.src;
        if (start === undefined || end === undefined || body === undefined) return err(where, 'range needs start, end and body');
        const u = expr(start, scope, where) && expr(end, scope, where);
        if (start.type !== 'i32' || end.type !== 'i32') err(where, 'range bounds must be i32');
        if (!Number.isInteger(n.arg.step) || n.arg.step < 1) err(where, `step ${n.arg.step} must be a positive integer`);
        const inner = new Scope(scope);
        inner.vars.set(n.arg.var, { type: 'i32', uniform: u && uniformCtx });
        stmt(body, inner, where, u && uniformCtx);
        return;
      }
      case 'if': {
        const [c, t, e] = n.src;
        if (c === undefined || t === undefined) return err(where, 'if needs a condition and a body');
        if (c.type !== 'bool') err(where, `condition is ${c.type}`);
        expr(c, scope, where);
        stmt(t, new Scope(scope), `${where}.then`, false);
        if (e !== undefined) stmt(e, new Scope(scope), `${where}.else`, false);
        return;
      }
      case 'barrier':
        if (!uniformCtx) err(where, 'barrier in non-uniform control flow (under an if, or in a loop whose bounds differ per thread)');
        return;
      default:
        err(where, 'an expression used as a statement');
    }
  };

  stmt(k.body, new Scope(), '', true);
  return errors;
}

const verified = new WeakSet<Kernel>();

/** Throws the kernel's problems; a kernel object that passed once is not walked again (kernels are immutable). */
export function checkKernel(k: Kernel): void {
  if (verified.has(k)) return;
  const errors = verifyKernel(k);
  if (errors.length) throw new KernelError(errors.slice(0, 10).join('\n') + (errors.length > 10 ? `\n... ${errors.length - 10} more` : ''));
  verified.add(k);
}
