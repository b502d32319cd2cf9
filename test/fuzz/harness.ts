/**
 * The fuzzing harness shared by every input format: each case either reads (and the result is checked by the
 * target) or fails with the target's error type and a message that names the file and a field, line or byte
 * offset; anything else (another exception, an unlocated message, a case over its time or memory budget) fails
 * the property with the shrunk case.
 */
import { rmSync } from 'node:fs';
import fc from 'fast-check';

export interface FuzzTarget<C> {
  readonly name: string;
  readonly cases: fc.Arbitrary<C>;
  /** The error classes a refusal may be. */
  readonly errors: readonly (abstract new (...args: never[]) => Error)[];
  /** Runs one case in `dir` (a fresh directory); returns normally when the input was read and checked. */
  run(c: C, dir: string): void | Promise<void>;
  /** The file the case's messages must name. */
  file(c: C, dir: string): string;
  /** Whether a message names a field, line or offset (besides the file). */
  located(message: string): boolean;
}

export interface FuzzOptions {
  readonly numRuns: number;
  readonly seed?: number;
  /** Most milliseconds one case may take (default 3000). */
  readonly maxMs?: number;
  /** Most megabytes the resident set may grow during one case (default 512): a bomb would take gigabytes. */
  readonly maxGrowthMb?: number;
  /** A fresh directory per case; the harness removes it after the case, so a long run does not fill the disk. */
  readonly dir: () => string;
}

export interface FuzzOutcomes {
  read: number;
  refused: number;
}

/** Where an error message says the problem is: a byte offset, a line and column, a named field or tensor. */
export const LOCATION = /byte (offset )?\d+|line \d+, column \d+|field '[^']+'|tensor '[^']*'|\b[a-z_]+(\.[a-z_]+|\[\d+\])+|'[a-z_]+'|the top-level value/;

function check<C>(t: FuzzTarget<C>, c: C, dir: string, e: unknown): void {
  const err = e instanceof Error && t.errors.some((E) => e instanceof E) ? e : undefined;
  if (err === undefined) throw new Error(`${t.name}: expected ${t.errors.map((E) => E.name).join(' or ')}, got ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)}`);
  const file = t.file(c, dir);
  if (!err.message.includes(file)) throw new Error(`${t.name}: the message does not name ${file}: ${err.message}`);
  if (!t.located(err.message.replace(file, ''))) throw new Error(`${t.name}: the message names no field, line or offset: ${err.message}`);
}

/** Runs the property; returns how many cases read and how many were refused. */
export async function fuzz<C>(t: FuzzTarget<C>, o: FuzzOptions): Promise<FuzzOutcomes> {
  const outcomes: FuzzOutcomes = { read: 0, refused: 0 };
  const maxMs = o.maxMs ?? 3000;
  const maxGrowth = (o.maxGrowthMb ?? 512) * 2 ** 20;
  await fc.assert(
    fc.asyncProperty(t.cases, async (c) => {
      const dir = o.dir();
      const rss = process.memoryUsage.rss();
      const t0 = performance.now();
      try {
        try {
          await t.run(c, dir);
          outcomes.read++;
        } catch (e) {
          check(t, c, dir, e);
          outcomes.refused++;
        }
        const ms = performance.now() - t0;
        if (ms > maxMs) throw new Error(`${t.name}: one case took ${ms.toFixed(0)} ms (budget ${maxMs} ms)`);
        const growth = process.memoryUsage.rss() - rss;
        if (growth > maxGrowth) throw new Error(`${t.name}: one case grew the process by ${(growth / 2 ** 20).toFixed(0)} MB (budget ${o.maxGrowthMb ?? 512} MB)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: o.numRuns, ...(o.seed !== undefined ? { seed: o.seed } : {}) },
  );
  return outcomes;
}

/** Byte-level corruptions of a text or binary file: flips, truncation, insertions, overwrites. */
export type Corruption =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly text: string }
  | { readonly kind: 'overwrite'; readonly at: number; readonly text: string };

/** Fragments that stress parsers: brackets, quotes, huge and negative numbers, deep nesting. */
export const NASTY = ['{', '}', '[', ']', '"', ',', ':', '-1', '0', '1e400', '99999999999', 'null', '"\\u0000"', '['.repeat(5000), '{"a":'.repeat(3000), '\\', '%', '#', '(', ')'] as const;

export const corruptions: fc.Arbitrary<Corruption[]> = fc.array(
  fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(...NASTY)) }),
    fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom(...NASTY)) }),
  ),
  { minLength: 1, maxLength: 3 },
);

/** Applies the corruptions to `bytes`; positions wrap around the current length. */
export function corrupt(bytes: Uint8Array, cs: readonly Corruption[]): Uint8Array {
  let b = Uint8Array.from(bytes);
  for (const c of cs) {
    const at = c.at % (b.length + 1);
    if (c.kind === 'flip') {
      if (at < b.length) b[at] = (b[at] ?? 0) ^ (1 << c.bit);
    } else if (c.kind === 'truncate') b = b.slice(0, at);
    else {
      const text = new TextEncoder().encode(c.text);
      const tail = c.kind === 'insert' ? b.subarray(at) : b.subarray(Math.min(b.length, at + text.length));
      const nb = new Uint8Array(at + text.length + tail.length);
      nb.set(b.subarray(0, at));
      nb.set(text, at);
      nb.set(tail, at + text.length);
      b = nb;
    }
  }
  return b;
}
