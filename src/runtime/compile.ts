/**
 * The one compile step: graph -> (pass pipeline at the run's symbol values) -> lowering for a Target ->
 * KernelProgram, cached in memory by (graph hash, target, symbol values, dynamic symbols). Backends never run
 * passes; they get programs from here. Pure: runs in a browser as in Node.
 */
import { type Graph, hashString, printGraph, type SymEnv } from '../ir/index.js';
import type { KernelProgram } from '../kernel/program.js';
import { type Target, targetKey } from '../kernel/target.js';
import { pipeline, runPasses } from '../passes/index.js';
import { lowerToProgram } from '../passes/lower/index.js';

export interface CompileOptions {
  /** Run the full pass pipeline (specialisation and fusion) before lowering (default true). */
  readonly fuse?: boolean;
  /** Symbols left dynamic: not bound at compile time, kernel params at run time. */
  readonly dynamic?: readonly string[];
  /** Verify every kernel (default true). */
  readonly verify?: boolean;
}

/** The graph a target lowers: the full pass pipeline with the static symbols bound (or as is, with fuse: false). */
export function optimize(graph: Graph, env: SymEnv, opts: CompileOptions = {}): Graph {
  if (opts.fuse === false) return graph;
  const dynamic = new Set(opts.dynamic ?? []);
  const bindings = Object.fromEntries(Object.entries(env).filter(([k]) => !dynamic.has(k) && graph.symbols.some((s) => s.name === k)));
  return runPasses(graph, pipeline('full', { bindings }));
}

/** Compiles a graph for a target at the given symbol values. */
export function compile(graph: Graph, target: Target, env: SymEnv, opts: CompileOptions = {}): KernelProgram {
  const dynamic = new Set(opts.dynamic ?? []);
  const staticEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !dynamic.has(k)));
  return lowerToProgram(optimize(graph, staticEnv, opts), staticEnv, { target, dynamic: [...dynamic], ...(opts.verify !== undefined ? { verify: opts.verify } : {}) });
}

/** The cache key of a compilation. */
export function compileKey(graphHash: string, target: Target, env: SymEnv, opts: CompileOptions = {}): string {
  const dynamic = [...(opts.dynamic ?? [])].sort();
  const syms = Object.keys(env).filter((k) => !dynamic.includes(k)).sort().map((k) => `${k}=${env[k]}`).join(',');
  return hashString(`${graphHash}|${targetKey(target)}|${syms}|${dynamic.join(',')}|${opts.fuse === false ? 'nofuse' : 'full'}`);
}

/** A persistent store of compiled programs (a disk cache in Node), keyed by compileKey. */
export interface ProgramStore {
  get(key: string): KernelProgram | undefined;
  put(key: string, program: KernelProgram): void;
}

/**
 * Compiled programs by key, least recently used first out; counts compilations (tests assert none happen).
 * With a store, programs also persist across processes.
 */
export class CompileCache {
  private readonly programs = new Map<string, KernelProgram>();
  private readonly hashes = new WeakMap<Graph, string>();
  /** Programs compiled (cache misses) since creation. */
  compiled = 0;

  constructor(
    private readonly limit = 16,
    private readonly store?: ProgramStore,
  ) {}

  get(graph: Graph, target: Target, env: SymEnv, opts: CompileOptions = {}): KernelProgram {
    let h = this.hashes.get(graph);
    if (h === undefined) {
      h = hashString(printGraph(graph));
      this.hashes.set(graph, h);
    }
    const key = compileKey(h, target, env, opts);
    const hit = this.programs.get(key);
    if (hit !== undefined) {
      this.programs.delete(key);
      this.programs.set(key, hit);
      return hit;
    }
    let p = this.store?.get(key);
    if (p === undefined) {
      p = compile(graph, target, env, opts);
      this.compiled++;
      this.store?.put(key, p);
    }
    this.programs.set(key, p);
    while (this.programs.size > this.limit) {
      const oldest = this.programs.keys().next().value;
      if (oldest === undefined) break;
      this.programs.delete(oldest);
    }
    return p;
  }
}
