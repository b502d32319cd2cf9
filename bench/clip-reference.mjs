// Times the vision side on the reference interpreter: image preprocessing and the CLIP ViT-L/14-336 tower
// (23 layers, LLaVA's select layer -2) with random f32 weights. Needs `npm run build` first.
//   node bench/clip-reference.mjs [--layers N]   (N = select layer counted from the start, default 23)
import { performance } from 'node:perf_hooks';
import { buildClipVisionTower, CLIP_VIT_L14_336, llavaImageCrops, zooModel } from '../dist/models/index.js';
import { interpret, randomWeights, sizeOf } from '../dist/src/index.js';

const arg = process.argv.indexOf('--layers');
const selectLayer = arg > 0 ? Number(process.argv[arg + 1]) : -2;
const ms = (t0) => `${(performance.now() - t0).toFixed(0)} ms`;

const image = { width: 1000, height: 500, data: new Uint8Array(1000 * 500 * 3).map((_, i) => (i * 37) % 251) };
let t0 = performance.now();
const next = llavaImageCrops(image, zooModel('llava-next-7b').vision);
console.log(`anyres preprocessing of a 1000x500 image (${next.crops.length} crops): ${ms(t0)}`);
t0 = performance.now();
const pad = llavaImageCrops(image, zooModel('llava-1.5-7b').vision);
console.log(`pad preprocessing of a 1000x500 image (1 crop): ${ms(t0)}`);

t0 = performance.now();
const graph = buildClipVisionTower(CLIP_VIT_L14_336, { selectLayer, weightDtype: 'f32' });
console.log(`build + verify graph (${graph.nodes.length} nodes): ${ms(t0)}`);
t0 = performance.now();
const weights = randomWeights(graph, 1);
const params = weights.names().reduce((a, n) => a + sizeOf(weights.get(n).shape), 0);
console.log(`random weights (${(params / 1e6).toFixed(1)} M parameters): ${ms(t0)}`);
t0 = performance.now();
const out = interpret(graph, { pixel_values: pad.crops[0] }, { weights });
const t = performance.now() - t0;
const f = out.image_features;
console.log(`reference interpreter, one 336x336 image -> [${f.shape.join(', ')}]: ${(t / 1000).toFixed(1)} s`);
