/**
 * Safetensors input that JSON.parse or the file system would let through silently, or that used to crash or hang:
 * duplicate names, deep nesting, directories and FIFOs where a file is expected, duplicate index entries.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsError, SafetensorsStore } from '../../src/io/safetensors/index.js';
import { openError, rawFile } from '../helpers/safetensors-raw.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('modc-st-');
const f4 = (begin: number): { dtype: string; shape: number[]; data_offsets: number[] } => ({ dtype: 'F32', shape: [1], data_offsets: [begin, begin + 4] });

describe('safetensors headers the format forbids', () => {
  it('refuses a tensor name given twice, naming it and the byte offset of the second', () => {
    const header = `{"a":${JSON.stringify(f4(0))},"a":${JSON.stringify(f4(4))}}`;
    const e = openError(rawFile(join(dir, 'dup.safetensors'), header, new Uint8Array(8)));
    const second = 8 + header.lastIndexOf('"a"');
    expect(e.message).toBe(`${join(dir, 'dup.safetensors')}: byte ${second}: header: duplicate key "a"`);
    expect(e.offset).toBe(second);
  });

  it('refuses a field given twice inside an entry, and duplicate metadata keys', () => {
    const entry = '{"dtype":"F32","shape":[1],"dtype":"I32","data_offsets":[0,4]}';
    expect(openError(rawFile(join(dir, 'field.safetensors'), `{"w":${entry}}`, new Uint8Array(4))).message).toMatch(/byte \d+: header: duplicate key "dtype" in w$/);
    const meta = `{"__metadata__":{"k":"1","k":"2"},"w":${JSON.stringify(f4(0))}}`;
    expect(openError(rawFile(join(dir, 'meta.safetensors'), meta, new Uint8Array(4))).message).toMatch(/duplicate key "k" in __metadata__$/);
  });

  it('counts the offset in bytes when names before the duplicate are not ASCII', () => {
    const header = `{"é":${JSON.stringify(f4(0))},"b":${JSON.stringify(f4(4))},"b":${JSON.stringify(f4(8))}}`;
    const e = openError(rawFile(join(dir, 'utf8.safetensors'), header, new Uint8Array(12)));
    expect(e.offset).toBe(8 + Buffer.byteLength(header.slice(0, header.lastIndexOf('"b"'))));
  });

  it.each([
    ['a shape', (n: number) => `{"w":{"dtype":"F32","shape":${'['.repeat(n)}${']'.repeat(n)},"data_offsets":[0,0]}}`],
    ['the metadata', (n: number) => `{"__metadata__":${'{"a":'.repeat(n)}"x"${'}'.repeat(n)}}`],
  ])('refuses 100,000 levels of nesting in %s with an error, not a stack overflow', (_what, header) => {
    const e = openError(rawFile(join(dir, 'deep.safetensors'), header(100_000)));
    expect(e.message).toMatch(/deep.safetensors: byte \d+: header: nesting deeper than 128 levels$/);
  });
});

describe('paths that are not regular files', () => {
  it('refuses a directory given as a safetensors file, naming it', () => {
    const sub = join(dir, 'a-directory.safetensors');
    mkdirSync(sub);
    expect(openError(sub).message).toBe(`${sub}: is a directory, expected a safetensors file`);
  });

  it('refuses a FIFO at once instead of waiting for a writer', () => {
    const fifo = join(dir, 'fifo.safetensors');
    execFileSync('mkfifo', [fifo]);
    expect(openError(fifo).message).toBe(`${fifo}: is a FIFO (named pipe), expected a safetensors file`);
  });

  it('refuses a file or a missing path given as a checkpoint directory', () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    expect(() => SafetensorsStore.fromDir(file)).toThrow(new SafetensorsError({ file }, 'not a directory (expected a checkpoint directory)'));
    expect(() => SafetensorsStore.fromDir(join(dir, 'nowhere'))).toThrow(/nowhere: no such checkpoint directory$/);
  });
});

describe('sharded indexes', () => {
  it('refuses a tensor listed twice in weight_map, naming the line and column', () => {
    const ck = join(dir, 'dup-index');
    mkdirSync(ck);
    writeFileSync(join(ck, 'model.safetensors.index.json'), '{\n  "weight_map": {\n    "w": "a.safetensors",\n    "w": "b.safetensors"\n  }\n}\n');
    expect(() => SafetensorsStore.fromDir(ck)).toThrow(/model.safetensors.index.json: cannot read JSON: duplicate key "w" in weight_map at line 4, column 5$/);
  });

  it('refuses a shard that is a directory, naming it', () => {
    const ck = join(dir, 'dir-shard');
    mkdirSync(join(ck, 'a.safetensors'), { recursive: true });
    writeFileSync(join(ck, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { w: 'a.safetensors' } }));
    expect(() => SafetensorsStore.fromDir(ck)).toThrow(
      `${join(ck, 'model.safetensors.index.json')}: tensor 'w': shard 'a.safetensors' (holding 1 tensors): ${join(ck, 'a.safetensors')}: is a directory, expected a safetensors file`,
    );
  });
});
