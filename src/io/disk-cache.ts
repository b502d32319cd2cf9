/**
 * modc's persistent cache on disk (rendered kernels, compiled programs): one file per entry, named by a hash of
 * (namespace, kind, key), where the namespace is the compiler's build id, so a changed compiler never reads an
 * old entry. Entries are written to a temporary file and renamed into place (readers see a whole entry or none,
 * and two processes writing the same entry both succeed); each carries the hash of its key and of its payload,
 * so a truncated, edited or colliding entry is detected, removed and reported as a miss. The cache is bounded in
 * bytes: when a write takes it over the bound, the least recently used entries (by modification time, which
 * every hit refreshes) are removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const MAGIC = 'MODCACHE';
const FORMAT = 1;
/** Default bound: 512 MiB. */
export const DEFAULT_CACHE_BYTES = 512 * 2 ** 20;
/** Temporary files older than this are left by a process that died mid-write: removed when seen. */
const STALE_TEMP_MS = 10 * 60 * 1000;

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** Where the cache lives by default: $XDG_CACHE_HOME/modc, else ~/.cache/modc. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg !== undefined && xdg !== '' ? join(xdg, 'modc') : join(homedir(), '.cache', 'modc');
}

export interface DiskCacheOptions {
  readonly dir: string;
  /** The compiler build the entries belong to (entries of other builds are never read). */
  readonly namespace: string;
  readonly maxBytes?: number;
}

/** What a lookup found, for reports (`--verbose`) and tests. */
export type CacheEvent =
  | { readonly kind: 'hit'; readonly entry: string; readonly key: string }
  | { readonly kind: 'miss'; readonly entry: string; readonly key: string }
  | { readonly kind: 'bad'; readonly entry: string; readonly key: string; readonly reason: string }
  | { readonly kind: 'write'; readonly entry: string; readonly key: string; readonly bytes: number }
  | { readonly kind: 'evict'; readonly entry: string; readonly bytes: number };

export class DiskCache {
  readonly dir: string;
  readonly maxBytes: number;
  /** Every lookup, write and eviction of this process. */
  readonly events: CacheEvent[] = [];
  private total: number | undefined;

  constructor(private readonly opts: DiskCacheOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? DEFAULT_CACHE_BYTES;
  }

  /** The entry's file: <dir>/<kind>/<hash of namespace, kind and key>. */
  path(kind: string, key: string): string {
    return join(this.dir, kind, `${sha256(`${this.opts.namespace}\0${kind}\0${key}`).slice(0, 40)}.bin`);
  }

  /** The payload stored for (kind, key), verified; undefined if absent or damaged (a damaged entry is removed). */
  get(kind: string, key: string): Uint8Array | undefined {
    const file = this.path(kind, key);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      this.events.push({ kind: 'miss', entry: kind, key });
      return undefined;
    }
    const problem = this.check(bytes, kind, key);
    if (typeof problem === 'string') {
      this.events.push({ kind: 'bad', entry: kind, key, reason: `${file}: ${problem}` });
      rmSync(file, { force: true });
      this.total = undefined;
      return undefined;
    }
    try {
      const now = new Date();
      utimesSync(file, now, now);
    } catch {
      // Removed by another process meanwhile: the payload read is still whole.
    }
    this.events.push({ kind: 'hit', entry: kind, key });
    return problem;
  }

  /** Stores a payload (atomically: temporary file, then rename), then keeps the cache within its bound. */
  put(kind: string, key: string, payload: Uint8Array): void {
    const file = this.path(kind, key);
    const header = Buffer.from(JSON.stringify({ namespace: this.opts.namespace, kind, key: sha256(key), payloadBytes: payload.length, payload: sha256(payload) }));
    const head = Buffer.alloc(16);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(FORMAT, 8);
    head.writeUInt32LE(header.length, 12);
    mkdirSync(join(this.dir, kind), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      for (const part of [head, header, payload]) {
        let off = 0;
        while (off < part.length) off += writeSync(fd, part, off, part.length - off);
      }
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    renameSync(tmp, file);
    const bytes = head.length + header.length + payload.length;
    this.events.push({ kind: 'write', entry: kind, key, bytes });
    if (this.total !== undefined) this.total += bytes;
    if ((this.total ?? this.scanTotal()) > this.maxBytes) this.evict();
  }

  /** The payload, or what is wrong with the entry. */
  private check(bytes: Buffer, kind: string, key: string): Uint8Array | string {
    if (bytes.length < 16 || bytes.toString('latin1', 0, 8) !== MAGIC) return 'not a modc cache entry';
    if (bytes.readUInt32LE(8) !== FORMAT) return `cache entry format ${bytes.readUInt32LE(8)}, expected ${FORMAT}`;
    const headerLength = bytes.readUInt32LE(12);
    if (16 + headerLength > bytes.length) return 'truncated header';
    let h: unknown;
    try {
      h = JSON.parse(bytes.toString('utf8', 16, 16 + headerLength));
    } catch {
      return 'damaged header';
    }
    const header = typeof h === 'object' && h !== null ? (h as Record<string, unknown>) : {};
    if (header.namespace !== this.opts.namespace || header.kind !== kind || header.key !== sha256(key)) return 'entry of another key';
    const payload = bytes.subarray(16 + headerLength);
    if (header.payloadBytes !== payload.length) return `payload of ${payload.length} bytes, the header says ${String(header.payloadBytes)} (truncated)`;
    if (header.payload !== sha256(payload)) return 'payload hash mismatch (edited or damaged)';
    return payload;
  }

  private files(): { path: string; bytes: number; mtime: number }[] {
    const out: { path: string; bytes: number; mtime: number }[] = [];
    let kinds: string[];
    try {
      kinds = readdirSync(this.dir);
    } catch {
      return out;
    }
    const now = Date.now();
    for (const kind of kinds) {
      let names: string[];
      try {
        names = readdirSync(join(this.dir, kind));
      } catch {
        continue;
      }
      for (const name of names) {
        const path = join(this.dir, kind, name);
        try {
          const st = statSync(path);
          if (!st.isFile()) continue;
          if (name.includes('.tmp-')) {
            if (now - st.mtimeMs > STALE_TEMP_MS) rmSync(path, { force: true });
            continue;
          }
          out.push({ path, bytes: st.size, mtime: st.mtimeMs });
        } catch {
          // Removed by another process while listing.
        }
      }
    }
    return out;
  }

  private scanTotal(): number {
    this.total = this.files().reduce((a, f) => a + f.bytes, 0);
    return this.total;
  }

  /** Removes least recently used entries until the cache is within its bound. */
  evict(): void {
    const files = this.files().sort((a, b) => a.mtime - b.mtime);
    let total = files.reduce((a, f) => a + f.bytes, 0);
    for (const f of files) {
      if (total <= this.maxBytes) break;
      rmSync(f.path, { force: true });
      total -= f.bytes;
      this.events.push({ kind: 'evict', entry: f.path, bytes: f.bytes });
    }
    this.total = total;
  }
}
