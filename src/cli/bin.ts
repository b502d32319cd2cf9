#!/usr/bin/env node
/** Entry point of the installed `modc` binary. */
import { main } from './main.js';

// MODC_VERIFY=1 verifies the graph after every pass (the compiler core reads no environment; its default is off).
// The passes are imported only then, so a command that compiles nothing (run --plan) loads no compiler module.
if (process.env.MODC_VERIFY === '1') (await import('../passes/pass.js')).setVerifyByDefault(true);

// Exit explicitly once the command is done: worker threads of a backend or of a benchmark peer
// (onnxruntime-web, jax-js) would otherwise keep the process alive.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`modc: ${String(e)}\n`);
    process.exit(1);
  },
);
