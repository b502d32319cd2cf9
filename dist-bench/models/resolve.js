/**
 * Resolves a model argument: a zoo name, a Hugging Face config.json (or a checkpoint directory holding one), or a
 * module under models/ that exports a ModelSpec as `default` or `model`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, modelFromHfConfig } from './config.js';
import { isZooName, ZOO_NAMES, zooModel } from './zoo.js';
function readConfig(file) {
    let json;
    try {
        json = JSON.parse(readFileSync(file, 'utf8'));
    }
    catch (e) {
        throw new ConfigError(`${file}: cannot read JSON: ${e.message}`);
    }
    return modelFromHfConfig(json, file);
}
function isModelSpec(v) {
    return typeof v === 'object' && v !== null && 'llm' in v && 'name' in v;
}
/** Compiled counterpart of a .ts source inside this package (dist/<path>.js), if built. */
function compiledPath(tsFile) {
    const here = dirname(fileURLToPath(import.meta.url));
    // here is <root>/models (ts-jest) or <root>/dist/models (built).
    const root = here.endsWith(join('dist', 'models')) ? resolve(here, '..', '..') : resolve(here, '..');
    const rel = relative(root, resolve(tsFile));
    const js = join(root, 'dist', rel.replace(/\.ts$/, '.js'));
    return existsSync(js) ? js : undefined;
}
export async function resolveModel(arg) {
    if (isZooName(arg))
        return zooModel(arg);
    if (!existsSync(arg))
        throw new ConfigError(`unknown model '${arg}': not a zoo model (${ZOO_NAMES.join(', ')}) and no such file`);
    if (statSync(arg).isDirectory()) {
        const cfg = join(arg, 'config.json');
        if (!existsSync(cfg))
            throw new ConfigError(`${arg}: directory has no config.json`);
        return readConfig(cfg);
    }
    const ext = extname(arg);
    if (ext === '.json')
        return readConfig(arg);
    if (ext === '.ts' || ext === '.js' || ext === '.mjs') {
        const file = ext === '.ts' ? (compiledPath(arg) ?? arg) : arg;
        let mod;
        try {
            mod = (await import(pathToFileURL(resolve(file)).href));
        }
        catch (e) {
            const hint = ext === '.ts' && file === arg ? ' (TypeScript model files load from their compiled form: run `npm run build` first)' : '';
            throw new ConfigError(`${arg}: cannot load model module: ${e.message}${hint}`);
        }
        const spec = mod.default ?? mod.model;
        if (!isModelSpec(spec))
            throw new ConfigError(`${arg}: module must export a ModelSpec as 'default' or 'model'`);
        return spec;
    }
    throw new ConfigError(`${arg}: expected a zoo name, a config.json, a checkpoint directory or a models/*.ts file`);
}
