/**
 * Compile-time benchmark: the whole p-MoD-LLaVA-NeXT-7B (and LLaVA-1.5-7B) graph through the full pipeline,
 * specialised at the paper's token counts. Prints per-pass medians over repeated runs, and the total.
 * Run: npm run bench:compile
 */
import { buildLanguageModel, zooModel } from '../models/index.js';
import { median } from '../src/cli/bench-util.js';
import { pipeline, runPasses } from '../src/passes/index.js';

const REPEATS = Number(process.env.REPEATS ?? 9);


interface Row {
  model: string;
  buildMs: number;
  pipelineMs: number;
  passes: Record<string, number>;
  nodesBefore: number;
  nodesAfter: number;
}

function bench(model: 'pmod-llava-next-7b' | 'pmod-llava-1.5-7b', nv: number): Row {
  const builds: number[] = [];
  const totals: number[] = [];
  const perPass = new Map<string, number[]>();
  let nodesBefore = 0;
  let nodesAfter = 0;
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const g = buildLanguageModel(zooModel(model), { exportKV: true, exportRouting: true });
    const t1 = performance.now();
    // A fresh binding object each time: the specialisation cache is keyed by graph identity, which is new anyway.
    let step = 0;
    const out = runPasses(g, pipeline('full', { bindings: { N_v: nv } }), {
      // Keyed by position: a pass that runs twice (cse) is reported twice.
      onPass: (p, _g, ms) => {
        const key = `${String(++step).padStart(2, '0')} ${p.name}`;
        perPass.set(key, [...(perPass.get(key) ?? []), ms]);
      },
    });
    totals.push(performance.now() - t1);
    builds.push(t1 - t0);
    nodesBefore = g.nodes.length;
    nodesAfter = out.nodes.length;
  }
  return {
    model,
    buildMs: median(builds),
    pipelineMs: median(totals),
    passes: Object.fromEntries([...perPass.entries()].map(([k, v]) => [k, median(v)])),
    nodesBefore,
    nodesAfter,
  };
}

const rows = [bench('pmod-llava-next-7b', 2880), bench('pmod-llava-1.5-7b', 576)];
if (process.argv.includes('--json')) console.log(JSON.stringify({ repeats: REPEATS, results: rows }, null, 2));
else {
  for (const r of rows) {
    console.log(`${r.model}: build ${r.buildMs.toFixed(1)} ms, full pipeline ${r.pipelineMs.toFixed(1)} ms (median of ${REPEATS}); ${r.nodesBefore} -> ${r.nodesAfter} top-level nodes`);
    for (const [p, ms] of Object.entries(r.passes)) console.log(`  ${p.padEnd(18)} ${ms.toFixed(2)} ms`);
  }
}
