/**
 * `npm run bench`: every benchmark, each engine measured in its own child process of the modc CLI (peers fix
 * their thread count once per process), results printed side by side and written as JSON.
 *   node dist/bench/run.js [--quick] [--out bench-results.json]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIdx = args.indexOf('--out');
const outFile = outIdx >= 0 ? args[outIdx + 1] : undefined;

function modc(argv: string[]): unknown {
  const text = execFileSync(process.execPath, [cli, ...argv, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(text) as unknown;
}

interface MatmulRow {
  engine: string;
  threads: number;
  m: number;
  k: number;
  n: number;
  gflops?: number;
  unavailable?: string;
}

const shapes: [number, number, number][] = quick ? [[256, 256, 256], [1024, 1024, 1024]] : [[256, 256, 256], [1024, 1024, 1024], [576, 4096, 4096]];
const results: MatmulRow[] = [];
for (const [m, k, n] of shapes)
  for (const threads of [1, 2]) {
    const r = modc(['bench', 'matmul', '--m', String(m), '--k', String(k), '--n', String(n), '--threads', String(threads)]) as { results: MatmulRow[] };
    results.push(...r.results);
  }

const lines: string[] = ['f32 matmul GFLOP/s (median of repeated runs; each line from one process)'];
for (const [m, k, n] of shapes)
  for (const threads of [1, 2]) {
    const rows = results.filter((r) => r.m === m && r.k === k && r.n === n && r.threads === threads);
    const ours = rows.find((r) => r.engine === 'modc-wasm')?.gflops ?? Number.NaN;
    const best = Math.max(...rows.filter((r) => r.engine !== 'modc-wasm' && r.gflops !== undefined).map((r) => r.gflops ?? 0));
    lines.push(`  ${`${m}x${k}x${n}`.padEnd(14)} ${threads}T  ` + rows.map((r) => `${r.engine} ${r.gflops !== undefined ? r.gflops.toFixed(1) : 'n/a'}`).join('  ') + `   modc/best peer ${(ours / best).toFixed(2)}x`);
    for (const r of rows) if (r.unavailable) lines.push(`      ${r.engine} unavailable: ${r.unavailable}`);
  }

const prefill = modc(['bench', 'prefill', ...(quick ? ['--layers', '4', '--repeat', '2'] : [])]) as { dense: { ms: number }; pmod: { ms: number }; flopRatio: number; timeRatio: number };
lines.push(`prefill: dense ${prefill.dense.ms.toFixed(0)} ms, p-MoD ${prefill.pmod.ms.toFixed(0)} ms, FLOP ratio ${prefill.flopRatio.toFixed(4)}, time ratio ${prefill.timeRatio.toFixed(4)} (${(prefill.timeRatio / prefill.flopRatio).toFixed(3)}x)`);

const decode = modc(['bench', 'decode', ...(quick ? ['--layers', '4', '--tokens', '8'] : [])]) as { dense: { msPerToken: number }; pmod: { msPerToken: number }; timeRatio: number };
lines.push(`decode: dense ${decode.dense.msPerToken.toFixed(1)} ms/token, p-MoD ${decode.pmod.msPerToken.toFixed(1)} ms/token, time ratio ${decode.timeRatio.toFixed(3)}`);

const layer = modc(['bench', 'layer']) as { results: Record<string, { ms?: number; unavailable?: string }>; onnxVsModcMaxAbsDiff?: number };
lines.push('one decoder layer:');
for (const [name, r] of Object.entries(layer.results)) lines.push(`  ${name.padEnd(40)} ${r.ms !== undefined ? `${r.ms.toFixed(1)} ms` : `unavailable: ${r.unavailable ?? ''}`}`);
if (layer.onnxVsModcMaxAbsDiff !== undefined) lines.push(`  (ONNX layer vs modc layer: max |difference| ${layer.onnxVsModcMaxAbsDiff.toExponential(2)})`);

process.stdout.write(`${lines.join('\n')}\n`);
if (outFile) writeFileSync(outFile, JSON.stringify({ matmul: results, prefill, decode, layer }, null, 2));
