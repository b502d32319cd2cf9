/**
 * modc's persistent caches in Node: rendered Wasm kernels and compiled programs in one DiskCache under the
 * compiler's build id, with a log of which kernels and programs were compiled and which came from the cache.
 */
import { compilerBuildId } from '../io/build-id.js';
import { DiskCache, defaultCacheDir } from '../io/disk-cache.js';
import type { Kernel } from '../kernel/ir.js';
import type { KernelProgram } from '../kernel/program.js';
import type { ProgramStore } from '../runtime/compile.js';
import { decodeKernel, decodeProgram, encodeKernel, encodeProgram } from '../runtime/plan-codec.js';
import { Field, planParse, planStringify } from '../runtime/plan-json.js';
import type { WasmKernelBinary, WasmKernelCache } from '../backends/wasm/kernel-cache.js';
import { MATH_IMPORTS, type MathImport } from '../backends/wasm/math.js';

/** One line of the cache log: a kernel or program, and where it came from. */
export interface CacheRecord {
  readonly what: 'kernel' | 'program';
  readonly name: string;
  readonly how: 'compiled' | 'cached' | 'recompiled';
  /** Why a stored entry was not used (damaged, truncated). */
  readonly reason?: string;
}

export interface Caches {
  readonly disk: DiskCache;
  readonly kernels: WasmKernelCache;
  readonly programs: ProgramStore;
  readonly log: CacheRecord[];
}

const isMathImport = (s: string): s is MathImport => Object.prototype.hasOwnProperty.call(MATH_IMPORTS, s);

/** Wasm kernels in a DiskCache: payload = u32 length, the imports as JSON, the module binary. */
export function diskKernelCache(disk: DiskCache, log: CacheRecord[]): WasmKernelCache {
  const bad = new Set<string>();
  return {
    get(key: string, kernel: Kernel): WasmKernelBinary | undefined {
      const seen = disk.events.length;
      const p = disk.get('kernel', key);
      const reason = disk.events.slice(seen).find((e) => e.kind === 'bad');
      if (p !== undefined && p.length >= 4) {
        const n = new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(0, true);
        const imports = JSON.parse(new TextDecoder().decode(p.subarray(4, 4 + n))) as unknown;
        if (Array.isArray(imports) && imports.every((s): s is MathImport => typeof s === 'string' && isMathImport(s))) {
          log.push({ what: 'kernel', name: kernel.name, how: 'cached' });
          return { imports, binary: p.slice(4 + n) };
        }
      }
      if (reason?.kind === 'bad') {
        bad.add(key);
        log.push({ what: 'kernel', name: kernel.name, how: 'recompiled', reason: reason.reason });
      }
      return undefined;
    },
    put(key: string, kernel: Kernel, entry: WasmKernelBinary): void {
      const imports = new TextEncoder().encode(JSON.stringify(entry.imports));
      const p = new Uint8Array(4 + imports.length + entry.binary.length);
      new DataView(p.buffer).setUint32(0, imports.length, true);
      p.set(imports, 4);
      p.set(entry.binary, 4 + imports.length);
      disk.put('kernel', key, p);
      if (!bad.delete(key)) log.push({ what: 'kernel', name: kernel.name, how: 'compiled' });
    },
  };
}

/** Encodes a program with its kernels inline, as the artifact does. */
export function programJson(p: KernelProgram): string {
  const kernels: Kernel[] = [];
  const index = new Map<Kernel, number>();
  const data = encodeProgram(p, (k) => {
    let i = index.get(k);
    if (i === undefined) {
      i = kernels.push(k) - 1;
      index.set(k, i);
    }
    return i;
  });
  return planStringify({ kernels: kernels.map(encodeKernel), program: data });
}

/** A program encoded by programJson; `verify: false` for entries this build wrote (see decodeKernel). */
export function parseProgramJson(text: string, file: string, opts: { readonly verify?: boolean } = {}): KernelProgram {
  const root = new Field(planParse(text, file), file);
  const kernels = root.get('kernels').items().map((k) => decodeKernel(k, opts));
  return decodeProgram(root.get('program'), kernels);
}

/** Compiled programs in a DiskCache (the runner gets the same data the compiler produced). */
export function diskProgramStore(disk: DiskCache, log: CacheRecord[]): ProgramStore {
  return {
    get(key: string): KernelProgram | undefined {
      const p = disk.get('program', key);
      if (p === undefined) return undefined;
      try {
        // Written by this build (the namespace) and checked by SHA-256: re-verifying its kernels would only cost time.
        const program = parseProgramJson(new TextDecoder().decode(p), disk.path('program', key), { verify: false });
        log.push({ what: 'program', name: key, how: 'cached' });
        return program;
      } catch (e) {
        // An entry of this build that does not decode: compile again (the new entry replaces it).
        log.push({ what: 'program', name: key, how: 'recompiled', reason: (e as Error).message });
        return undefined;
      }
    },
    put(key: string, program: KernelProgram): void {
      disk.put('program', key, new TextEncoder().encode(programJson(program)));
      log.push({ what: 'program', name: key, how: 'compiled' });
    },
  };
}

/** The caches in `dir` (default $XDG_CACHE_HOME/modc or ~/.cache/modc). */
export function diskCaches(dir: string = defaultCacheDir()): Caches {
  const disk = new DiskCache({ dir, namespace: compilerBuildId() });
  const log: CacheRecord[] = [];
  return { disk, log, kernels: diskKernelCache(disk, log), programs: diskProgramStore(disk, log) };
}
