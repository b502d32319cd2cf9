/**
 * ptxas (from the CUDA toolkit) as a checker of emitted PTX: assembles a module for an architecture and
 * returns what `-v` reports (registers, spills, shared memory, barriers) or the errors with their PTX lines,
 * as data. Node-only (child_process); the CLI's `modc compile --target ptx --report` uses ptxasReport.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kernel } from '../../kernel/ir.js';
import { choosePtxTarget, type PtxTargetChoice } from './isa.js';
import { renderPtx } from './render.js';

export interface PtxasDiagnostic {
  readonly severity: 'error' | 'warning' | 'fatal';
  /** PTX line, when ptxas names one. */
  readonly line?: number;
  readonly message: string;
}

export interface PtxasResources {
  readonly entry: string;
  readonly arch: string;
  readonly registers: number;
  readonly barriers: number;
  readonly sharedBytes: number;
  readonly stackFrameBytes: number;
  readonly spillStoreBytes: number;
  readonly spillLoadBytes: number;
}

export interface PtxasResult {
  readonly ok: boolean;
  readonly exitCode: number;
  readonly arch: string;
  readonly resources: readonly PtxasResources[];
  readonly diagnostics: readonly PtxasDiagnostic[];
  /** ptxas's own output, for messages. */
  readonly log: string;
}

/** The ptxas on the PATH, or a sentence saying why there is none. */
export function ptxasAvailable(): true | string {
  const r = spawnSync('ptxas', ['--version'], { encoding: 'utf8' });
  if (r.error) return `ptxas is not on the PATH (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install the CUDA toolkit`;
  return r.status === 0 ? true : `ptxas --version exited with ${r.status}`;
}

/** Parses ptxas -v output (stderr) into resources per entry and diagnostics. */
export function parsePtxasOutput(text: string, arch: string): { resources: PtxasResources[]; diagnostics: PtxasDiagnostic[] } {
  const resources: PtxasResources[] = [];
  const diagnostics: PtxasDiagnostic[] = [];
  let entry = '';
  let frame = { stack: 0, spillStores: 0, spillLoads: 0 };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m = /^ptxas\s+\S+?(?:, line (\d+))?;\s*(error|warning|fatal)\s*:\s*(.*)$/.exec(line);
    if (m) {
      diagnostics.push({ severity: m[2] as PtxasDiagnostic['severity'], ...(m[1] ? { line: Number(m[1]) } : {}), message: m[3] ?? '' });
      continue;
    }
    m = /^ptxas\s+(fatal|error|warning)\s*:\s*(.*)$/.exec(line);
    if (m) {
      diagnostics.push({ severity: m[1] as PtxasDiagnostic['severity'], message: m[2] ?? '' });
      continue;
    }
    m = /Compiling entry function '([^']+)'/.exec(line);
    if (m) {
      entry = m[1] ?? '';
      frame = { stack: 0, spillStores: 0, spillLoads: 0 };
      continue;
    }
    m = /(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/.exec(line);
    if (m) {
      frame = { stack: Number(m[1]), spillStores: Number(m[2]), spillLoads: Number(m[3]) };
      continue;
    }
    m = /Used (\d+) registers(?:, used (\d+) barriers)?(?:, (\d+) bytes smem)?/.exec(line);
    if (m)
      resources.push({
        entry,
        arch,
        registers: Number(m[1]),
        barriers: Number(m[2] ?? 0),
        sharedBytes: Number(m[3] ?? 0),
        stackFrameBytes: frame.stack,
        spillStoreBytes: frame.spillStores,
        spillLoadBytes: frame.spillLoads,
      });
  }
  return { resources, diagnostics };
}

/** Assembles PTX text with `ptxas -arch=<arch> -v` in a temporary directory (removed afterwards). */
export function runPtxas(ptx: string, arch: string, name = 'kernel'): PtxasResult {
  const dir = mkdtempSync(join(tmpdir(), 'modc-ptxas-'));
  try {
    const file = join(dir, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.ptx`);
    writeFileSync(file, ptx);
    const r = spawnSync('ptxas', [`-arch=${arch}`, '-v', file, '-o', join(dir, 'out.cubin')], { encoding: 'utf8' });
    if (r.error) throw new Error(`ptxas could not run: ${r.error.message}`);
    const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    const { resources, diagnostics } = parsePtxasOutput(log, arch);
    return { ok: r.status === 0, exitCode: r.status ?? -1, arch, resources, diagnostics, log };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface KernelPtxasReport {
  readonly kernel: string;
  readonly arch: string;
  readonly ok: boolean;
  readonly registers?: number;
  readonly spillBytes?: number;
  readonly sharedBytes?: number;
  readonly errors: readonly string[];
}

/**
 * Renders and assembles each kernel for each architecture: registers, spills and shared memory per kernel, or
 * ptxas's errors with their PTX lines (the report of `modc compile --target ptx --report`).
 */
export function ptxasReport(kernels: readonly Kernel[], archs: readonly string[] = ['sm_80'], choice?: (arch: string) => PtxTargetChoice): KernelPtxasReport[] {
  const out: KernelPtxasReport[] = [];
  for (const arch of archs) {
    const target = choice ? choice(arch) : choosePtxTarget({ sm: arch });
    for (const k of kernels) {
      const r = renderPtx(k, { target });
      const res = runPtxas(r.ptx, arch, k.name);
      const first = res.resources[0];
      out.push({
        kernel: k.name,
        arch,
        ok: res.ok,
        ...(first ? { registers: first.registers, spillBytes: first.spillStoreBytes + first.spillLoadBytes, sharedBytes: first.sharedBytes } : {}),
        errors: res.diagnostics.filter((d) => d.severity !== 'warning').map((d) => (d.line !== undefined ? `line ${d.line}: ${d.message}` : d.message)),
      });
    }
  }
  return out;
}

/** One line per kernel: `name sm_80: 40 registers, 0 spill bytes, 512 bytes smem` or its errors. */
export function formatPtxasReport(rows: readonly KernelPtxasReport[]): string {
  return rows
    .map((r) => (r.ok ? `${r.kernel} ${r.arch}: ${r.registers ?? '?'} registers, ${r.spillBytes ?? '?'} spill bytes, ${r.sharedBytes ?? 0} bytes smem` : `${r.kernel} ${r.arch}: FAILED ${r.errors.join('; ')}`))
    .join('\n');
}
