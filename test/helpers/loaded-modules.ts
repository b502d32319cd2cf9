/**
 * Runs `modc ARGS` in this process and prints, as JSON, its exit code and every file module resolved while it
 * ran (a module resolve hook reports them): what a command really loads. Started by runBin({ script }).
 */
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const seen: string[] = [];
port1.on('message', (url: string) => seen.push(url));
const hooks = `export async function initialize({ port }) { globalThis.__modcPort = port; }
export async function resolve(specifier, context, next) { const r = await next(specifier, context); globalThis.__modcPort.postMessage(r.url); return r; }`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { port: port2 }, transferList: [port2] });

const { main } = await import('../../src/cli/main.js');
const code = await main(process.argv.slice(2), () => undefined, (s) => process.stderr.write(`${s}\n`));
// The hook's messages cross threads: let the last ones arrive.
await new Promise((r) => setTimeout(r, 100));
port1.close();
process.stdout.write(JSON.stringify({ code, modules: seen.filter((u) => u.startsWith('file:')) }));
process.exit(0);
