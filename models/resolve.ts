/**
 * Resolves a model argument: a zoo name, a Hugging Face config.json (or a checkpoint directory holding one), or a
 * module under models/ that exports a ModelSpec as `default` or `model`.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, type HfConfigContext, modelFromHfConfig, type ModelSpec } from './config.js';
import { clipVisionFromHf } from './vision/clip-config.js';
import { isZooName, ZOO_NAMES, zooModel } from './zoo.js';
import { prefixed, readJsonFile } from '../src/io/files.js';

/** The geometry of a vision tower that `mm_vision_tower` names as a directory next to the config (as make-checkpoint writes). */
function localTower(dir: string, json: unknown): HfConfigContext {
  const name = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).mm_vision_tower : undefined;
  if (typeof name !== 'string' || name === '') return {};
  const cfg = join(isAbsolute(name) ? name : resolve(dir, name), 'config.json');
  if (!existsSync(cfg)) return {};
  const clip = clipVisionFromHf(readJsonFile(cfg, prefixed(ConfigError), { what: 'config file' }), cfg);
  return { visionTower: { imageSize: clip.imageSize, patchSize: clip.patchSize } };
}

function readConfig(file: string): ModelSpec {
  // A regular file (a FIFO would hang the read), of bounded size and nesting.
  const json = readJsonFile(file, prefixed(ConfigError), { what: 'config file' });
  return modelFromHfConfig(json, file, undefined, localTower(dirname(file), json));
}

function isModelSpec(v: unknown): v is ModelSpec {
  return typeof v === 'object' && v !== null && 'llm' in v && 'name' in v;
}

/** Compiled counterpart of a .ts source inside this package (dist/<path>.js), if built. */
function compiledPath(tsFile: string): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // here is <root>/models (ts-jest) or <root>/dist/models (built).
  const root = here.endsWith(join('dist', 'models')) ? resolve(here, '..', '..') : resolve(here, '..');
  const rel = relative(root, resolve(tsFile));
  const js = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
  return existsSync(js) ? js : undefined;
}

export async function resolveModel(arg: string): Promise<ModelSpec> {
  if (isZooName(arg)) return zooModel(arg);
  if (!existsSync(arg)) throw new ConfigError(`unknown model '${arg}': not a zoo model (${ZOO_NAMES.join(', ')}) and no such file`);
  if (statSync(arg).isDirectory()) {
    const cfg = join(arg, 'config.json');
    if (!existsSync(cfg)) throw new ConfigError(`${arg}: directory has no config.json`);
    return readConfig(cfg);
  }
  const ext = extname(arg);
  if (ext === '.json') return readConfig(arg);
  if (ext === '.ts' || ext === '.js' || ext === '.mjs') {
    const file = ext === '.ts' ? (compiledPath(arg) ?? arg) : arg;
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
    } catch (e) {
      const hint = ext === '.ts' && file === arg ? ' (TypeScript model files load from their compiled form: run `npm run build` first)' : '';
      throw new ConfigError(`${arg}: cannot load model module: ${(e as Error).message}${hint}`);
    }
    const spec = mod.default ?? mod.model;
    if (!isModelSpec(spec)) throw new ConfigError(`${arg}: module must export a ModelSpec as 'default' or 'model'`);
    return spec;
  }
  throw new ConfigError(`${arg}: expected a zoo name, a config.json, a checkpoint directory or a models/*.ts file`);
}
