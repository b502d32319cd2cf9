/**
 * Opening input files and checking output paths the way a careful tool does: an input must be a regular file (a
 * directory gives a clear error instead of a bare EISDIR, a FIFO an error instead of a hang), and an output's
 * directory is checked before any work is done. Every message starts with the path concerned; the caller picks
 * the error class (SafetensorsError, TokenizerError, ...), so each subsystem reports its own errors.
 */
import { accessSync, closeSync, constants, fstatSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseJsonText } from './json.js';

/** Largest config file read (config.json, generation_config.json, ...: real ones are a few kilobytes). */
export const MAX_CONFIG_BYTES = 16 << 20;

/** A file that cannot be read or written where no subsystem's own error applies (the CLI's `--out`). */
export class FileError extends Error {
  override name = 'FileError';
}

/** Builds the caller's error for `path` (every message is about one path, which the error must name). */
export type MakeError = (path: string, message: string) => Error;

/** A MakeError for error classes whose message is the whole text: `${path}: ${message}`. */
export function prefixed(ErrorClass: new (message: string) => Error): MakeError {
  return (path, message) => new ErrorClass(`${path}: ${message}`);
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    default:
      return err.message;
  }
}

/**
 * Opens `path` for reading and checks it is a regular file. O_NONBLOCK makes opening a FIFO return at once
 * (instead of waiting for a writer), so fstat can refuse it; it changes nothing for regular files.
 */
export function openRegularFile(path: string, fail: MakeError, what = 'file'): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw fail(path, `cannot open the ${what}: ${reason(e)}`);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw fail(path, `is ${kindOf(st)}, expected a ${what}`);
  }
  return { fd, size: st.size };
}

/** Reads a whole regular file; refuses files over `maxBytes` before reading them. */
export function readRegularFile(path: string, fail: MakeError, opts: { what?: string; maxBytes?: number } = {}): Buffer {
  const what = opts.what ?? 'file';
  const { fd, size } = openRegularFile(path, fail, what);
  try {
    if (opts.maxBytes !== undefined && size > opts.maxBytes) throw fail(path, `the ${what} has ${size} bytes, more than the ${opts.maxBytes}-byte limit`);
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return done === size ? buf : buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Reads a regular file as UTF-8 text. */
export function readTextFile(path: string, fail: MakeError, opts: { what?: string; maxBytes?: number } = {}): string {
  return readRegularFile(path, fail, opts).toString('utf8');
}

/**
 * Reads a JSON file: a regular file of at most `maxBytes` (default MAX_CONFIG_BYTES), nested at most 128 deep,
 * optionally without duplicate keys; errors say `PATH: cannot read JSON: ...` with the line and column.
 */
export function readJsonFile(path: string, fail: MakeError, opts: { what?: string; maxBytes?: number; uniqueKeys?: boolean } = {}): unknown {
  const text = readTextFile(path, fail, { what: opts.what ?? 'JSON file', maxBytes: opts.maxBytes ?? MAX_CONFIG_BYTES });
  return parseJsonText(text, (m) => fail(path, `cannot read JSON: ${m}`), { uniqueKeys: opts.uniqueKeys ?? false });
}

/** Whether `path` is an existing directory (false for files, missing paths and unreadable ones). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Checks, before any work is done, that a file can be written at `path`: its directory exists and is writable,
 * and `path` is not a directory. (An existing file is replaced.)
 */
export function checkOutputFile(path: string, fail: MakeError): void {
  const dir = dirname(resolve(path));
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (e) {
    const why = reason(e);
    throw fail(path, `cannot write here: directory ${dir} ${why === 'no such file' ? 'does not exist' : `cannot be read (${why})`}`);
  }
  if (!st.isDirectory()) throw fail(path, `cannot write here: ${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw fail(path, `cannot write here: directory ${dir} is not writable`);
  }
  let target: Stats | undefined;
  try {
    target = statSync(path);
  } catch {
    target = undefined;
  }
  if (target?.isDirectory()) throw fail(path, `is a directory; give a file name for the output`);
}
