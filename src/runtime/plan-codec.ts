/**
 * KernelPrograms and their kernels as JSON data and back. Encoding is the identity on the data (programs refer
 * to kernels by index into a shared table, so a prefill and a decode program share their kernels); decoding checks
 * every field and every cross-reference (step -> kernel, binding -> buffer of the declared storage type, param ->
 * a dim over the program's dynamic symbols) and verifies each kernel, so what a runner receives from a file is as
 * well formed as what lowering produces. Browser-safe: no compiler, no Node modules.
 */
import { DTYPES, type Dim, type DType, type SymTerm } from '../ir/index.js';
import {
  ADDRESS_SPACES,
  type ArrayDecl,
  type BufferDecl,
  ELEM_TYPES,
  K_BINARY,
  K_CMP,
  K_OPS,
  K_UNARY,
  type Kernel,
  type KNode,
  type KOp,
  type KType,
  SCALAR_TYPES,
  type ScalarParamDecl,
  VECTOR_TYPES,
  WORD_TYPES,
} from '../kernel/ir.js';
import type { KernelProgram, ProgramBuffer, ProgramStep, ProgramTensor, ProgramWeight, WeightLayout } from '../kernel/program.js';
import { verifyKernel } from '../kernel/verify.js';
import { Field, PlanFormatError, planNumber } from './plan-json.js';

/** A program with its kernels replaced by indices into a kernel table. */
export type ProgramData = Omit<KernelProgram, 'kernels'> & { readonly kernels: readonly number[] };

/** The program as data; `kernelIndex` gives each kernel's place in the shared table. */
export function encodeProgram(p: KernelProgram, kernelIndex: (k: Kernel) => number): ProgramData {
  return { ...p, kernels: p.kernels.map(kernelIndex) };
}

/**
 * A Kernel IR node as JSON: the array [op, type, arg, ...src] (arg null when the op has none). Half the size of
 * the object form and twice as fast to read, which matters for the tens of thousands of nodes of a model.
 */
export type NodeData = readonly [string, string, unknown, ...NodeData[]];

export function encodeNode(n: KNode): NodeData {
  return [n.op, n.type, n.arg ?? null, ...n.src.map(encodeNode)];
}

/** A kernel as JSON: its declarations as they are, its body in the array form of encodeNode. */
export type KernelData = Omit<Kernel, 'body'> & { readonly body: NodeData };

export function encodeKernel(k: Kernel): KernelData {
  return { name: k.name, buffers: k.buffers, params: k.params, shared: k.shared, privates: k.privates, threads: k.threads, body: encodeNode(k.body) };
}

// ---- kernels ----

const K_TYPES: readonly KType[] = [...SCALAR_TYPES, ...VECTOR_TYPES, 'void'];
const OPS = new Set<string>(K_OPS);
const TYPES = new Set<string>(K_TYPES);
const NO_ARG = new Set<KOp>(['select', 'cast', 'bitcast', 'splat', 'fma', 'block', 'if', 'barrier']);
const SPACES = new Set<string>(ADDRESS_SPACES);
const UNARY = new Set<string>(K_UNARY);
const BINARY = new Set<string>(K_BINARY);
const CMP = new Set<string>(K_CMP);

/** The arg of an `op` node, checked; `fail` throws (it is only called when something is wrong). */
function nodeArg(op: KOp, arg: unknown, fail: (msg: string) => never): unknown {
  if (NO_ARG.has(op)) return arg === undefined || arg === null ? undefined : fail(`'${op}' takes no arg`);
  switch (op) {
    case 'const':
      return planNumber(arg) ?? fail('arg of const must be a number');
    case 'param':
    case 'var':
    case 'decl':
    case 'assign':
      return typeof arg === 'string' ? arg : fail(`arg of '${op}' must be a string`);
    case 'gid':
    case 'lid':
    case 'ngroups':
    case 'lane':
      return typeof arg === 'number' && Number.isInteger(arg) && arg >= 0 && arg <= 3 ? arg : fail(`arg of '${op}' must be an axis or lane 0..3`);
    case 'load':
    case 'store': {
      const m = arg as { space?: unknown; name?: unknown } | null;
      if (typeof m !== 'object' || m === null || typeof m.space !== 'string' || !SPACES.has(m.space) || typeof m.name !== 'string') return fail(`arg of '${op}' must be { space, name }`);
      return { space: m.space, name: m.name };
    }
    case 'unary':
      return typeof arg === 'string' && UNARY.has(arg) ? arg : fail(`arg of unary must be one of ${K_UNARY.join(', ')}`);
    case 'binary':
      return typeof arg === 'string' && BINARY.has(arg) ? arg : fail(`arg of binary must be one of ${K_BINARY.join(', ')}`);
    case 'cmp':
      return typeof arg === 'string' && CMP.has(arg) ? arg : fail(`arg of cmp must be one of ${K_CMP.join(', ')}`);
    case 'range': {
      const m = arg as { var?: unknown; step?: unknown } | null;
      if (typeof m !== 'object' || m === null || typeof m.var !== 'string' || typeof m.step !== 'number' || !Number.isInteger(m.step) || m.step === 0)
        return fail('arg of range must be { var, step } with a nonzero integer step');
      return { var: m.var, step: m.step };
    }
  }
  return fail(`unknown op '${op}'`);
}

