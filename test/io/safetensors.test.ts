/** Safetensors reader and writer: round trips of every dtype, sharded checkpoints, and every malformed-input error. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bf16BitsToNumber, f16BitsToNumber, makeTensor } from '../../src/ir/index.js';
import { SafetensorsFile, SafetensorsStore, tensorEntry, writeSafetensors } from '../../src/io/safetensors/index.js';

import { openError, rawFile } from '../helpers/safetensors-raw.js';
import { tempDir } from '../helpers/temp.js';
const tmp = (): string => tempDir('modc-st-');

describe('safetensors round trip', () => {
  const dir = tmp();
  const f32 = makeTensor('f32', [2, 3], [1.5, -2, 3.25, 1e-30, Number.POSITIVE_INFINITY, -0]);
  // Values exactly representable in the 16-bit formats, including subnormals and extremes.
  const f16 = makeTensor('f16', [5], [f16BitsToNumber(0x0001), f16BitsToNumber(0x7bff), -0.333251953125, 65504, f16BitsToNumber(0x03ff)]);
  const bf16 = makeTensor('bf16', [2, 2], [bf16BitsToNumber(0x0001), bf16BitsToNumber(0x7f7f), -1.5, 3.140625]);
  const i32 = makeTensor('i32', [4], [0, -1, 2 ** 31 - 1, -(2 ** 31)]);
  const u32 = makeTensor('u32', [2], [0, 2 ** 32 - 1]);
  const bool = makeTensor('bool', [3], [1, 0, 1]);
  const ids = makeTensor('i32', [3], [-(2 ** 31), 5, 2 ** 31 - 1]);
  const bytes = makeTensor('i32', [3], [0, 7, 255]);
  const empty = makeTensor('f32', [0, 4]);
  const scalar = makeTensor('f32', [], [42]);
  const path = join(dir, 'all.safetensors');
  writeSafetensors(
    path,
    [
      tensorEntry('f32', f32),
      tensorEntry('f16', f16),
      tensorEntry('bf16', bf16),
      tensorEntry('i32', i32),
      tensorEntry('u32', u32),
      tensorEntry('bool', bool),
      tensorEntry('i64', ids, 'I64'),
      tensorEntry('u8', bytes, 'U8'),
      tensorEntry('empty', empty),
      tensorEntry('scalar', scalar),
    ],
    { format: 'pt' },
  );

  it('reads back every dtype exactly, in the dtype it maps to', () => {
    const f = SafetensorsFile.open(path);
    const cases: [string, ReturnType<typeof makeTensor>, string][] = [
      ['f32', f32, 'f32'], ['f16', f16, 'f16'], ['bf16', bf16, 'bf16'], ['i32', i32, 'i32'], ['u32', u32, 'u32'],
      ['bool', bool, 'bool'], ['i64', ids, 'i32'], ['u8', bytes, 'i32'], ['empty', empty, 'f32'], ['scalar', scalar, 'f32'],
    ];
    for (const [name, want, dtype] of cases) {
      const got = f.get(name);
      expect(got.dtype).toBe(dtype);
      expect(got.shape).toEqual(want.shape);
      expect(Array.from(got.data)).toEqual(Array.from(want.data));
    }
    expect(Object.is(f.get('f32').data[5], -0)).toBe(true);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect(f.info('i64')).toMatchObject({ stDtype: 'I64', shape: [3] });
    f.close();
  });

  it('writes the format exactly: 8-byte length, space-padded header aligned to 8, data in header order', () => {
    const buf = readFileSync(path);
    const n = Number(buf.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = buf.subarray(8, 8 + n).toString('utf8');
    expect(text).toMatch(/^\{"__metadata__":\{"format":"pt"\},"f32":\{"dtype":"F32","shape":\[2,3\],"data_offsets":\[0,24\]\}/);
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(text.slice(text.trimEnd().length)).toMatch(/^ *$/);
    expect(buf.readFloatLE(8 + n)).toBe(1.5);
    expect(buf.readUInt16LE(8 + n + 24)).toBe(0x0001); // first f16 element, right after the 24 bytes of f32
  });

  it('reads lazily: a tensor whose bytes are later damaged is only caught when it is read', () => {
    const p = join(dir, 'lazy.safetensors');
    writeSafetensors(p, [tensorEntry('a', makeTensor('i32', [2], [1, 2])), tensorEntry('b', makeTensor('bool', [2], [0, 1]))]);
    const buf = readFileSync(p);
    buf[buf.length - 1] = 7;
    writeFileSync(p, buf);
    const f = SafetensorsFile.open(p);
    expect(Array.from(f.get('a').data)).toEqual([1, 2]);
    expect(() => f.get('b')).toThrow(/lazy.safetensors: tensor 'b': byte \d+: BOOL element 1 is byte 7, not 0 or 1/);
    f.close();
  });

  it('refuses to write values a dtype cannot hold exactly', () => {
    expect(() => writeSafetensors(join(dir, 'x.safetensors'), [tensorEntry('w', makeTensor('f32', [1], [0.1]), 'F16')])).toThrow(/tensor 'w': element 0 = 0.10000000149011612 is not exactly representable in F16/);
    expect(() => writeSafetensors(join(dir, 'y.safetensors'), [tensorEntry('u', makeTensor('i32', [2], [1, 256]), 'U8')])).toThrow(/tensor 'u': element 1 = 256 does not fit in U8/);
  });
});

describe('sharded checkpoints', () => {
  // The checkpoint sits one level down, so the escaping shard written next to it stays in the temporary directory.
  const dir = join(tmp(), 'checkpoint');
  mkdirSync(dir);
  const a = makeTensor('f32', [2], [1, 2]);
  const b = makeTensor('bf16', [3], [1, 2, 3]);
  const c = makeTensor('f16', [1, 2], [0.5, 0.25]);
  writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), [tensorEntry('a', a), tensorEntry('b', b)]);
  writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), [tensorEntry('c', c)]);
  const index = (map: Record<string, string>): void =>
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 18 }, weight_map: map }));

  it('loads every tensor from its shard through the index', () => {
    index({ a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' });
    const s = SafetensorsStore.fromDir(dir);
    expect(s.names().sort()).toEqual(['a', 'b', 'c']);
    expect(Array.from(s.get('b').data)).toEqual([1, 2, 3]);
    expect(s.get('c')).toMatchObject({ dtype: 'f16', shape: [1, 2] });
    expect(s.info('c').file).toBe(join(dir, 'model-00002-of-00002.safetensors'));
    expect(s.has('zzz')).toBe(false);
    expect(() => s.get('zzz')).toThrow(/model.safetensors.index.json: tensor 'zzz': no such tensor in the checkpoint/);
    s.close();
  });

  it('rejects shard names that escape the checkpoint directory', () => {
    const outside = join(dir, '..', 'outside.safetensors');
    writeSafetensors(outside, [tensorEntry('a', a)]);
    index({ a: '../outside.safetensors' });
    expect(() => SafetensorsStore.fromDir(dir)).toThrow(/model.safetensors.index.json: tensor 'a': shard '..\/outside.safetensors' escapes the checkpoint directory/);
    index({ a: outside });
    expect(() => SafetensorsStore.fromDir(dir)).toThrow(/shard '.*outside.safetensors' escapes the checkpoint directory/);
    index({ a: 'sub/../../outside.safetensors' });
    expect(() => SafetensorsStore.fromDir(dir)).toThrow(/escapes the checkpoint directory/);
  });

  it('names a missing shard, a shard lacking a mapped tensor, and a malformed index', () => {
    index({ a: 'model-00001-of-00002.safetensors', c: 'model-00003-of-00003.safetensors' });
    expect(() => SafetensorsStore.fromDir(dir)).toThrow(/tensor 'c': shard 'model-00003-of-00003.safetensors' \(holding 1 tensors\) does not exist/);
    index({ a: 'model-00001-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' });
    expect(() => SafetensorsStore.fromDir(dir)).toThrow(/shard 'model-00001-of-00002.safetensors' lacks 1 tensors the index maps to it: 'c'/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": [');
    expect(() => SafetensorsStore.fromDir(dir)).toThrow(/model.safetensors.index.json: cannot read JSON/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weights": {}}');
    expect(() => SafetensorsStore.fromDir(dir)).toThrow(/index must be an object with a 'weight_map' object/);
    writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": {"a": 3}}');
    expect(() => SafetensorsStore.fromDir(dir)).toThrow(/tensor 'a': weight_map entry must be a file name, got 3/);
  });

  it('says what is missing in a directory without safetensors', () => {
    const empty = tmp();
    expect(() => SafetensorsStore.fromDir(empty)).toThrow(/no model.safetensors or model.safetensors.index.json/);
    writeFileSync(join(empty, 'pytorch_model.bin'), 'x');
    expect(() => SafetensorsStore.fromDir(empty)).toThrow(/PyTorch .bin\/.pt checkpoints are not read/);
  });
});

describe('malformed safetensors files', () => {
  const dir = tmp();
  const f4 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const data8 = new Uint8Array(8);
  let k = 0;
  const file = (header: unknown, data?: Uint8Array, length?: bigint): string => rawFile(join(dir, `bad${k++}.safetensors`), header, data, length);

  it('a file shorter than the header length field', () => {
    const p = join(dir, 'tiny.safetensors');
    writeFileSync(p, new Uint8Array(5));
    expect(openError(p).message).toBe(`${p}: byte 0: file has 5 bytes, fewer than the 8-byte header length`);
  });

  it('a header length larger than the file, or over 100 MB', () => {
    const p = file({ w: f4 }, data8, 1000n);
    expect(openError(p).message).toBe(`${p}: byte 0: header length 1000 is larger than the file (${8 + JSON.stringify({ w: f4 }).length + 8} bytes): truncated or not a safetensors file`);
    expect(openError(file({ w: f4 }, data8, 200_000_000n)).message).toMatch(/byte 0: header length 200000000 exceeds the 100000000-byte limit/);
    expect(openError(file({ w: f4 }, data8, 2n ** 64n - 1n)).message).toMatch(/header length 18446744073709551615 exceeds/);
  });

  it('a truncated data section', () => {
    const p = file({ w: f4 }, new Uint8Array(5));
    const e = openError(p);
    expect(e.tensor).toBe('w');
    expect(e.message).toMatch(/tensor 'w': byte \d+: data_offsets \[0, 8\] reach past the end of the data section \(5 bytes\): the file is truncated/);
  });

  it('invalid JSON, invalid UTF-8, a header that is not an object', () => {
    expect(openError(file('{"w": {"dtype": "F32",')).message).toMatch(/byte 30: header: unexpected end of the JSON text \(expected a property name in double quotes\)$/);
    const p = join(dir, 'utf8.safetensors');
    const bad = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]);
    writeFileSync(p, bad);
    expect(openError(p).message).toMatch(/header is not valid UTF-8/);
    expect(openError(file('[1, 2]')).message).toMatch(/header must be a JSON object of tensors/);
    expect(openError(file({ __metadata__: { a: 1 } })).message).toMatch(/__metadata__ must be an object of strings/);
  });

  it('overlapping, out-of-range, gapped and trailing offsets', () => {
    const overlap = openError(file({ a: f4, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8));
    expect(overlap.message).toMatch(/tensor 'b': byte \d+: data_offsets \[4, 8\] overlap tensor 'a' \[0, 8\]/);
    expect(openError(file({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, data8)).message).toMatch(/tensor 'a': .*data_offsets \[8, 16\] reach past the end of the data section \(8 bytes\)/);
    expect(openError(file({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, data8)).message).toMatch(/bytes \[0, 4\) of the data section belong to no tensor \(before tensor 'a'\)/);
    expect(openError(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, data8)).message).toMatch(/4 bytes after the last tensor belong to no tensor/);
    expect(openError(file({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, data8)).message).toMatch(/data_offsets \[8, 4\] end before begin/);
    expect(openError(file({ a: { dtype: 'F32', shape: [1], data_offsets: [0, -4] } }, data8)).message).toMatch(/data_offsets must be two non-negative integers/);
  });

  it('a byte size that does not match shape x dtype', () => {
    const e = openError(file({ w: { dtype: 'F16', shape: [3], data_offsets: [0, 8] } }, data8));
    expect(e.message).toMatch(/tensor 'w': byte \d+: data_offsets \[0, 8\] hold 8 bytes, but shape \[3\] x F16 needs 6/);
  });

  it('unknown and unsupported dtypes, bad shapes, bad entries', () => {
    expect(openError(file({ w: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, data8)).message).toMatch(/tensor 'w': unknown dtype 'Q7' \(modc reads F32, F16, BF16, I32, U32, I64, U8, BOOL\)/);
    expect(openError(file({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, data8)).message).toMatch(/tensor 'w': unsupported dtype 'F64'/);
    expect(openError(file({ w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, data8)).message).toMatch(/shape must be a list of non-negative integers, got \[2.5\]/);
    expect(openError(file({ w: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, data8)).message).toMatch(/has too many elements/);
    expect(openError(file({ w: 7 }, data8)).message).toMatch(/tensor 'w': header entry must be an object/);
  });

  it('I64 values outside i32 fail naming the element', () => {
    const data = new Uint8Array(16);
    new DataView(data.buffer).setBigInt64(8, 2n ** 40n, true);
    const p = file({ ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    const f = SafetensorsFile.open(p);
    expect(() => f.get('ids')).toThrow(/tensor 'ids': byte \d+: I64 element 1 = 1099511627776 does not fit in i32/);
    f.close();
  });

  it('a file truncated after it was opened fails at the read, naming the offset', () => {
    const p = file({ w: f4 }, data8);
    const f = SafetensorsFile.open(p);
    writeFileSync(p, readFileSync(p).subarray(0, 20));
    expect(() => f.get('w')).toThrow(new RegExp(`tensor 'w': byte ${f.header.dataStart}: unexpected end of file \\(needed 8 bytes`));
    f.close();
  });

  it('a file that does not exist', () => {
    expect(openError(join(dir, 'nope.safetensors')).message).toMatch(/nope.safetensors: cannot open the safetensors file: no such file/);
  });

  it('accepts zero-size tensors at any offset boundary', () => {
    const f = SafetensorsFile.open(file({ a: f4, z: { dtype: 'F32', shape: [0], data_offsets: [8, 8] }, y: { dtype: 'BOOL', shape: [0, 3], data_offsets: [0, 0] } }, data8));
    expect(f.get('z').shape).toEqual([0]);
    expect(f.get('y').shape).toEqual([0, 3]);
    f.close();
  });
});

describe('the store over a directory', () => {
  it('falls back to the only .safetensors file', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'x'));
    writeSafetensors(join(dir, 'weights.safetensors'), [tensorEntry('w', makeTensor('f32', [1], [3]))]);
    const s = SafetensorsStore.fromDir(dir);
    expect(Array.from(s.get('w').data)).toEqual([3]);
    s.close();
  });
});
