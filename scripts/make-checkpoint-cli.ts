/**
 * `npm run make-checkpoint -- [options] --out DIR`: writes a tiny random Hugging Face checkpoint (scripts/
 * make-checkpoint.ts) of a chosen kind, dtype and size. Usage errors print one line and a pointer to --help.
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FIXTURE_KINDS, type FixtureKind, writeCheckpoint } from './make-checkpoint.js';

export const MAKE_CHECKPOINT_HELP = `usage: npm run make-checkpoint -- [--kind KIND] [--dtype f32|f16|bf16] [sizes] --out DIR

Writes a random checkpoint in exact Hugging Face layout (config.json, generation_config.json, tokenizer files,
model.safetensors or shards with model.safetensors.index.json) that modc run --checkpoint can run.

  --kind KIND            ${FIXTURE_KINDS.join(', ')} (default pmod-llava)
  --dtype D              weight dtype: f32 (default), f16 or bf16
  --vision-tower T       stub (default: a few tower tensors, as checkpoints carry) or full (a runnable tiny CLIP
                         tower, 28-pixel images in 14-pixel patches: a separate vision_tower/ directory for LLaVA
                         kinds, embedded for llava-hf kinds), so --image works
  --hidden-size D        hidden size (default 64)
  --layers L             decoder layers (default 8)
  --heads H              attention heads (default 4)
  --kv-heads K           key/value heads (default: half the heads)
  --intermediate-size I  MLP width (default 2 x hidden size)
  --vocab V              vocabulary size (default 384; the fixture tokenizer needs at least about 330)
  --shards N             split the weights into N files (default 1)
  --seed S               seed of the random weights (default 0)
  --tokenizer T          model (default: tokenizer.model, as LLaVA ships), json, both or none
  --out DIR              where to write (created if needed)`;

class UsageError extends Error {}

function int(values: Record<string, string | boolean | undefined>, name: string, min: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(v)}'`);
  return Number(v);
}

function choice<T extends string>(values: Record<string, string | boolean | undefined>, name: string, choices: readonly T[], fallback: T): T {
  const v = values[name] ?? fallback;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(v)}'`);
  return v as T;
}

/** Runs the command; returns the exit status. */
export function makeCheckpointCli(argv: readonly string[], out: (s: string) => void, err: (s: string) => void): number {
  try {
    let values: Record<string, string | boolean | undefined>;
    try {
      const opts = ['kind', 'dtype', 'shards', 'seed', 'out', 'tokenizer', 'vision-tower', 'hidden-size', 'layers', 'heads', 'kv-heads', 'intermediate-size', 'vocab'] as const;
      values = parseArgs({ args: [...argv], options: { ...Object.fromEntries(opts.map((o) => [o, { type: 'string' as const }])), help: { type: 'boolean', short: 'h' } }, strict: true }).values;
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (values.help === true) {
      out(MAKE_CHECKPOINT_HELP);
      return 0;
    }
    const dir = values.out;
    if (typeof dir !== 'string') throw new UsageError('--out DIR is required');
    const kind: FixtureKind = choice(values, 'kind', FIXTURE_KINDS, 'pmod-llava');
    const dtype = choice(values, 'dtype', ['f32', 'f16', 'bf16'] as const, 'f32');
    const tokenizer = choice(values, 'tokenizer', ['model', 'json', 'both', 'none'] as const, 'model');
    const sizes = {
      hiddenSize: int(values, 'hidden-size', 2),
      numLayers: int(values, 'layers', 1),
      numHeads: int(values, 'heads', 1),
      numKvHeads: int(values, 'kv-heads', 1),
      intermediateSize: int(values, 'intermediate-size', 1),
      vocabSize: int(values, 'vocab', 1),
    };
    const w = writeCheckpoint(dir, {
      kind,
      dtype,
      shards: int(values, 'shards', 1) ?? 1,
      seed: int(values, 'seed', 0) ?? 0,
      tokenizer: tokenizer === 'none' ? false : tokenizer,
      visionTower: choice(values, 'vision-tower', ['stub', 'full'] as const, 'stub'),
      ...Object.fromEntries(Object.entries(sizes).filter(([, v]) => v !== undefined)),
    });
    const l = w.spec.llm;
    out(`wrote ${w.spec.description} checkpoint (${kind}, ${dtype}, hidden ${l.hiddenSize}, ${l.numLayers} layers, ${l.numHeads} heads, vocabulary ${l.vocabSize}, ${w.tensors.size} tensors) to ${w.dir}: ${w.files.join(', ')}`);
    return 0;
  } catch (e) {
    err(`make-checkpoint: ${(e as Error).message}`);
    if (e instanceof UsageError) err("run 'npm run make-checkpoint -- --help' for the options");
    return e instanceof UsageError ? 2 : 1;
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = makeCheckpointCli(
    process.argv.slice(2),
    (s) => process.stdout.write(`${s}\n`),
    (s) => process.stderr.write(`${s}\n`),
  );
}