/**
 * A Kernel IR node tree from its array form. `trail` holds the child indices from the body down to this node;
 * it becomes a path only when something is wrong.
 */
function decodeNode(v: unknown, base: string, trail: number[]): KNode {
  const fail = (msg: string): never => {
    throw new PlanFormatError(`${base}${trail.map((i) => `[${i + 3}]`).join('')}: ${msg}`);
  };
  if (!Array.isArray(v) || v.length < 3) return fail('expected a Kernel IR node [op, type, arg, ...src]');
  const op: unknown = v[0];
  const type: unknown = v[1];
  if (typeof op !== 'string' || !OPS.has(op)) return fail(`unknown op ${JSON.stringify(op)}`);
  if (typeof type !== 'string' || !TYPES.has(type)) return fail(`'${op}' has unknown type ${JSON.stringify(type)}`);
  const raw: unknown = v[2];
  // Fast path for the common cases; nodeArg checks the rest (and builds the error message).
  const arg = raw === null && NO_ARG.has(op as KOp) ? undefined : typeof raw === 'number' && op === 'const' ? raw : nodeArg(op as KOp, raw, fail);
  const src: KNode[] = new Array<KNode>(v.length - 3);
  for (let i = 3; i < v.length; i++) {
    trail.push(i - 3);
    src[i - 3] = decodeNode(v[i], base, trail);
    trail.pop();
  }
  // The node is rebuilt field by field, so nothing but the IR's own fields reaches a renderer.
  return { op, type, src, arg } as KNode;
}

function decls<T>(f: Field, read: (d: Field) => T): T[] {
  return f.items().map(read);
}

/**
 * A kernel from JSON, verified (types, scopes, barriers) like lowering's output. `verify: false` skips the
 * verifier for data this very build produced and a hash vouches for (the disk cache): it only costs time there.
 */
