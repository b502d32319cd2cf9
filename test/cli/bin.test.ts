/**
 * The real `modc` binary as a child process: output through a slow pipe arrives whole (exiting while pipe writes
 * are queued used to cut it at 64 KiB), long errors too, a reader that goes away ends it quietly, and it still
 * exits when a backend's worker threads are running.
 */
import { jest } from '@jest/globals';
import { main } from '../../src/cli/main.js';
import { runBin } from '../helpers/modc-bin.js';

jest.setTimeout(120_000);

async function inProcess(...argv: string[]): Promise<string> {
  const out: string[] = [];
  await main(argv, (s) => out.push(`${s}\n`), () => undefined);
  return out.join('');
}

describe('modc binary output through pipes', () => {
  it('prints all of a 110 KB IR to a pipe read only after a pause', async () => {
    const want = await inProcess('ir', 'pmod-llava-1.5-7b');
    expect(want.length).toBeGreaterThan(100_000);
    const r = await runBin(['ir', 'pmod-llava-1.5-7b'], { readAfterMs: 700 });
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(Buffer.byteLength(want));
    expect(r.stdout.toString('utf8')).toBe(want);
  });

  it('prints all of a long error to stderr through a slow pipe', async () => {
    const name = `no-such-model-${'x'.repeat(100_000)}`;
    const r = await runBin(['report', name], { readAfterMs: 700 });
    expect(r.code).toBe(1);
    const err = r.stderr.toString('utf8');
    expect(err.length).toBeGreaterThan(100_000);
    expect(err).toContain(`unknown model '${name}'`);
    expect(err.endsWith('\n')).toBe(true);
  });

  it('exits after a run on the multi-threaded wasm backend, with the whole JSON', async () => {
    const r = await runBin(['run', 'tiny-pmod', '--json'], { readAfterMs: 300 });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout.toString('utf8')) as { backend: string; logitsShape: number[] };
    expect(j.backend).toBe('wasm');
    expect(j.logitsShape).toEqual([48, 256]);
  });

  it('stops quietly with status 141 when the reader closes the pipe', async () => {
    const r = await runBin(['ir', 'pmod-llava-1.5-7b'], { headBytes: 100 });
    expect(r.code).toBe(141);
    expect(r.stderr.toString('utf8')).toBe('');
  });
});
