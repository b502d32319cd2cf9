/**
 * The Kernel IR as text, one statement a line: what `modc compile --emit kernels` prints and what golden tests
 * of lowering compare. Expressions print inline; every name keeps its address space (`shared.tile[i]`).
 */
import { type Kernel, type KNode, STATEMENT_OPS } from './ir.js';

const INFIX: Partial<Record<string, string>> = {
  add: '+', sub: '-', mul: '*', div: '/', rem: '%', and: '&', or: '|', xor: '^', shl: '<<', shr: '>>',
  lt: '<', le: '<=', gt: '>', ge: '>=', eq: '==', ne: '!=',
};
const AXES = ['x', 'y', 'z'];

function num(x: number, type: string): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (type === 'f32' || type === 'f64') return Number.isInteger(x) ? `${x}.0` : String(x);
  return String(x);
}

function ref(space: string, name: string): string {
  return space === 'global' ? name : `${space}.${name}`;
}

/** An expression as text. */
export function exprText(n: KNode): string {
  const a = (i: number): string => {
    const s = n.src[i];
    return s === undefined ? '?' : exprText(s);
  };
  switch (n.op) {
    case 'const':
      return n.type === 'i32' ? num(n.arg, n.type) : `${num(n.arg, n.type)}${n.type === 'f32' ? '' : `:${n.type}`}`;
    case 'param':
      return `$${n.arg}`;
    case 'gid':
    case 'lid':
    case 'ngroups':
      return `${n.op}.${AXES[n.arg] ?? n.arg}`;
    case 'var':
      return n.arg;
    case 'load':
      return `${ref(n.arg.space, n.arg.name)}[${a(0)}]${n.type === 'f32' || n.type === 'i32' ? '' : `:${n.type}`}`;
    case 'unary':
      return `${n.arg}(${a(0)})`;
    case 'binary':
    case 'cmp': {
      const op = INFIX[n.arg];
      return op ? `(${a(0)} ${op} ${a(1)})` : `${n.arg}(${a(0)}, ${a(1)})`;
    }
    case 'select':
      return `select(${a(0)}, ${a(1)}, ${a(2)})`;
    case 'cast':
      return `${n.type}(${a(0)})`;
    case 'bitcast':
      return `bitcast<${n.type}>(${a(0)})`;
    case 'splat':
      return `splat<${n.type}>(${a(0)})`;
    case 'lane':
      return `${a(0)}.${n.arg}`;
    case 'fma':
      return `fma(${a(0)}, ${a(1)}, ${a(2)})`;
    default:
      return `<${n.op}>`;
  }
}

function stmtLines(n: KNode, indent: string, out: string[]): void {
  const src = (i: number): KNode | undefined => n.src[i];
  const e = (i: number): string => {
    const s = src(i);
    return s === undefined ? '?' : exprText(s);
  };
  const body = (s: KNode | undefined, ind: string): void => {
    if (s === undefined) return;
    if (s.op === 'block') for (const c of s.src) stmtLines(c, ind, out);
    else stmtLines(s, ind, out);
  };
  switch (n.op) {
    case 'block':
      out.push(`${indent}{`);
      body(n, `${indent}  `);
      out.push(`${indent}}`);
      return;
    case 'decl':
      out.push(`${indent}let ${n.arg}: ${n.type} = ${e(0)}`);
      return;
    case 'assign':
      out.push(`${indent}${n.arg} = ${e(0)}`);
      return;
    case 'store': {
      const v = src(1);
      out.push(`${indent}${ref(n.arg.space, n.arg.name)}[${e(0)}]${v && v.type !== 'f32' && v.type !== 'i32' ? `:${v.type}` : ''} = ${e(1)}`);
      return;
    }
    case 'range':
      out.push(`${indent}for ${n.arg.var} in [${e(0)}, ${e(1)})${n.arg.step === 1 ? '' : ` step ${n.arg.step}`} {`);
      body(src(2), `${indent}  `);
      out.push(`${indent}}`);
      return;
    case 'if':
      out.push(`${indent}if ${e(0)} {`);
      body(src(1), `${indent}  `);
      if (src(2) !== undefined) {
        out.push(`${indent}} else {`);
        body(src(2), `${indent}  `);
      }
      out.push(`${indent}}`);
      return;
    case 'barrier':
      out.push(`${indent}barrier`);
      return;
    default:
      out.push(`${indent}${STATEMENT_OPS.has(n.op) ? n.op : exprText(n)}`);
  }
}

/** A kernel as text: its signature (buffers, params, arrays, threads), then its body. */
export function kernelText(k: Kernel): string {
  const out = [`kernel ${k.name} threads=${k.threads}`];
  for (const b of k.buffers) out.push(`  buffer ${b.name}: ${b.elem} ${b.access}`);
  for (const p of k.params) out.push(`  param $${p.name}: ${p.type}`);
  for (const s of k.shared) out.push(`  shared ${s.name}: ${s.elem}[${s.length}]`);
  for (const p of k.privates) out.push(`  private ${p.name}: ${p.elem}[${p.length}]`);
  const lines: string[] = [];
  if (k.body.op === 'block') for (const c of k.body.src) stmtLines(c, '  ', lines);
  else stmtLines(k.body, '  ', lines);
  return [...out, '{', ...lines, '}'].join('\n');
}
