#!/usr/bin/env node
/** Entry point of the installed `modc` binary. */
import { main } from './main.js';
main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
}, (e) => {
    process.stderr.write(`modc: ${String(e)}\n`);
    process.exitCode = 1;
});
