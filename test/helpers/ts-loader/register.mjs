// Runs modc's TypeScript sources directly in a child `node` (for tests of the real `modc` binary without a
// build): `node --import ./test/helpers/ts-loader/register.mjs src/cli/bin.ts ...`.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
