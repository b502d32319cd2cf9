/**
 * Parsing and validation of a safetensors header: the JSON table of tensors. Every entry is checked before any
 * data is read (dtype, shape, byte size against shape x dtype, offsets inside the data section, no overlap, no gap),
 * so a reader never allocates from an unchecked number.
 */
import { KNOWN_UNSUPPORTED, SafetensorsError, ST_DTYPE_BYTES, ST_DTYPES, isStDType, type StDType } from './format.js';
import { scanJson, showValue } from '../json.js';

export interface TensorInfo {
  readonly name: string;
  readonly stDtype: StDType;
  readonly shape: readonly number[];
  /** Byte range [begin, end) relative to the start of the data section. */
  readonly begin: number;
  readonly end: number;
}

export interface Header {
  /** Length of the JSON header in bytes (the file's first 8 bytes). */
  readonly headerLength: number;
  /** File offset of the data section: 8 + headerLength. */
  readonly dataStart: number;
  /** Tensors in data order. */
  readonly tensors: readonly TensorInfo[];
  readonly byName: ReadonlyMap<string, TensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function entry(file: string, name: string, v: unknown, dataStart: number): TensorInfo {
  const fail = (msg: string, offset?: number): never => {
    throw new SafetensorsError({ file, tensor: name, ...(offset !== undefined ? { offset } : {}) }, msg);
  };
  if (!isObject(v)) return fail(`header entry must be an object with dtype, shape and data_offsets, got ${showValue(v)}`);
  const { dtype, shape, data_offsets: offsets } = v;
  if (typeof dtype !== 'string') return fail(`dtype must be a string, got ${showValue(dtype)}`);
  if (!isStDType(dtype)) {
    const known = (KNOWN_UNSUPPORTED as readonly string[]).includes(dtype);
    return fail(`${known ? 'unsupported' : 'unknown'} dtype '${dtype}' (modc reads ${ST_DTYPES.join(', ')})`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) return fail(`shape must be a list of non-negative integers, got ${showValue(shape)}`);
  const dims = shape as number[];
  let numel = 1;
  for (const d of dims) {
    numel *= d;
    if (!Number.isSafeInteger(numel)) return fail(`shape [${dims.join(', ')}] has too many elements`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    return fail(`data_offsets must be two non-negative integers [begin, end], got ${showValue(offsets)}`);
  const [begin, end] = offsets as [number, number];
  if (end < begin) return fail(`data_offsets [${begin}, ${end}] end before begin`, dataStart + begin);
  const want = numel * ST_DTYPE_BYTES[dtype];
  if (end - begin !== want) return fail(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${dims.join(', ')}] x ${dtype} needs ${want}`, dataStart + begin);
  return { name, stDtype: dtype, shape: dims, begin, end };
}

/**
 * Validates the header JSON (`bytes`, without the 8-byte length) of a file whose data section has `dataLength`
 * bytes. Throws SafetensorsError naming the file, the tensor and the byte offset of the first problem.
 */
export function parseHeader(file: string, bytes: Uint8Array, dataLength: number): Header {
  const headerLength = bytes.length;
  const dataStart = 8 + headerLength;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SafetensorsError({ file, offset: 8 }, 'header is not valid UTF-8');
  }
  // The format forbids duplicate names (JSON.parse would silently keep the last entry, so the file would read as
  // something else than what other readers see), and bounds nesting as the safetensors library's parser does.
  const problem = scanJson(text, { uniqueKeys: true });
  if (problem !== undefined) throw new SafetensorsError({ file, offset: 8 + new TextEncoder().encode(text.slice(0, problem.index)).length }, `header: ${problem.message}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError({ file, offset: 8 }, `header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) throw new SafetensorsError({ file, offset: 8 }, 'header must be a JSON object of tensors');
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isObject(v) || !Object.values(v).every((s) => typeof s === 'string'))
        throw new SafetensorsError({ file, offset: 8 }, `__metadata__ must be an object of strings, got ${showValue(v)}`);
      metadata = v as Record<string, string>;
      continue;
    }
    tensors.push(entry(file, name, v, dataStart));
  }
  // Data order; a zero-byte tensor sorts before a tensor starting at the same offset.
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: TensorInfo | undefined;
  for (const t of tensors) {
    if (t.end > dataLength)
      throw new SafetensorsError({ file, tensor: t.name, offset: dataStart + t.begin }, `data_offsets [${t.begin}, ${t.end}] reach past the end of the data section (${dataLength} bytes): the file is truncated or the offsets are wrong`);
    if (t.begin < pos)
      throw new SafetensorsError({ file, tensor: t.name, offset: dataStart + t.begin }, `data_offsets [${t.begin}, ${t.end}] overlap tensor '${prev?.name ?? ''}' [${prev?.begin ?? 0}, ${prev?.end ?? pos}]`);
    if (t.begin > pos) throw new SafetensorsError({ file, offset: dataStart + pos }, `bytes [${pos}, ${t.begin}) of the data section belong to no tensor (before tensor '${t.name}')`);
    pos = t.end;
    if (t.end > t.begin) prev = t;
  }
  if (pos !== dataLength)
    throw new SafetensorsError({ file, offset: dataStart + pos }, `${dataLength - pos} bytes after the last tensor belong to no tensor (data section ${dataLength} bytes, tensors end at ${pos})`);
  return { headerLength, dataStart, tensors, byName: new Map(tensors.map((t) => [t.name, t])), metadata };
}
