/**
 * A checkpoint's tensors as one lazy TensorStore: a single `model.safetensors`, or shards listed by
 * `model.safetensors.index.json`. Shard names are checked to stay inside the checkpoint directory.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { DType, HostTensor, TensorStore } from '../../ir/index.js';
import { SafetensorsError, ST_TO_DTYPE } from './format.js';
import type { TensorInfo } from './header.js';
import { SafetensorsFile, ScratchBuffer } from './reader.js';
import { isDirectory, readJsonFile } from '../files.js';
import { showValue } from '../json.js';

/** An index names every tensor once: 100 MB holds millions of entries, far beyond any checkpoint. */
const MAX_INDEX_BYTES = 100_000_000;

export const INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

export interface LocatedTensor extends TensorInfo {
  readonly file: string;
}

export class SafetensorsStore implements TensorStore {
  private constructor(
    /** The index file, or the single safetensors file. */
    readonly source: string,
    private readonly files: readonly SafetensorsFile[],
    private readonly where: ReadonlyMap<string, SafetensorsFile>,
    private readonly scratch: ScratchBuffer,
  ) {
    // One read buffer for all shards, sized to the largest tensor when a converting read first needs it.
    scratch.expect(Math.max(0, ...files.map((f) => f.largestTensorBytes())));
  }

  /** One file as a store. */
  static fromFile(path: string): SafetensorsStore {
    const scratch = new ScratchBuffer();
    const f = SafetensorsFile.open(path, scratch);
    return new SafetensorsStore(path, [f], new Map(f.names().map((n) => [n, f])), scratch);
  }

  /** A sharded checkpoint through its index file. */
  static fromIndex(indexPath: string): SafetensorsStore {
    const map = readIndex(indexPath);
    const dir = resolve(dirname(indexPath));
    const byShard = new Map<string, string[]>();
    for (const [tensor, shard] of map) {
      const list = byShard.get(shard) ?? [];
      list.push(tensor);
      byShard.set(shard, list);
    }
    const files: SafetensorsFile[] = [];
    const where = new Map<string, SafetensorsFile>();
    const scratch = new ScratchBuffer();
    try {
      for (const [shard, tensors] of byShard) {
        const path = resolve(dir, shard);
        const rel = relative(dir, path);
        if (isAbsolute(shard) || rel === '' || rel.startsWith('..') || isAbsolute(rel))
          throw new SafetensorsError({ file: indexPath, tensor: tensors[0] ?? '' }, `shard '${shard}' escapes the checkpoint directory ${dir}`);
        if (!existsSync(path)) throw new SafetensorsError({ file: indexPath, tensor: tensors[0] ?? '' }, `shard '${shard}' (holding ${tensors.length} tensors) does not exist`);
        const f = openShard(indexPath, shard, tensors, path, scratch);
        files.push(f);
        const absent = tensors.filter((t) => !f.has(t));
        if (absent.length)
          throw new SafetensorsError({ file: indexPath }, `shard '${shard}' lacks ${absent.length} tensors the index maps to it: ${absent.slice(0, 8).map((t) => `'${t}'`).join(', ')}${absent.length > 8 ? ', ...' : ''}`);
        for (const t of tensors) where.set(t, f);
      }
    } catch (e) {
      for (const f of files) f.close();
      throw e;
    }
    return new SafetensorsStore(indexPath, files, where, scratch);
  }

  /** The tensors of a checkpoint directory: the index if there is one, else model.safetensors, else the only *.safetensors file. */
  static fromDir(dir: string): SafetensorsStore {
    if (!isDirectory(dir)) throw new SafetensorsError({ file: dir }, existsSync(dir) ? 'not a directory (expected a checkpoint directory)' : 'no such checkpoint directory');
    const index = join(dir, INDEX_FILE);
    if (existsSync(index)) return SafetensorsStore.fromIndex(index);
    const single = join(dir, SINGLE_FILE);
    if (existsSync(single)) return SafetensorsStore.fromFile(single);
    const found = readdirSync(dir).filter((f) => f.endsWith('.safetensors'));
    const [only] = found;
    if (found.length === 1 && only !== undefined) return SafetensorsStore.fromFile(join(dir, only));
    const bin = readdirSync(dir).some((f) => f.endsWith('.bin') || f.endsWith('.pt'));
    throw new SafetensorsError(
      { file: dir },
      found.length > 1
        ? `${found.length} .safetensors files but no ${INDEX_FILE} to say which tensor is where`
        : `no ${SINGLE_FILE} or ${INDEX_FILE}${bin ? ' (PyTorch .bin/.pt checkpoints are not read: convert them to safetensors)' : ''}`,
    );
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  info(name: string): LocatedTensor {
    const f = this.where.get(name);
    if (f === undefined) throw new SafetensorsError({ file: this.source, tensor: name }, 'no such tensor in the checkpoint');
    return { ...f.info(name), file: f.path };
  }

  /** dtype and shape from the header: nothing is read. */
  describe(name: string): { dtype: DType; shape: readonly number[] } {
    const t = this.info(name);
    return { dtype: ST_TO_DTYPE[t.stDtype], shape: t.shape };
  }

  get(name: string): HostTensor {
    const f = this.where.get(name);
    if (f === undefined) throw new SafetensorsError({ file: this.source, tensor: name }, 'no such tensor in the checkpoint');
    return f.get(name);
  }

  /** A tensor's stored bytes without conversion, read in byte ranges (see SafetensorsFile.readRaw). */
  readRaw(name: string): ReturnType<SafetensorsFile['readRaw']> {
    const f = this.where.get(name);
    if (f === undefined) throw new SafetensorsError({ file: this.source, tensor: name }, 'no such tensor in the checkpoint');
    return f.readRaw(name);
  }

  /** File names (without directory) holding the tensors, for messages. */
  fileNames(): string[] {
    return this.files.map((f) => basename(f.path));
  }

  metadata(): Readonly<Record<string, string>> {
    return Object.assign({}, ...this.files.map((f) => f.metadata)) as Record<string, string>;
  }

  close(): void {
    for (const f of this.files) f.close();
    this.scratch.release();
  }
}

/** Opens a shard; a path that cannot be opened as a file is reported as the index entry that names it. */
function openShard(indexPath: string, shard: string, tensors: readonly string[], path: string, scratch: ScratchBuffer): SafetensorsFile {
  try {
    return SafetensorsFile.open(path, scratch);
  } catch (e) {
    if (e instanceof SafetensorsError && e.file === path && e.offset === undefined && e.tensor === undefined)
      throw new SafetensorsError({ file: indexPath, tensor: tensors[0] ?? '' }, `shard '${shard}' (holding ${tensors.length} tensors): ${e.message}`);
    throw e;
  }
}

/** The index must name each tensor once: with a duplicate, which shard is read would depend on the parser. */
function readIndex(path: string): Map<string, string> {
  const json = readJsonFile(path, (file, msg) => new SafetensorsError({ file }, msg), { what: 'index file', maxBytes: MAX_INDEX_BYTES, uniqueKeys: true });
  const map = typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Record<string, unknown>).weight_map : undefined;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new SafetensorsError({ file: path }, "index must be an object with a 'weight_map' object");
  const out = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || shard === '') throw new SafetensorsError({ file: path, tensor }, `weight_map entry must be a file name, got ${showValue(shard)}`);
    out.set(tensor, shard);
  }
  return out;
}
