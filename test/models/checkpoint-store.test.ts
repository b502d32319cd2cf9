/**
 * The lazy checkpoint store and the runner's upload of stored bytes: a bf16 checkpoint's weights reach a bf16
 * device buffer byte for byte as the converted path would write them (plain and packed, row windows too), f32
 * weights of a bf16 checkpoint go through conversion, and a wasm run from the lazy store equals a run from the
 * same tensors held in memory.
 */
import { openCheckpoint, buildLanguageModel } from '../../models/index.js';
import { wasmExecutor } from '../../src/backends/wasm/index.js';
import { MapStore } from '../../src/ir/index.js';
import type { ProgramWeight } from '../../src/kernel/program.js';
import { rawWeightChunks, weightBytes } from '../../src/runtime/weights.js';
import { writeCheckpoint } from '../../scripts/make-checkpoint.js';
import { tempDir } from '../helpers/temp.js';
import { join } from 'node:path';
import { type RawTensor, roundBf16 } from '../../src/ir/index.js';
import { SafetensorsStore } from '../../src/io/safetensors/store.js';
import { tensorEntry, writeSafetensors } from '../../src/io/safetensors/writer.js';

/** The chunks laid out in one buffer of `bytes`. */
function assemble(chunks: Iterable<{ offset: number; bytes: Uint8Array }>, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (const c of chunks) out.set(c.bytes, c.offset);
  return out;
}

describe('checkpoint store', () => {
  const dir = tempDir('modc-ckstore-');
  writeCheckpoint(dir, { kind: 'llama', dtype: 'bf16', numLayers: 2, hiddenSize: 64, intermediateSize: 96, vocabSize: 200, tokenizer: false });

  it('reads nothing at open; get converts, raw gives the stored bf16 bytes', () => {
    const ck = openCheckpoint(dir);
    try {
      const name = 'model.layers.0.mlp.down_proj.weight';
      expect(ck.weights.describe(name)).toEqual({ dtype: 'bf16', shape: [64, 96] });
      const t = ck.weights.get(name);
      const raw = ck.weights.raw(name);
      expect(raw?.dtype).toBe('bf16');
      expect(raw?.byteLength).toBe(64 * 96 * 2);
      const bytes = new Uint8Array(64 * 96 * 2);
      raw?.read(0, bytes);
      // bf16 bits are the top half of the f32 value.
      const bits = new Uint16Array(bytes.buffer);
      const f32 = new Uint32Array(new Float32Array(t.data as Float32Array).buffer);
      expect(Array.from(bits.subarray(0, 50))).toEqual(Array.from(f32.subarray(0, 50), (x) => x >>> 16));
      expect(() => ck.weights.get('no.such.weight')).toThrow("no weight named 'no.such.weight'");
    } finally {
      ck.close();
    }
  });

  it('uploads stored bytes exactly as the converted path would (plain, packed, a window of rows)', () => {
    const ck = openCheckpoint(dir);
    try {
      const name = 'model.layers.1.self_attn.q_proj.weight';
      const layouts: ProgramWeight['layout'][] = [{ kind: 'plain' }, { kind: 'plain', rows: { start: 8, count: 16 } }, { kind: 'packed', k: 64, n: 64, nr: 8 }, { kind: 'packed', k: 64, n: 24, nr: 8, rowStart: 16 }];
      for (const layout of layouts) {
        const w: ProgramWeight = { buffer: 0, name, layout, shape: [64, 64], dtype: 'bf16' };
        const want = weightBytes(ck.weights.get(name), w, 'bf16');
        const raw = ck.weights.raw(name);
        if (raw === undefined) throw new Error('no raw bytes');
        const chunks = rawWeightChunks(raw, w, 'bf16');
        if (chunks === undefined) throw new Error('no chunks');
        expect(assemble(chunks, want.byteLength)).toEqual(want);
        // A buffer of another type takes the converted path.
        expect(rawWeightChunks(raw, w, 'f32')).toBeUndefined();
      }
    } finally {
      ck.close();
    }
  });

  it('streams a weight larger than one chunk, reads only inside the tensor, and not after close', () => {
    const big = tempDir('modc-ckstream-');
    const rows = 1100;
    const k = 1000; // 2.2 MB of bf16: two copy chunks and a part, many pack chunks
    const data = Float32Array.from({ length: rows * k }, (_, i) => roundBf16(((i * 2654435761) % 1000) / 37 - 13));
    const path = join(big, 'w.safetensors');
    writeSafetensors(path, [tensorEntry('w', { dtype: 'bf16', shape: [rows, k], data })]);
    const store = SafetensorsStore.fromFile(path);
    const held = { dtype: 'bf16' as const, shape: [rows, k], data };
    const raw = (): RawTensor => {
      const r = store.readRaw('w');
      return { dtype: 'bf16', shape: r.shape, byteLength: r.byteLength, read: r.read };
    };
    try {
      const layouts: ProgramWeight['layout'][] = [{ kind: 'plain' }, { kind: 'plain', rows: { start: 3, count: 1051 } }, { kind: 'packed', k, n: rows, nr: 8 }, { kind: 'packed', k, n: 1001, nr: 16, rowStart: 33 }];
      for (const layout of layouts) {
        const w: ProgramWeight = { buffer: 0, name: 'w', layout, shape: [rows, k], dtype: 'bf16' };
        const want = weightBytes(held, w, 'bf16');
        // Each chunk is valid until the next: copied as it comes, as a device's write does.
        const chunks: { offset: number; bytes: Uint8Array }[] = [];
        for (const c of rawWeightChunks(raw(), w, 'bf16') ?? []) chunks.push({ offset: c.offset, bytes: c.bytes.slice() });
        expect(chunks.length).toBeGreaterThan(1);
        const got = assemble(chunks, want.byteLength);
        // Compared as one verdict (a diff of megabytes would take minutes to print): the first differing byte.
        expect({ layout, firstDiff: got.findIndex((b, i) => b !== want[i]) }).toEqual({ layout, firstDiff: -1 });
      }
      const r = raw();
      expect(() => r.read(r.byteLength - 2, new Uint8Array(4))).toThrow(`tensor 'w' of ${path}: bytes [${r.byteLength - 2}, ${r.byteLength + 2}) are outside its ${r.byteLength} bytes`);
      store.close();
      expect(() => r.read(0, new Uint8Array(4))).toThrow('file is closed');
    } finally {
      store.close();
    }
  });

  it('runs on wasm from the lazy store as from the same tensors in memory', async () => {
    const ck = openCheckpoint(dir);
    const eager = new MapStore(ck.weights.names().map((n) => [n, ck.weights.get(n)] as const));
    const graph = buildLanguageModel(ck.spec, { weightDtype: ck.weightDtype });
    const ids = Int32Array.from({ length: 7 }, (_, i) => 3 + i * 11);
    const run = async (store: MapStore | typeof ck.weights): Promise<Float32Array> => {
      const exec = wasmExecutor({ threads: 1 });
      try {
        const p = await exec.prepare(graph, store);
        const out = await p.run({ input_ids: { dtype: 'i32', shape: [ids.length], data: ids } });
        p.dispose();
        return Float32Array.from(out.logits?.data ?? []);
      } finally {
        await exec.dispose();
      }
    };
    try {
      const lazy = await run(ck.weights);
      expect(lazy.length).toBe(7 * 200);
      expect(Array.from(lazy)).toEqual(Array.from(await run(eager)));
    } finally {
      ck.close();
    }
  });
});
