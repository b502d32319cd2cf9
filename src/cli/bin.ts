#!/usr/bin/env node
/** Entry point of the installed `modc` binary. */
import { main } from './main.js';

// MODC_VERIFY=1 verifies the graph after every pass (the compiler core reads no environment; its default is off).
// The passes are imported only then, so a command that compiles nothing (run --plan) loads no compiler module.
if (process.env.MODC_VERIFY === '1') (await import('../passes/pass.js')).setVerifyByDefault(true);

/** Resolves once everything written to `stream` so far has reached the OS (a pipe may still hold it queued). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  // Writes complete in order: the callback of an empty write runs after every earlier write has been handed over.
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/**
 * Exits once stdout and stderr are flushed. Exiting explicitly matters: worker threads of a backend or of a
 * benchmark peer (onnxruntime-web, jax-js) would otherwise keep the process alive; exiting before the flush
 * would cut output to a pipe at the first 64 KiB.
 */
async function exit(code: number): Promise<never> {
  process.exitCode = code;
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

// A reader that goes away (`modc ir ... | head`) makes further writes fail with EPIPE: stop quietly, with the
// status a shell reports for a program ended by SIGPIPE, as C tools are.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(128 + 13);
    throw e;
  });
}

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (e: unknown) => {
    process.stderr.write(`modc: ${String(e)}\n`);
    return exit(1);
  },
);
