#!/usr/bin/env node
/** Entry point of the installed `modc` binary. */
import { setVerifyByDefault } from '../passes/pass.js';
import { main } from './main.js';

setVerifyByDefault(process.env.MODC_VERIFY === '1');

// Exit explicitly once the command is done: worker threads of a backend or of a benchmark peer
// (onnxruntime-web, jax-js) would otherwise keep the process alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`modc: ${String(e)}\n`);
    process.exit(1);
  },
);
