/** Argument parsing helpers for the `modc` subcommands (node:util parseArgs with typed, validated values). */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export function parse(argv: readonly string[], options: Options): Parsed {
  try {
    const r = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function intOpt(p: Parsed, name: string, fallback: number, min = 0): number {
  const v = p.values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^-?\d+$/.test(v) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(v)}'`);
  return n;
}

export function floatOpt(p: Parsed, name: string, fallback: number): number {
  const v = strOpt(p, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got '${v}'`);
  return n;
}

/**
 * Refuses options that do not apply instead of ignoring them: with `refused`, the given ones of `names`; without,
 * every given option not in `names` (the ones that apply). `why` says, per option, what to do instead.
 */
export function refuseOptions(p: Parsed, names: readonly string[], context: string, refused: boolean, why: Readonly<Record<string, string>> = {}): void {
  const given = Object.keys(p.values).filter((k) => k !== 'help' && p.values[k] !== undefined && names.includes(k) === refused);
  if (given.length === 0) return;
  const parts = given.map((k) => `--${k}${why[k] !== undefined ? ` (${why[k]})` : ''}`);
  throw new UsageError(`${parts.join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply ${context}`);
}

export function strOpt(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function choiceOpt<T extends string>(p: Parsed, name: string, choices: readonly T[], fallback: T): T {
  const v = p.values[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(v)}'`);
  return v as T;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function onePositional(p: Parsed, what: string): string {
  const [first, ...rest] = p.positionals;
  if (first === undefined) throw new UsageError(`missing ${what}`);
  if (rest.length) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  return first;
}
