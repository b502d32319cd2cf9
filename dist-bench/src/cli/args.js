/** Argument parsing helpers for the `modc` subcommands (node:util parseArgs with typed, validated values). */
import { parseArgs } from 'node:util';
export class UsageError extends Error {
    name = 'UsageError';
}
export function parse(argv, options) {
    try {
        const r = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
        return { values: r.values, positionals: r.positionals };
    }
    catch (e) {
        throw new UsageError(e.message);
    }
}
export function intOpt(p, name, fallback, min = 0) {
    const v = p.values[name];
    if (v === undefined)
        return fallback;
    const n = Number(v);
    if (typeof v !== 'string' || !/^-?\d+$/.test(v) || n < min)
        throw new UsageError(`--${name} must be an integer >= ${min}, got '${String(v)}'`);
    return n;
}
export function strOpt(p, name) {
    const v = p.values[name];
    return typeof v === 'string' ? v : undefined;
}
export function choiceOpt(p, name, choices, fallback) {
    const v = p.values[name];
    if (v === undefined)
        return fallback;
    if (typeof v !== 'string' || !choices.includes(v))
        throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${String(v)}'`);
    return v;
}
export function flag(p, name) {
    return p.values[name] === true;
}
export function onePositional(p, what) {
    const [first, ...rest] = p.positionals;
    if (first === undefined)
        throw new UsageError(`missing ${what}`);
    if (rest.length)
        throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    return first;
}