export function decodeKernel(f: Field, opts: { readonly verify?: boolean } = {}): Kernel {
  const name = f.get('name').str();
  const buffers = decls<BufferDecl>(f.get('buffers'), (d) => ({ name: d.get('name').str(), elem: d.get('elem').oneOf(ELEM_TYPES), access: d.get('access').oneOf(['read', 'write', 'readwrite'] as const) }));
  const params = decls<ScalarParamDecl>(f.get('params'), (d) => ({ name: d.get('name').str(), type: d.get('type').oneOf(['i32', 'f32'] as const) }));
  const array = (d: Field): ArrayDecl => ({ name: d.get('name').str(), elem: d.get('elem').oneOf(WORD_TYPES), length: d.get('length').int(1) });
  const shared = decls(f.get('shared'), array);
  const privates = decls(f.get('privates'), array);
  const threads = f.get('threads').int(1);
  const body = decodeNode(f.get('body').value, `${f.path}.body`, []);
  const k: Kernel = { name, buffers, params, shared, privates, threads, body };
  const problems = opts.verify === false ? [] : verifyKernel(k);
  if (problems.length) throw new PlanFormatError(`${f.path}: kernel '${name}' does not verify: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
  return k;
}

// ---- dims ----

/** A symbolic dim from JSON; every symbol it names must be in `symbols`. */
export function decodeDim(f: Field, symbols: ReadonlySet<string>): Dim {
  if (typeof f.value === 'number') return f.int();
  const k = f.get('k').oneOf(['sym', 'floorMul', 'floorDiv', 'mul', 'min', 'max', 'lin'] as const);
  switch (k) {
    case 'sym': {
      const name = f.get('name').str();
      if (!symbols.has(name)) f.fail(`symbol '${name}' is not a dynamic symbol of the program (${[...symbols].join(', ') || 'none'})`);
      return { k, name };
    }
    case 'floorMul':
      return { k, a: decodeDim(f.get('a'), symbols), r: f.get('r').num() };
    case 'floorDiv':
      return { k, a: decodeDim(f.get('a'), symbols), b: f.get('b').int(1) };
    case 'mul':
    case 'min':
    case 'max':
      return { k, a: decodeDim(f.get('a'), symbols), b: decodeDim(f.get('b'), symbols) };
    case 'lin': {
      const terms = f.get('terms').items().map((t): SymTerm => {
        const atom = decodeDim(t.get('atom'), symbols);
        if (typeof atom === 'number' || atom.k === 'lin') return t.get('atom').fail('a linear term holds an atom');
        return { coeff: t.get('coeff').num(), atom };
      });
      return { k, terms, c: f.get('c').num() };
    }
  }
}

// ---- programs ----

function layoutOf(f: Field): WeightLayout {
  const kind = f.get('kind').oneOf(['plain', 'packed'] as const);
  if (kind === 'plain') {
    const rows = f.opt('rows', (r) => ({ start: r.get('start').int(), count: r.get('count').int(1) }));
    return rows ? { kind, rows } : { kind };
  }
  const rowStart = f.opt('rowStart', (r) => r.int());
  const pairs = f.opt('pairs', (r) => r.bool());
  return { kind, k: f.get('k').int(1), n: f.get('n').int(1), nr: f.get('nr').int(1), ...(rowStart !== undefined ? { rowStart } : {}), ...(pairs === true ? { pairs } : {}) };
}

function tensorOf(f: Field, buffers: readonly ProgramBuffer[]): ProgramTensor {
  const buffer = f.get('buffer').int(0, buffers.length - 1);
  return { name: f.get('name').str(), buffer, dtype: f.get('dtype').oneOf<DType>(DTYPES), shape: f.get('shape').ints() };
}

/** A program from JSON, its kernels taken from `kernels` (the artifact's table) and every reference checked. */
export function decodeProgram(f: Field, kernels: readonly Kernel[]): KernelProgram {
  const own = f.get('kernels').ints(0, kernels.length - 1).map((i) => kernels[i] as Kernel);
  const buffers = f.get('buffers').items().map((b, i): ProgramBuffer => {
    const id = b.get('id').int();
    if (id !== i) b.get('id').fail(`buffer ids are their indices: expected ${i}`);
    return { id, elems: b.get('elems').int(), elem: b.get('elem').oneOf(ELEM_TYPES), role: b.get('role').oneOf(['temp', 'input', 'weight', 'const'] as const), label: b.get('label').str() };
  });
  const maxBuffer = buffers.length - 1;
  const dynamic = f.get('dynamic').items().map((d) => d.str());
  const dynSet = new Set(dynamic);
  const steps = f.get('steps').items().map((s): ProgramStep => {
    const op = s.get('op').oneOf(['alloc', 'free', 'dispatch'] as const);
    if (op !== 'dispatch') {
      const buffer = s.get('buffer').int(0, maxBuffer);
      if (buffers[buffer]?.role !== 'temp') s.get('buffer').fail(`${op} of buffer ${buffer}, which is not a temporary`);
      return { op, buffer };
    }
    const kernel = s.get('kernel').int(0, own.length - 1);
    const k = own[kernel] as Kernel;
    const node = s.get('node').str();
    const bf = s.get('buffers');
    const bound: Record<string, number> = {};
    for (const decl of k.buffers) {
      const id = bf.get(decl.name).int(0, maxBuffer);
      const elem = buffers[id]?.elem;
      if (elem !== decl.elem) bf.get(decl.name).fail(`kernel '${k.name}' declares '${decl.name}' as ${decl.elem}, the bound buffer b${id} holds ${elem}`);
      bound[decl.name] = id;
    }
    const extra = bf.keys().filter((n) => !k.buffers.some((d) => d.name === n));
    if (extra.length) bf.fail(`kernel '${k.name}' has no buffer ${extra.map((n) => `'${n}'`).join(', ')}`);
    const pf = s.get('params');
    const params: Record<string, Dim> = {};
    for (const q of k.params) {
      const v = pf.get(q.name);
      // Constant params are any number of the param's type; symbolic ones are dims over the dynamic symbols.
      params[q.name] = q.type === 'f32' && planNumber(v.value) !== undefined ? v.num() : typeof v.value !== 'number' ? decodeDim(v, dynSet) : v.int(-(2 ** 31), 2 ** 32 - 1);
    }
    const grid = s.get('grid').ints(0);
    if (grid.length !== 3) s.get('grid').fail('expected 3 axes');
    return { op, kernel, buffers: bound, params, grid: [grid[0] ?? 0, grid[1] ?? 0, grid[2] ?? 0], parallel: s.get('parallel').bool(), node };
  });
  const weights = f.get('weights').items().map((w): ProgramWeight => {
    const buffer = w.get('buffer').int(0, maxBuffer);
    if (buffers[buffer]?.role !== 'weight') w.get('buffer').fail(`b${buffer} is not a weight buffer`);
    return { buffer, name: w.get('name').str(), layout: layoutOf(w.get('layout')), shape: w.get('shape').ints(), dtype: w.get('dtype').oneOf<DType>(DTYPES) };
  });
  const constants = f.get('constants').items().map((c) => {
    const buffer = c.get('buffer').int(0, maxBuffer);
    const data = c.get('data').items().map((x) => x.num());
    if (data.length !== buffers[buffer]?.elems) c.get('data').fail(`${data.length} values for a buffer of ${buffers[buffer]?.elems} elements`);
    return { buffer, data };
  });
  const inputs = f.get('inputs').items().map((t) => tensorOf(t, buffers));
  const outputs = f.get('outputs').items().map((t) => tensorOf(t, buffers));
  const status = f.get('status').int(0, maxBuffer);
  const sm = f.get('statusMessages');
  const statusMessages: Record<number, string> = {};
  for (const key of sm.keys()) {
    if (!/^\d+$/.test(key)) sm.fail(`status codes are integers, found '${key}'`);
    statusMessages[Number(key)] = sm.get(key).str();
  }
  return { kernels: own, buffers, steps, inputs, outputs, weights, constants, dynamic, status, statusMessages };
}
