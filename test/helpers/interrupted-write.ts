/**
 * Child-process driver for the signal test of writeSafetensorsAsync: writes OUT, and while producing the second
 * tensor's bytes sends this process SIGNAL, as a user pressing Ctrl-C in the middle of `modc run --out` does.
 * Usage: node --import test/helpers/ts-loader/register.mjs test/helpers/interrupted-write.ts OUT SIGNAL
 */
import { makeTensor } from '../../src/ir/index.js';
import { tensorEntry, writeSafetensorsAsync } from '../../src/io/index.js';

const [out, signal] = process.argv.slice(2);
if (out === undefined || (signal !== 'SIGINT' && signal !== 'SIGTERM' && signal !== 'SIGHUP')) throw new Error('usage: interrupted-write.ts OUT SIGINT|SIGTERM|SIGHUP');
const big = 1 << 22;
await writeSafetensorsAsync(out, [
  tensorEntry('a', makeTensor('f32', [4], [1, 2, 3, 4])),
  {
    name: 'b',
    stDtype: 'U8',
    shape: [big],
    bytes: () => {
      process.kill(process.pid, signal);
      return new Uint8Array(big);
    },
  },
  tensorEntry('c', makeTensor('f32', [4], [5, 6, 7, 8])),
]);
process.stdout.write('the write finished although the process was signalled\n');
