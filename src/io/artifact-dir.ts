/**
 * Compiled-model artifacts on disk: writing a directory so that it appears whole or not at all (everything goes
 * into a temporary directory next to it, which is then renamed into place; an older artifact there is replaced,
 * any other non-empty directory is refused), and handing its files to the loader, which checks each against the
 * plan's record of it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';

/** The plan's file name (src/runtime/artifact.ts PLAN_FILE; io does not import the runtime). */
const PLAN_FILE = 'plan.json';

export class ArtifactDirError extends Error {
  override name = 'ArtifactDirError';
}

/** Writes plan.json, README.md and the kernel files into `dir` (replacing an artifact already there). */
export function writeArtifactDir(dir: string, plan: string, readme: string, files: ReadonlyMap<string, Uint8Array>): void {
  const target = resolve(dir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new ArtifactDirError(`${dir}: exists and is not a directory`);
    const entries = readdirSync(target);
    if (entries.length > 0 && !entries.includes(PLAN_FILE)) throw new ArtifactDirError(`${dir}: a non-empty directory that is not a modc artifact (no ${PLAN_FILE}); choose another --out`);
  }
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(tmp);
    for (const [path, bytes] of files) {
      mkdirSync(dirname(join(tmp, path)), { recursive: true });
      writeFileSync(join(tmp, path), bytes);
    }
    writeFileSync(join(tmp, 'README.md'), readme);
    // plan.json last: a directory with a plan is a complete artifact.
    writeFileSync(join(tmp, PLAN_FILE), plan);
    if (existsSync(target)) {
      const old = `${tmp}-old`;
      renameSync(target, old);
      renameSync(tmp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, target);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Writes a text file atomically (a temporary file next to it, renamed into place). */
export function writeTextFile(path: string, text: string): void {
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(tmp, text, { flag: 'wx' });
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Whether `dir` holds a compiled artifact (a plan.json). */
export function isArtifactDir(dir: string): boolean {
  return existsSync(join(dir, PLAN_FILE));
}

/** Whether a file or directory exists at `path`. */
export function pathExists(path: string): boolean {
  return existsSync(path);
}

/** An artifact directory's files for `loadArtifact` (src/runtime/artifact.ts), which checks them. */
export function artifactDirSource(dir: string): { readonly name: string; readonly plan: string; readonly read: (path: string) => Promise<Uint8Array> } {
  const planPath = join(dir, PLAN_FILE);
  if (!existsSync(planPath)) throw new ArtifactDirError(`${dir}: no ${PLAN_FILE} (compile a model into it with 'modc compile <model> --target wasm --out ${dir}')`);
  const root = resolve(dir);
  return {
    name: planPath,
    plan: readFileSync(planPath, 'utf8'),
    read: (path) => {
      const full = resolve(root, path);
      if (!full.startsWith(`${root}/`)) return Promise.reject(new ArtifactDirError(`${path}: outside the artifact directory ${dir}`));
      if (!existsSync(full)) return Promise.reject(new ArtifactDirError(`${full}: missing (the plan lists it): the artifact is incomplete`));
      return Promise.resolve(new Uint8Array(readFileSync(full)));
    },
  };
}
