#!/usr/bin/env node
/** Entry point of the installed `modc` binary. */
import { main } from './main.js';

// Exit explicitly once the command is done: worker threads of a backend or of a benchmark peer
// (onnxruntime-web, jax-js) would otherwise keep the process alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`modc: ${String(e)}\n`);
    process.exit(1);
  },
);
