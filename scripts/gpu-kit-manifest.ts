/**
 * The GPU run kit's manifest writer: for each kernel case, the emitted PTX file, the launch (entry, grid, block,
 * parameters in order), every buffer with its storage dtype, size, input data file and expected output file,
 * and how outputs are compared. The kit's Python runner (gpu-kit/run_kit.py) reads exactly this on a machine
 * with a GPU and no Node.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderPtx } from '../src/backends/cuda-ptx/render.js';
import type { PtxTargetChoice } from '../src/backends/cuda-ptx/isa.js';
import type { HostArray } from '../src/backends/wasm/kernel-runner.js';
import type { ElemType } from '../src/kernel/ir.js';
import type { KernelCase } from '../test/kernel/device-harness.js';

export const KIT_FORMAT = 'modc-gpu-kit/1';
/** What travels to the accelerator machine at most (its working-tree limit). */
export const KIT_MAX_BYTES = 64 * 2 ** 20;

/** A kernel case of the shared suite with its expected outputs filled in. */
export interface KitCase extends KernelCase {
  readonly expect: Readonly<Record<string, HostArray>>;
}

export type KitParam = { readonly kind: 'buffer'; readonly buffer: string } | { readonly kind: 'i32' | 'f32'; readonly name: string; readonly value: number };

export interface KitBuffer {
  readonly name: string;
  readonly dtype: ElemType;
  readonly elems: number;
  readonly bytes: number;
  readonly access: 'read' | 'write' | 'readwrite';
  readonly input: string;
  readonly expect: string | null;
}

export interface KitManifestCase {
  readonly name: string;
  readonly kernel: string;
  readonly entry: string;
  readonly ptx: string;
  readonly grid: readonly [number, number, number];
  readonly block: readonly [number, number, number];
  readonly params: readonly KitParam[];
  readonly buffers: readonly KitBuffer[];
  readonly compare: KitCase['compare'];
}

export interface KitManifest {
  readonly format: string;
  readonly ptx: { readonly version: string; readonly target: string };
  readonly timing: { readonly warmup: number; readonly iterations: number };
  readonly cases: readonly KitManifestCase[];
}

export interface GpuKit {
  readonly manifest: KitManifest;
  /** Relative path -> contents. */
  readonly files: ReadonlyMap<string, string | Uint8Array>;
  readonly bytes: number;
}

const slug = (s: string): string => s.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80);
const bytesOf = (a: HostArray): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Builds the kit in memory: one PTX per distinct kernel, data files per case, the manifest. */
export function buildGpuKit(cases: readonly KitCase[], choice: PtxTargetChoice, timing = { warmup: 3, iterations: 20 }): GpuKit {
  const files = new Map<string, string | Uint8Array>();
  const out: KitManifestCase[] = [];
  const used = new Set<string>();
  for (const c of cases) {
    let id = slug(c.name);
    for (let i = 2; used.has(id); i++) id = `${slug(c.name)}_${i}`;
    used.add(id);
    const r = renderPtx(c.kernel, { target: choice });
    const ptxPath = `kernels/${r.entry}.ptx`;
    const existing = files.get(ptxPath);
    if (existing !== undefined && existing !== r.ptx) throw new Error(`gpu kit: two different kernels render to entry '${r.entry}' (case '${c.name}')`);
    files.set(ptxPath, r.ptx);
    const buffers: KitBuffer[] = c.kernel.buffers.map((b) => {
      const host = c.buffers[b.name];
      if (host === undefined) throw new Error(`gpu kit: case '${c.name}' has no data for buffer '${b.name}'`);
      const input = `data/${id}/${b.name}.bin`;
      files.set(input, bytesOf(host));
      const want = c.expect[b.name];
      let expect: string | null = null;
      if (b.access !== 'read' && want !== undefined) {
        expect = `data/${id}/${b.name}.expect.bin`;
        files.set(expect, bytesOf(want));
      }
      return { name: b.name, dtype: b.elem, elems: host.length, bytes: host.byteLength, access: b.access, input, expect };
    });
    const params: KitParam[] = r.params.map((p) =>
      p.kind === 'buffer' ? { kind: 'buffer', buffer: p.name } : { kind: p.kind, name: p.name, value: c.params[p.name] ?? Number.NaN },
    );
    for (const p of params) if (p.kind !== 'buffer' && !Number.isFinite(p.value)) throw new Error(`gpu kit: case '${c.name}' gives no value for param '${p.name}'`);
    out.push({ name: c.name, kernel: c.kernel.name, entry: r.entry, ptx: ptxPath, grid: c.grid, block: [c.kernel.threads, 1, 1], params, buffers, compare: c.compare });
  }
  const manifest: KitManifest = { format: KIT_FORMAT, ptx: { version: choice.version, target: choice.target }, timing, cases: out };
  files.set('manifest.json', `${JSON.stringify(manifest, null, 1)}\n`);
  let bytes = 0;
  for (const v of files.values()) bytes += typeof v === 'string' ? Buffer.byteLength(v) : v.byteLength;
  if (bytes > KIT_MAX_BYTES) throw new Error(`gpu kit: ${bytes} bytes exceed the ${KIT_MAX_BYTES} bytes that travel to the accelerator machine`);
  return { manifest, files, bytes };
}

/** Writes the kit's files under `dir`. */
export function writeGpuKit(dir: string, kit: GpuKit, extra: ReadonlyMap<string, string> = new Map()): void {
  for (const [rel, data] of [...kit.files, ...extra]) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }
}
