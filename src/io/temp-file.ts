/**
 * Atomic file output: data goes to a temporary file next to the target, created exclusively (O_EXCL: an existing
 * file or symbolic link of that name is never opened, so a planted link cannot redirect the write), and is
 * renamed over the target only when complete. Temporary files of asynchronous writes are removed when the
 * process receives SIGINT, SIGTERM or SIGHUP, which is then re-raised so the process ends as it would have.
 */
import { closeSync, openSync, renameSync, rmSync } from 'node:fs';
import { open as openAsync, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { MakeError } from './files.js';

// ---- removal on signals, for asynchronous writes ----
//
// Only asynchronous writes register: their handler runs while the write waits on I/O. A synchronous write never
// yields to the event loop, so a handler could only run after it, and removing the handler then would swallow
// the signal; synchronous writes keep Node's default (the process ends at once).

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const live = new Set<string>();
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const path of live) rmSync(path, { force: true });
  live.clear();
  uninstall();
  // Re-raised without our handler, the signal ends the process as it would have (or reaches the caller's own).
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

/** Names to try: the conventional `X.tmp-PID` first, then random ones if that exists. */
function* candidates(target: string): Generator<string> {
  yield `${target}.tmp-${process.pid}`;
  for (let i = 0; i < 16; i++) yield `${target}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function exists(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'EEXIST';
}

function createError(target: string, e: unknown, fail: MakeError): Error {
  return fail(target, `cannot create a temporary file next to it: ${(e as Error).message}`);
}

/** Creates the temporary file synchronously; returns its path and descriptor. */
export function createTempSync(target: string, fail: MakeError): { path: string; fd: number } {
  for (const path of candidates(target)) {
    try {
      return { path, fd: openSync(path, 'wx', 0o644) };
    } catch (e) {
      if (!exists(e)) throw createError(target, e, fail);
    }
  }
  throw fail(target, `cannot create a temporary file next to it: every name tried exists`);
}

/** Renames a finished temporary file over its target; removes it if that fails. */
export function commitTemp(path: string, target: string, fail: MakeError): void {
  try {
    renameSync(path, target);
  } catch (e) {
    rmSync(path, { force: true });
    throw fail(target, `cannot move the finished file into place: ${(e as Error).message}`);
  } finally {
    live.delete(path);
    if (live.size === 0) uninstall();
  }
}

/** Removes an unfinished temporary file (closing `fd` first when given). */
export function discardTemp(path: string, fd?: number): void {
  if (fd !== undefined) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
  rmSync(path, { force: true });
  live.delete(path);
  if (live.size === 0) uninstall();
}

/** Creates the temporary file for an asynchronous write, registered for removal on SIGINT / SIGTERM / SIGHUP. */
export async function createTempAsync(target: string, fail: MakeError): Promise<{ path: string; handle: FileHandle }> {
  for (const path of candidates(target)) {
    try {
      const handle = await openAsync(path, 'wx', 0o644);
      live.add(path);
      install();
      return { path, handle };
    } catch (e) {
      if (!exists(e)) throw createError(target, e, fail);
    }
  }
  throw fail(target, `cannot create a temporary file next to it: every name tried exists`);
}
